/**
 * `ffnet arp -a | -s HOST MAC | -d HOST`: the stack's neighbour cache in FreeBSD arp -a's layout
 * (with the packets each entry holds while it resolves), and permanent entries added and deleted.
 */
import { ToolError, type Command } from '../command.js';
import { portId, resolveHost } from './host.js';

/** One entry as `arp.list` returns it (stack/ctl/iface_cmds.c). */
export interface ArpEntry {
  port: number;
  addr: string;
  mac: string | null;
  state: 'incomplete' | 'reachable' | 'failed' | 'permanent';
  expires_s: number;
  held_packets: number;
  held_bytes: number;
}

/** One line of FreeBSD `arp -an`: `? (10.0.0.2) at 02:.. on port0 expires in 1185 seconds [ethernet]`. */
export function formatEntry(e: ArpEntry): string {
  const at = e.mac ?? (e.state === 'failed' ? '(failed)' : '(incomplete)');
  const when =
    e.state === 'permanent' ? 'permanent'
    : e.state === 'incomplete' ? 'resolving'
    : e.expires_s > 0 ? `expires in ${e.expires_s} seconds`
    : 'expired';
  const held = e.held_packets > 0 ? ` holding ${e.held_packets} packet${e.held_packets === 1 ? '' : 's'} (${e.held_bytes} bytes)` : '';
  return `? (${e.addr}) at ${at} on port${e.port} ${when}${held} [ethernet]`;
}

export const arp: Command = {
  name: 'arp',
  summary: "show the stack's ARP cache, add or delete permanent entries",
  usage: `ffnet arp -a [-i portN] | -s HOST MAC [-i portN] | -d HOST [-i portN]

  -a            every entry: address, MAC, port, when it expires, packets held while it resolves
  -s HOST MAC   a permanent entry (HOST on a port's subnet; -i picks the port)
  -d HOST       deletes the entry (on every port, or the one -i names)
HOST is an IPv4 address or a name in /etc/hosts.`,
  options: {
    all: { type: 'boolean', short: 'a' },
    set: { type: 'boolean', short: 's' },
    delete: { type: 'boolean', short: 'd' },
    interface: { type: 'string', short: 'i' },
  },
  allowPositionals: true,
  async run(ctx) {
    const { all, set, delete: del } = ctx.values;
    const modes = [all, set, del].filter(Boolean).length;
    if (modes !== 1) throw new ToolError('give one of -a, -s HOST MAC, -d HOST', 2);
    const iface = ctx.values.interface;
    const port = typeof iface === 'string' ? portId(iface) : undefined;
    const want = all ? 0 : set ? 2 : 1;
    if (ctx.positionals.length !== want) {
      throw new ToolError(all ? '-a takes no HOST' : set ? '-s needs HOST and MAC' : '-d needs HOST', 2);
    }
    if (all) {
      const client = await ctx.connect();
      let entries = await client.request<ArpEntry[]>('arp.list');
      if (port !== undefined) entries = entries.filter((e) => e.port === port);
      if (ctx.json) ctx.out(JSON.stringify(entries));
      else if (entries.length) ctx.out(entries.map(formatEntry).join('\n'));
      return 0;
    }
    const addr = resolveHost(ctx.positionals[0]!);
    const client = await ctx.connect();
    if (set) {
      const mac = ctx.positionals[1]!;
      const r = await client.request<ArpEntry>('arp.add', { addr, mac, port });
      if (ctx.json) ctx.out(JSON.stringify(r));
      return 0;
    }
    const r = await client.request<{ addr: string; removed: number }>('arp.del', { addr, port });
    if (ctx.json) ctx.out(JSON.stringify(r));
    else ctx.out(`${ctx.positionals[0]} (${addr}) deleted`);
    return 0;
  },
};
