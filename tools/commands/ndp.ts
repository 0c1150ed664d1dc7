/**
 * `ffnet ndp -a`: the stack's IPv6 neighbour cache (Neighbor Discovery) in FreeBSD ndp -an's layout,
 * with the packets each entry holds while it resolves.
 */
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

export const ndp: Command = {
  name: 'ndp',
  summary: "show the stack's IPv6 neighbour cache (Neighbor Discovery)",
  usage: `ffnet ndp -a [-n] [-i portN]

  -a            every entry: address, MAC, port, when it expires, state (R reachable, I incomplete,
                U unreachable), R flag for routers, packets held while it resolves
  -n            numeric addresses (always: accepted for FreeBSD's ndp -an)`,
  options: {
    all: { type: 'boolean', short: 'a' },
    numeric: { type: 'boolean', short: 'n' },
    interface: { type: 'string', short: 'i' },
  },
  allowPositionals: false,
  async run(ctx) {
    if (!ctx.values.all) throw new ToolError('give -a', 2);
    const iface = ctx.values.interface;
    const port = typeof iface === 'string' ? portId(iface) : undefined;
    const client = await ctx.connect();
    let entries = await client.request<NdpEntry[]>('ndp.list');
    if (port !== undefined) entries = entries.filter((e) => e.port === port);
    if (ctx.json) ctx.out(JSON.stringify(entries));
    else ctx.out([HEADER, ...entries.map(formatEntry)].join('\n'));
    return 0;
  },
};
