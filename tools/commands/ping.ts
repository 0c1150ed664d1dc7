/**
 * `ffnet ping [-c N] [-s SIZE] [-i INTERVAL] [-t TTL] [-W MS] HOST`: ICMP echo requests sent by the
 * stack itself (not the kernel), one `ping` request each, printed as FreeBSD ping(8) prints them,
 * with its statistics at the end. Bounded: 4 requests unless -c says otherwise (on a terminal, until
 * interrupted, as ping users expect there). An IPv6 HOST (fe80::1%port0 for a link-local one) is
 * pinged over ICMPv6.
 */
import { isIPv6Literal } from '../../posix/ipv6.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ToolError, type Command } from '../command.js';
import { resolveHost } from './host.js';

/** One reply as the `ping` request returns it (stack/ctl/iface_cmds.c). */
export interface PingReply {
  from: string;
  bytes: number;
  seq: number;
  ttl: number;
  rtt_us: number | null;
}

/** The summary lines of ping(8) over the round-trip times (ms) of the replies. */
export function summary(host: string, sent: number, rtts: number[], received: number): string[] {
  const loss = sent ? ((sent - received) * 100) / sent : 0;
  const lines = [`--- ${host} ping statistics ---`,
    `${sent} packets transmitted, ${received} packets received, ${loss.toFixed(1)}% packet loss`];
  if (rtts.length) {
    const min = Math.min(...rtts), max = Math.max(...rtts);
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const sd = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / rtts.length);
    lines.push(`round-trip min/avg/max/stddev = ${[min, avg, max, sd].map((v) => v.toFixed(3)).join('/')} ms`);
  }
  return lines;
}

function intArg(v: unknown, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < min || n > max) {
    throw new ToolError(`${name} ${String(v)} is out of range (${min}..${max})`);
  }
  return n;
}

export const ping: Command = {
  name: 'ping',
  summary: 'send ICMP echo requests from the stack',
  usage: `ffnet ping [-c COUNT] [-s SIZE] [-i INTERVAL] [-t TTL] [-W WAITMS] HOST

Echo requests leave from the stack's port (its address, routes and ARP), one every INTERVAL
seconds (default 1), each waiting WAITMS (default 1000) for its reply. COUNT defaults to 4 (on a
terminal: until interrupted). SIZE is the payload (default 56). Exits 1 when no reply came.
HOST is an IPv4 address or a name in /etc/hosts.`,
  options: {
    count: { type: 'string', short: 'c' },
    size: { type: 'string', short: 's' },
    interval: { type: 'string', short: 'i' },
    ttl: { type: 'string', short: 't' },
    wait: { type: 'string', short: 'W' },
  },
  allowPositionals: true,
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw new ToolError('give one HOST', 2);
    const host = ctx.positionals[0]!;
    const count = intArg(ctx.values.count, 'count', 1, 1_000_000, process.stdout.isTTY ? Infinity : 4);
    // An IPv6 literal, with %portN for a link-local one, is pinged over ICMPv6 (FreeBSD's ping -6).
    const v6 = isIPv6Literal(host);
    const size = intArg(ctx.values.size, 'size', 0, v6 ? 65527 : 65507, 56);
    const ttl = ctx.values.ttl === undefined ? undefined : intArg(ctx.values.ttl, 'ttl', 1, 255, 64);
    const wait = intArg(ctx.values.wait, 'wait', 1, 60000, 1000);
    const interval = ctx.values.interval === undefined ? 1 : Number(ctx.values.interval);
    if (!Number.isFinite(interval) || interval < 0.01 || interval > 3600) {
      throw new ToolError(`interval ${String(ctx.values.interval)} is out of range (0.01..3600 seconds)`);
    }
    const addr = v6 ? host : resolveHost(host);
    const client = await ctx.connect();
    let stop = false;
    const onInt = () => { stop = true; };
    process.once('SIGINT', onInt);
    const replies: PingReply[] = [];
    let sent = 0;
    if (!ctx.json) ctx.out(`PING ${host} (${addr}): ${size} data bytes`);
    const start = Date.now();
    try {
      for (let seq = 0; seq < count && !stop; seq++) {
        const began = Date.now();
        sent++;
        try {
          const r = await client.request<PingReply>('ping', { addr, seq: seq % 65536, size, timeout_ms: wait, ttl }, wait + 1000);
          replies.push(r);
          const time = r.rtt_us === null ? '' : ` time=${(r.rtt_us / 1000).toFixed(3)} ms`;
          if (!ctx.json) ctx.out(`${r.bytes + 8} bytes from ${r.from}: icmp_seq=${r.seq} ${v6 ? 'hlim' : 'ttl'}=${r.ttl}${time}`);
        } catch (e) {
          const code = e instanceof ToolError ? e.code : undefined;
          if (code !== 'ETIMEDOUT' && code !== 'EHOSTDOWN') throw e;
          if (!ctx.json) ctx.out(`Request timeout for icmp_seq ${seq}`);
        }
        const left = interval * 1000 - (Date.now() - began);
        if (seq + 1 < count && left > 0 && !stop) await sleep(left);
      }
    } finally {
      process.removeListener('SIGINT', onInt);
    }
    const rtts = replies.filter((r) => r.rtt_us !== null).map((r) => r.rtt_us! / 1000);
    if (ctx.json) {
      ctx.out(JSON.stringify({ host, addr, transmitted: sent, received: replies.length, time_ms: Date.now() - start, replies }));
    } else {
      ctx.out('');
      for (const l of summary(host, sent, rtts, replies.length)) ctx.out(l);
    }
    return replies.length > 0 ? 0 : 1;
  },
};
