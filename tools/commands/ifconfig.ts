/**
 * `ffnet ifconfig [portN [inet ADDR/LEN [alias|-alias]] [inet6 ADDR [prefixlen N] [alias|-alias]] [mtu N] [up|down]]`:
 * the stack's ports in FreeBSD ifconfig's layout (flags, options, ether, inet, inet6, nd6, media,
 * status) plus the device's counters, and changes to a port's addresses, MTU and state that every
 * lcore applies before the command returns.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ToolError, type Command } from '../command.js';
import { portId } from './host.js';

/** One port as the `ifconfig` request returns it (stack/ctl/iface_cmds.c). */
export interface PortEntry {
  index: number;
  name: string;
  port_id: number;
  device: string;
  driver: string;
  mac: string;
  inet: string;
  prefixlen: number;
  netmask: string;
  broadcast: string;
  /** Further IPv4 addresses ([portN] vip_addr; absent from older stacks). */
  inet_aliases?: Array<{ inet: string; prefixlen: number; netmask: string; broadcast: string }>;
  mtu: number;
  /** IEEE 802.1Q VLAN id of the port's frames, 0 = untagged; whether the device strips / inserts the tag. */
  vlan: number;
  vlan_hw_rx: boolean;
  vlan_hw_tx: boolean;
  flags: string[];
  /** IPv6 on the port ([portN] ipv6). */
  ipv6: boolean;
  /** The IPv6 link MTU and hop limit, as router advertisements may have lowered or set them. */
  mtu6: number;
  hoplimit6: number;
  inet6: Inet6Entry[];
  link: { up: boolean; speed_mbps: number; duplex: string };
  offloads: { rx: string[]; tx: string[] };
  /** The device's queues the stack set up, and whether its RX queues have interrupts (idle lcores sleep on them). */
  queues?: { rx: number; tx: number; rx_intr: boolean };
  /** The exception path's kernel interface ([portN] exception), or null (absent from older stacks). */
  exception?: { kind: 'tap' | 'virtio-user'; iface: string } | null;
  stats: Record<'ipackets' | 'opackets' | 'ibytes' | 'obytes' | 'ierrors' | 'oerrors' | 'imissed' | 'rx_nombuf', number>;
}

/** One IPv6 address of a port (stack/ctl/report.c). */
export interface Inet6Entry {
  addr: string;
  prefixlen: number;
  /** The port's interface index (from 1) for a link-local address, else null. */
  scopeid: number | null;
  state: 'tentative' | 'preferred' | 'deprecated' | 'duplicated';
  origin: 'linklocal' | 'static' | 'autoconf';
  /** FreeBSD's words: tentative, duplicated, deprecated, autoconf. */
  flags: string[];
  /** Seconds left; null = forever. */
  valid_s: number | null;
  preferred_s: number | null;
}

/** One inet6 line as FreeBSD ifconfig prints it (af_inet6.c: address, prefixlen, flags, scopeid, lifetimes). */
export function formatInet6(port: string, a: Inet6Entry): string {
  const scoped = a.scopeid !== null ? `${a.addr}%${port}` : a.addr;
  const words = [`inet6 ${scoped} prefixlen ${a.prefixlen}`, ...a.flags];
  if (a.scopeid !== null) words.push(`scopeid 0x${a.scopeid.toString(16)}`);
  if (a.valid_s !== null || a.preferred_s !== null) {
    const t = (s: number | null) => (s === null ? 'infty' : String(s));
    words.push(`pltime ${t(a.preferred_s)} vltime ${t(a.valid_s)}`);
  }
  return `\t${words.join(' ')}`;
}

/** FreeBSD's IFF_* bits (net/if.h) for the flags the stack reports. */
const FLAG_BITS: Record<string, number> = { UP: 0x1, BROADCAST: 0x2, RUNNING: 0x40, MULTICAST: 0x8000 };

function hexMask(netmask: string): string {
  return `0x${netmask.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
}

/** One port in FreeBSD ifconfig's layout, tab-indented, with the device's counters at the end. */
export function formatPort(p: PortEntry): string {
  const bits = p.flags.reduce((b, f) => b | (FLAG_BITS[f] ?? 0), 0);
  const opts = [p.offloads.rx.length ? 'RXCSUM' : '', p.offloads.tx.length ? 'TXCSUM' : ''].filter(Boolean);
  const optBits = (p.offloads.rx.length ? 1 : 0) | (p.offloads.tx.length ? 2 : 0);
  const speed = p.link.speed_mbps ? `${p.link.speed_mbps}Mbps` : 'unknown speed';
  const s = p.stats;
  const lines = [
    `${p.name}: flags=${bits.toString(16)}<${p.flags.join(',')}> metric 0 mtu ${p.mtu}`,
    ...(opts.length ? [`\toptions=${optBits.toString(16)}<${opts.join(',')}>`] : []),
    `\tether ${p.mac}`,
    `\tinet ${p.inet} netmask ${hexMask(p.netmask)} broadcast ${p.broadcast}`,
    // FreeBSD shows every further address as one more inet line.
    ...(p.inet_aliases ?? []).map((a) => `\tinet ${a.inet} netmask ${hexMask(a.netmask)} broadcast ${a.broadcast}`),
    // FreeBSD's vlan(4) line; which side tags (the device, else the stack) in place of its parent interface.
    ...(p.vlan ? [`\tvlan: ${p.vlan} vlanproto: 802.1q tagging: rx ${p.vlan_hw_rx ? 'hardware' : 'software'}, tx ${p.vlan_hw_tx ? 'hardware' : 'software'}`] : []),
    ...p.inet6.map((a) => formatInet6(p.name, a)),
    // FreeBSD's ND6_IFF_* bits: PERFORMNUD 0x1, IFDISABLED 0x8, AUTO_LINKLOCAL 0x20.
    p.ipv6 ? '\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>' : '\tnd6 options=9<PERFORMNUD,IFDISABLED>',
    `\tmedia: Ethernet autoselect (${speed} <${p.link.duplex}-duplex>)`,
    `\tstatus: ${p.link.up ? 'active' : 'no carrier'}`,
    ...(p.queues ? [`\tqueues: rx ${p.queues.rx} tx ${p.queues.tx}, rx interrupts ${p.queues.rx_intr ? 'yes' : 'no'}`] : []),
    `\tdriver: ${p.driver} (${p.device})`,
    ...(p.exception ? [`\texception: ${p.exception.kind} ${p.exception.iface} (traffic the stack does not take goes to the kernel)`] : []),
    `\tRX packets ${s.ipackets} bytes ${s.ibytes} errors ${s.ierrors} missed ${s.imissed} nombuf ${s.rx_nombuf}`,
    `\tTX packets ${s.opackets} bytes ${s.obytes} errors ${s.oerrors}`,
  ];
  return lines.join('\n');
}

/**
 * `inet6 ADDR [prefixlen N] [alias|-alias]` (or `inet6 ADDR/N ...`) from words[i], the word after
 * `inet6`: the request's inet6 (ADDR/N; FreeBSD's prefix length defaults to 64) or inet6_delete (ADDR).
 * Returns the index of the last word taken.
 */
function parseInet6(words: string[], i: number, once: (key: string, value: string) => void): number {
  const v = words[i];
  if (v === undefined) throw new ToolError('inet6 needs a value (inet6 ADDR [prefixlen N] [alias|-alias])', 2);
  const [addr, lenText, extra] = v.split('/');
  const prefixLen = (t: string | undefined) => {
    if (t === undefined || !/^\d{1,3}$/.test(t) || Number(t) > 128) throw new ToolError(`bad prefix length '${t ?? ''}' (0..128)`);
    return Number(t);
  };
  if (!addr || !isIPv6(addr) || addr.includes('%') || extra !== undefined) {
    throw new ToolError(`bad address '${v}' (an IPv6 address, e.g. 2001:db8::2 prefixlen 64)`);
  }
  let len = lenText === undefined ? 64 : prefixLen(lenText);
  let remove = false;
  for (let k = i + 1; k < words.length; k++) {
    const w = words[k];
    if (w === 'prefixlen') {
      len = prefixLen(words[++k]);
    } else if (w === 'alias' || w === '-alias' || w === 'delete') {
      remove = w !== 'alias';
    } else {
      break;
    }
    i = k;
  }
  if (remove) once('inet6_delete', addr);
  else once('inet6', `${addr}/${len}`);
  return i;
}

/**
 * `inet ADDR/LEN [alias]` or `inet ADDR[/LEN] -alias` from words[i], the word after `inet`: the
 * request's inet (a new primary address), inet_alias (one more address, as [portN] vip_addr gives) or
 * inet_alias_delete (ADDR). Returns the index of the last word taken.
 */
function parseInet(words: string[], i: number, once: (key: string, value: string) => void): number {
  const v = words[i];
  if (v === undefined) throw new ToolError('inet needs a value (inet ADDR/LEN [alias|-alias])', 2);
  const next = words[i + 1];
  const remove = next === '-alias' || next === 'delete';
  const [addr, len, extra] = v.split('/');
  if (!addr || !isIPv4(addr) || (len === undefined && !remove) || (len !== undefined && (!/^\d{1,2}$/.test(len) || Number(len) > 32)) ||
      extra !== undefined) {
    throw new ToolError(`bad address '${v}' (ADDR/LEN, e.g. 10.0.0.2/24)`);
  }
  if (remove) once('inet_alias_delete', addr);
  else if (next === 'alias') once('inet_alias', v);
  else once('inet', v);
  return next === 'alias' || remove ? i + 1 : i;
}

/** The changes after `portN`: inet ADDR/LEN [alias|-alias], inet6 ADDR [prefixlen N] [alias|-alias], mtu N, up, down (any order, each at most once). */
export function parseChanges(words: string[]): Record<string, string> {
  const set: Record<string, string> = {};
  const once = (key: string, value: string) => {
    const what = key === 'state' ? 'up/down' : key === 'inet6_delete' ? 'inet6 -alias' : key === 'inet_alias' ? 'inet alias'
      : key === 'inet_alias_delete' ? 'inet -alias' : key;
    if (set[key] !== undefined) throw new ToolError(`${what} given twice`, 2);
    set[key] = value;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'up' || w === 'down') {
      once('state', w);
    } else if (w === 'inet6') {
      i = parseInet6(words, i + 1, once);
    } else if (w === 'inet') {
      i = parseInet(words, i + 1, once);
    } else if (w === 'mtu') {
      const v = words[++i];
      if (v === undefined) throw new ToolError('mtu needs a value (mtu N)', 2);
      if (!/^\d{1,5}$/.test(v)) throw new ToolError(`bad mtu '${v}' (a number of bytes)`);
      once(w, v);
    } else {
      throw new ToolError(`unknown parameter '${w}' (inet ADDR/LEN [alias|-alias], inet6 ADDR [prefixlen N] [alias|-alias], mtu N, up, down)`, 2);
    }
  }
  return set;
}

export const ifconfig: Command = {
  name: 'ifconfig',
  summary: "show or change the stack's ports (addresses, MTU, up/down)",
  usage: `ffnet ifconfig [portN [inet ADDR/LEN [alias|-alias]] [inet6 ADDR [prefixlen N] [alias|-alias]] [mtu N] [up|down]]

Without arguments, every port of the stack; with portN (N = DPDK port id, the [portN] of the
configuration), that port. Changes apply at once, on every lcore, before the command returns:
  inet ADDR/LEN   a new address and prefix length (broadcast derived); routes through a gateway
                  that left the subnet are removed, the address is announced (gratuitous ARP)
  inet ADDR/LEN alias
                  adds a further address, as [portN] vip_addr does (at most 16 per port): it answers
                  ARP, ping and UDP, its subnet becomes a connected route, it is announced
  inet ADDR -alias
                  removes a further address (the primary one is changed with inet ADDR/LEN)
  inet6 ADDR [prefixlen N] [alias]
                  adds an IPv6 address (prefix length 64 unless given; ADDR/N also works) and its
                  on-link prefix; tentative until Duplicate Address Detection passes
  inet6 ADDR -alias
                  removes an IPv6 address (not the link-local one, which comes from the MAC)
  mtu N           the device's MTU and the size the stack fragments datagrams to
  up | down       a down port sends and receives nothing (eth.rx_down, eth.tx_down count it)`,
  allowPositionals: true,
  literalWords: ['-alias'],
  async run(ctx) {
    const [name, ...words] = ctx.positionals;
    const port = name === undefined ? undefined : portId(name);
    const changes = parseChanges(words);
    const client = await ctx.connect();
    let ports: PortEntry[];
    if (Object.keys(changes).length > 0) {
      ports = [await client.request<PortEntry>('ifconfig.set', { port, ...changes })];
    } else {
      ports = await client.request<PortEntry[]>('ifconfig', port === undefined ? {} : { port });
    }
    if (ctx.json) {
      ctx.out(JSON.stringify(ports));
      return 0;
    }
    ctx.out(ports.map(formatPort).join('\n'));
    return 0;
  },
};
