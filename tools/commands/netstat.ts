/**
 * `ffnet netstat`: the stack's counters, sockets and interfaces, in the layout of FreeBSD's netstat.
 *
 *   ffnet netstat -s             every counter of every layer, drop reasons included, by protocol
 *   ffnet netstat -a             the open UDP sockets: addresses, queues, owner thread, home lcore
 *   ffnet netstat -i             the ports: MTU, address, packets, errors, drops
 *   ffnet netstat -w SECONDS     rates per second every SECONDS (-q N: stop after N lines)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CtlClient } from '../client.js';
import { ToolError, type Command, type CommandContext } from '../command.js';
import { byLayer, type StatsReply } from '../counters.js';
import { rate, table } from '../format.js';
import { counterRates } from '../rates.js';

/** An open socket (the `sockets` reply). */
export interface SocketEntry {
  fd: number;
  proto: string;
  local: string;
  lport: number;
  remote: string | null;
  rport: number;
  rx_queue: number;
  rx_bytes: number;
  rcvbuf: number;
  tx_queue: number;
  owner: { tid: number; thread: string };
  lcore: number;
  reuseport: boolean;
  drops: number;
}

/** A port as `ifconfig` (or, on a stack without it, `ports`) describes it. */
export interface PortEntry {
  index: number;
  name: string;
  port_id: number;
  mac: string;
  inet: string;
  prefixlen: number;
  mtu: number;
  stats: { ipackets: number; opackets: number; ibytes: number; obytes: number; ierrors: number; oerrors: number; imissed: number; rx_nombuf: number };
}

/** The ports: `ifconfig` where the stack has it, else `ports` (the same fields). */
export async function portEntries(client: CtlClient): Promise<PortEntry[]> {
  try {
    return await client.request<PortEntry[]>('ifconfig');
  } catch (err) {
    if (err instanceof ToolError && err.code === 'ENOENT' && /unknown command/.test(err.message)) return client.request<PortEntry[]>('ports');
    throw err;
  }
}

function protoStats(ctx: CommandContext, s: StatsReply): void {
  if (ctx.json) {
    ctx.out(JSON.stringify({ counters: s.counters, lcores: s.lcores }));
    return;
  }
  const lines: string[] = [];
  for (const [layer, entries] of byLayer(s.counters)) {
    lines.push(`${layer}:`);
    for (const [name, value] of entries) lines.push(`\t${value} ${s.docs?.[name] ?? name} [${name}]`);
  }
  ctx.out(lines.join('\n'));
}

function addr(a: string | null, port: number): string {
  return `${a === null || a === '0.0.0.0' || a === '::' ? '*' : a}.${a === null && port === 0 ? '*' : port}`;
}

function sockets(ctx: CommandContext, list: SocketEntry[]): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(list));
    return;
  }
  ctx.out('Active Internet connections (including servers)');
  ctx.out(table(
    ['Proto', 'Recv-Q', 'Send-Q', 'Local Address', 'Foreign Address', 'Rcvbuf', 'Drops', 'Lcore', 'Owner'],
    list.map((s) => [
      s.proto, s.rx_queue, s.tx_queue, addr(s.local, s.lport), addr(s.remote, s.rport),
      `${s.rx_bytes}/${s.rcvbuf}`, s.drops, s.lcore, `${s.owner.tid}/${s.owner.thread}${s.reuseport ? ' reuseport' : ''}`,
    ]),
    { align: ['left', 'right', 'right', 'left', 'left', 'right', 'right', 'right', 'left'] },
  ));
}

function interfaces(ctx: CommandContext, ports: PortEntry[]): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(ports));
    return;
  }
  const rows: Array<Array<string | number>> = [];
  for (const p of ports) {
    const st = p.stats;
    rows.push([`port${p.port_id}`, p.mtu, '<Link>', p.mac, st.ipackets, st.ierrors, st.imissed + st.rx_nombuf, st.opackets, st.oerrors]);
    rows.push([`port${p.port_id}`, '-', `${network(p.inet, p.prefixlen)}/${p.prefixlen}`, p.inet, st.ipackets, '-', '-', st.opackets, '-']);
  }
  ctx.out(table(['Name', 'Mtu', 'Network', 'Address', 'Ipkts', 'Ierrs', 'Idrop', 'Opkts', 'Oerrs'], rows,
    { align: ['left', 'right', 'left', 'left', 'right', 'right', 'right', 'right', 'right'] }));
}

/** The network part of `a` (dotted quad) for a prefix of `len` bits. */
function network(a: string, len: number): string {
  const n = a.split('.').reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const net = (n & mask) >>> 0;
  return [24, 16, 8, 0].map((s) => (net >>> s) & 0xff).join('.');
}

/** One interval's rates per second (netstat -w, --json). */
export interface RateLine {
  seconds: number;
  eth_rx: number;
  eth_tx: number;
  udp_rx: number;
  udp_delivered: number;
  udp_tx: number;
  drops: number;
}

function rateLine(a: StatsReply, b: StatsReply): RateLine {
  const secs = (b.now_ns - a.now_ns) / 1e9;
  const r = counterRates(a.counters, b.counters, secs);
  return {
    seconds: Math.round(secs * 1000) / 1000,
    eth_rx: r.per('eth.rx'),
    eth_tx: r.per('eth.tx'),
    udp_rx: r.per('udp.rx'),
    udp_delivered: r.per('udp.delivered'),
    udp_tx: r.per('udp.tx'),
    drops: r.drops,
  };
}

async function watch(ctx: CommandContext, client: CtlClient, seconds: number, count: number | undefined): Promise<void> {
  const header = ['frames-in/s', 'frames-out/s', 'udp-in/s', 'delivered/s', 'udp-out/s', 'drops/s'];
  let prev = await client.request<StatsReply>('stats');
  for (let i = 0; count === undefined || i < count; i++) {
    await sleep(seconds * 1000);
    const next = await client.request<StatsReply>('stats');
    const r = rateLine(prev, next);
    prev = next;
    if (ctx.json) {
      ctx.out(JSON.stringify(r));
      continue;
    }
    const row = [r.eth_rx, r.eth_tx, r.udp_rx, r.udp_delivered, r.udp_tx, r.drops].map(rate);
    // Lines appear one interval apart, so columns have the header's widths (a table cannot wait for
    // its widest cell); FreeBSD repeats the header every screenful, here every 20 lines.
    const line = (cells: string[]) => cells.map((c, k) => c.padStart(header[k]!.length + 2)).join('');
    if (i % 20 === 0) ctx.out(line(header));
    ctx.out(line(row));
  }
}

function positiveNumber(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ToolError(`${what}: '${String(v)}' is not a positive number`, 2);
  return n;
}

export const netstat: Command = {
  name: 'netstat',
  summary: 'counters by protocol (-s), sockets (-a), interfaces (-i), rates (-w SECONDS)',
  usage: `ffnet netstat [-p PID] [--json] -s | -a | -i | -w SECONDS [-q COUNT]

  -s            every counter of the stack, by protocol, drop reasons included (summed over lcores)
  -a            the open UDP sockets: local and foreign address, receive and send queues (datagrams),
                receive buffer use (bytes used/SO_RCVBUF), datagrams dropped for a full buffer, home
                lcore, and the thread that opened it (tid/name)
  -i            the ports: MTU, network, address, packets, errors and drops (device counters)
  -w SECONDS    every SECONDS, frames, UDP datagrams and drops per second; -q COUNT stops after
                COUNT lines (runs until interrupted otherwise)`,
  options: {
    stats: { type: 'boolean', short: 's' },
    all: { type: 'boolean', short: 'a' },
    interfaces: { type: 'boolean', short: 'i' },
    wait: { type: 'string', short: 'w' },
    count: { type: 'string', short: 'q' },
  },
  async run(ctx) {
    const modes = ['stats', 'all', 'interfaces', 'wait'].filter((m) => ctx.values[m] !== undefined && ctx.values[m] !== false);
    if (modes.length !== 1) throw new ToolError('choose one of -s, -a, -i or -w SECONDS (ffnet netstat --help)', 2);
    const seconds = positiveNumber(ctx.values.wait, '-w');
    const count = positiveNumber(ctx.values.count, '-q');
    if (count !== undefined && !Number.isInteger(count)) throw new ToolError(`-q: '${String(ctx.values.count)}' is not a whole number`, 2);
    const client = await ctx.connect();
    if (ctx.values.stats) protoStats(ctx, await client.request<StatsReply>('stats', { docs: 1 }));
    else if (ctx.values.all) sockets(ctx, await client.request<SocketEntry[]>('sockets'));
    else if (ctx.values.interfaces) interfaces(ctx, await portEntries(client));
    else await watch(ctx, client, seconds!, count);
    return 0;
  },
};
