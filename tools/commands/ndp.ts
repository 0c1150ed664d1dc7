/**
 * `ffnet ndp -a | -s ADDR MAC | -d ADDR`: the stack's IPv6 neighbour cache (Neighbor Discovery) in
 * FreeBSD ndp -an's layout, with the packets each entry holds while it resolves, and permanent
 * entries added and deleted.
 */
import { isIPv6 } from 'node:net';
import { ToolError, type Command } from '../command.js';
import { portId } from './host.js';

/** One entry as `ndp.list` returns it (stack/ctl/iface_cmds.c). */
export interface NdpEntry {
  port: number;
  addr: string;
  router: boolean;
  mac: string | null;
  state: 'incomplete' | 'reachable' | 'failed' | 'permanent';
  expires_s: number;
  held_packets: number;
  held_bytes: number;
}

/** FreeBSD's expiry column: 23h59m58s, 5m3s, 12s. */
function duration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s % 60}s`;
}

/** FreeBSD ndp's state letters: R reachable, I incomplete; a failed entry shows as U (unreachable). */
const STATE_LETTER: Record<NdpEntry['state'], string> = { reachable: 'R', permanent: 'R', incomplete: 'I', failed: 'U' };

export const HEADER = `${'Neighbor'.padEnd(40)} ${'Linklayer Address'.padEnd(17)} ${'Netif'.padStart(6)} ${'Expire'.padEnd(10)} S Flags`;

/** One line of `ndp -an`. */
export function formatEntry(e: NdpEntry): string {
  const mac = e.mac ?? '(incomplete)';
  const expire = e.state === 'permanent' ? 'permanent' : e.state === 'incomplete' ? 'resolving' : e.expires_s > 0 ? duration(e.expires_s) : 'expired';
  const flags = e.router ? 'R' : '';
  const held = e.held_packets > 0 ? ` holding ${e.held_packets} packet${e.held_packets === 1 ? '' : 's'} (${e.held_bytes} bytes)` : '';
  return `${e.addr.padEnd(40)} ${mac.padEnd(17)} ${`port${e.port}`.padStart(6)} ${expire.padEnd(10)} ${STATE_LETTER[e.state]} ${flags}${held}`.trimEnd();
}

/**
 * ADDR of -s and -d: an IPv6 address, with an optional %portN scope (as `ndp -a` and ping write a
 * link-local one) naming the port as -i does. Returns the address and the port, if named.
 */
function neighbourArg(text: string, iface: number | undefined): { addr: string; port: number | undefined } {
  const pct = text.indexOf('%');
  const addr = pct < 0 ? text : text.slice(0, pct);
  if (!isIPv6(addr)) throw new ToolError(`bad address '${text}' (an IPv6 address, e.g. 2001:db8::9 or fe80::9%port0)`);
  const scope = pct < 0 ? undefined : portId(text.slice(pct + 1));
  if (scope !== undefined && iface !== undefined && scope !== iface) {
    throw new ToolError(`${text} is scoped to port${scope}, but -i names port${iface}`);
  }
  return { addr, port: scope ?? iface };
}

export const ndp: Command = {
  name: 'ndp',
  summary: "show the stack's IPv6 neighbour cache (Neighbor Discovery), add or delete permanent entries",
  usage: `ffnet ndp -a [-n] [-i portN] | -s ADDR MAC [-i portN] | -d ADDR [-i portN]

  -a            every entry: address, MAC, port, when it expires, state (R reachable, I incomplete,
                U unreachable), R flag for routers, packets held while it resolves
  -n            numeric addresses (always: accepted for FreeBSD's ndp -an)
  -s ADDR MAC   a permanent entry (ADDR link-local or on a prefix of a port; -i picks the port)
  -d ADDR       deletes the entry (on every port, or the one -i names)
ADDR is an IPv6 address; fe80::9%port0 names the port as -i port0 does.`,
  options: {
    all: { type: 'boolean', short: 'a' },
    numeric: { type: 'boolean', short: 'n' },
    set: { type: 'boolean', short: 's' },
    delete: { type: 'boolean', short: 'd' },
    interface: { type: 'string', short: 'i' },
  },
  allowPositionals: true,
  async run(ctx) {
    const { all, set, delete: del } = ctx.values;
    const modes = [all, set, del].filter(Boolean).length;
    if (modes !== 1) throw new ToolError('give one of -a, -s ADDR MAC, -d ADDR', 2);
    const iface = ctx.values.interface;
    const port = typeof iface === 'string' ? portId(iface) : undefined;
    const want = all ? 0 : set ? 2 : 1;
    if (ctx.positionals.length !== want) {
      throw new ToolError(all ? '-a takes no ADDR' : set ? '-s needs ADDR and MAC' : '-d needs ADDR', 2);
    }
    if (all) {
      const client = await ctx.connect();
      let entries = await client.request<NdpEntry[]>('ndp.list');
      if (port !== undefined) entries = entries.filter((e) => e.port === port);
      if (ctx.json) ctx.out(JSON.stringify(entries));
      else ctx.out([HEADER, ...entries.map(formatEntry)].join('\n'));
      return 0;
    }
    const target = neighbourArg(ctx.positionals[0]!, port);
    const client = await ctx.connect();
    if (set) {
      const mac = ctx.positionals[1]!;
      const r = await client.request<NdpEntry>('ndp.add', { addr: target.addr, mac, port: target.port });
      if (ctx.json) ctx.out(JSON.stringify(r));
      return 0;
    }
    const r = await client.request<{ addr: string; removed: number }>('ndp.del', { addr: target.addr, port: target.port });
    if (ctx.json) ctx.out(JSON.stringify(r));
    else ctx.out(`${ctx.positionals[0]} (${r.addr}) deleted`);
    return 0;
  },
};
