/**
 * The one typed declaration of the native addon's surface (build/Release/ffnet.node).
 *
 * Everything JS can call in C++ is declared here with its contract; `loadAddon()` finds the
 * compiled module. Arguments are validated in TypeScript before they reach these calls; native code
 * keeps only cheap guards with fixed messages.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A port as the stack is asked to run it (one `[portN]` section, N = DPDK port id). */
export interface NativePortConfig {
  /** DPDK port id (the N of `[portN]`). */
  portId: number;
  /** IPv4 address, dotted quad. */
  addr: string;
  netmask: string;
  broadcast: string;
  /** Default gateway on this port's subnet, or '' for none. */
  gateway: string;
  /** IP MTU in bytes (68..9000). */
  mtu: number;
  /** IEEE 802.1Q VLAN id 1..4094 every frame of the port is tagged with (absent or 0: untagged). */
  vlanId?: number;
  /** Permanent neighbour entries. */
  staticArp: Array<{ addr: string; mac: string }>;
  /** Static routes ([portN] route[]): NET and prefix length, gateway, src ('' = none), metric (absent: none). */
  routes?: Array<{ dest: string; prefixlen: number; via: string; src: string; metric: number }>;
  /** Further IPv4 addresses ([portN] vip_addr) as 'ADDR/PREFIXLEN' (absent: none). */
  vipAddrs?: string[];
  /** IPv6 on the port (absent: on). */
  ipv6?: boolean;
  /** Configured IPv6 addresses as 'ADDR/PREFIXLEN' (absent: none). */
  addr6?: string[];
  /** IPv6 default router, or '' for none (learned from router advertisements). */
  gateway6?: string;
  /** Permanent IPv6 neighbour entries, RFC 5952 addresses (absent: none). */
  staticNdp?: Array<{ addr: string; mac: string }>;
  /** The exception path toward the kernel (absent: none); the keys below matter only with one. */
  exception?: 'none' | 'tap' | 'virtio-user';
  /** Its kernel interface's name. */
  exceptionIface?: string;
  /** TCP and UDP destination ports handed to the kernel, [lo, hi] ranges (TCP: empty = every port). */
  exceptionTcpPorts?: number[][];
  exceptionUdpPorts?: number[][];
  /** UDP to ports no stack socket holds goes to the kernel. */
  exceptionUdpUnbound?: boolean;
  /** Bound of the queue toward the kernel, frames. */
  exceptionQueue?: number;
}

/** The whole stack configuration, already validated (config/ builds it from ffnet.ini). */
export interface NativeStackConfig {
  /** Complete EAL argv, program name first. */
  eal: string[];
  /** lcore ids that run the stack loop on their own threads; empty = inline on the JS thread. */
  dataLcores: number[];
  /**
   * With no data-path lcore: how many lcores (RX/TX queue pairs) JS threads turn — the starting thread
   * lcore 0 (and every lcore no thread claimed), each attached thread its own. 0 or 1 = one inline lcore.
   */
  inlineLcores?: number;
  /** The configuration as JSON, kept so threads that attach later can read it back (runningConfig). */
  configJson?: string;
  /** Microseconds an idle data-path lcore sleeps between polls (0 = busy poll). */
  idleSleepUs: number;
  /** Microseconds a partial TX burst may wait before it is flushed. */
  txDelayUs: number;
  /** mbufs in the packet pool. */
  mbufs: number;
  ports: NativePortConfig[];
  /** Tunables by FreeBSD-style name (see stack/lcore/sysctl.h), integer values. */
  sysctl: Record<string, number>;
  /** Where DPDK's log goes besides memory: 'none', 'stderr', 'syslog' or 'file:PATH' (default 'none'). */
  log?: string;
  /** Multi-process role (stack/phy/cluster.h); 'auto': as the EAL found it. Default 'primary'. */
  procType?: 'primary' | 'secondary' | 'auto';
  /** Primary: worker queues per port (0 = single-process). */
  nbProcs?: number;
  /** Secondary: the queue to serve, or -1 for the first one free. */
  procQueue?: number;
  /** The program `ffnet ps` names (see {@link mainProgram}); absent: the executable's name. */
  program?: string;
}

/**
 * What this Node process runs, as `ffnet ps` names it: the main script's base name, `[eval]` (-e, -p),
 * `[stdin]` (a script piped in), or `node` (the REPL). Node knows it; the command line does not say
 * which argument is the script (`node --import X app.js`, `node -r x app.js`).
 */
export function mainProgram(): string {
  const script = process.argv[1];
  if (script && script !== '-') return basename(script);
  const evalFlags = ['-e', '--eval', '-p', '--print'];
  if (process.execArgv.some((a) => evalFlags.includes(a) || /^--(eval|print)=/.test(a))) return '[eval]';
  // Node reads a script piped in (or given as -) into process._eval before running it.
  if (script === '-' || typeof (process as { _eval?: unknown })._eval === 'string') return '[stdin]';
  return 'node';
}

/** A running port as the stack sees it. */
export interface NativePortInfo {
  portId: number;
  /** Device name, e.g. "net_tap0". */
  name: string;
  /** PMD name, e.g. "net_tap". */
  driver: string;
  mac: string;
  addr: string;
  netmask: string;
  broadcast: string;
  gateway: string;
  mtu: number;
  /** IEEE 802.1Q VLAN id of the port's frames ([portN] vlan_id); 0: untagged. */
  vlanId: number;
  linkUp: boolean;
  /** Administratively up (`ffnet ifconfig portN up`; a port taken down sends and receives nothing). */
  adminUp: boolean;
  /** Its further IPv4 addresses ([portN] vip_addr), each with its own subnet; `addr` above is the primary. */
  addrs: NativePortAddr4[];
  /** The port's IPv6 addresses (none when `[portN] ipv6 = 0`): link-local, configured, autoconfigured. */
  addr6: NativePortAddr6[];
  /** Checksum work the device does for us, and (on a port with a VLAN) whether it strips received tags
   *  and inserts sent ones (otherwise the stack does, in software). */
  offloads: { rxIpv4Cksum: boolean; rxL4Cksum: boolean; txIpv4Cksum: boolean; txUdpCksum: boolean; rxVlanStrip: boolean; txVlanInsert: boolean };
  /** The exception path toward the kernel ([portN] exception), when the port has one: its device and kernel interface. */
  exception?: { kind: 'tap' | 'virtio-user'; iface: string };
  /** Receive and transmit queues the stack set up on the device (fewer RX queues than lcores: software dispatch). */
  rxQueues: number;
  txQueues: number;
  /** Whether its RX queues have interrupts, so idle lcores sleep until traffic instead of napping. */
  rxIntr: boolean;
  /** Device counters from rte_eth_stats. */
  stats: { ipackets: number; opackets: number; ibytes: number; obytes: number; imissed: number; ierrors: number; oerrors: number; rxNombuf: number };
}

/** One further IPv4 address of a port (beside its primary `addr`). */
export interface NativePortAddr4 {
  addr: string;
  netmask: string;
  broadcast: string;
}

/** One IPv6 address of a port. */
export interface NativePortAddr6 {
  /** RFC 5952 text, without a scope. */
  addr: string;
  prefixlen: number;
  /** 'tentative' until Duplicate Address Detection passes; 'duplicated' when it failed (never used). */
  state: 'tentative' | 'preferred' | 'duplicated';
}

/** One neighbour (ARP) entry, merged over the lcores' caches (the most settled state, packets held on any). */
export interface NativeNeighbour {
  portId: number;
  /** An IPv4 address (ARP's entries, listed first) or an IPv6 one in RFC 5952 text (Neighbor Discovery's). */
  addr: string;
  /** '' while incomplete. */
  mac: string;
  state: 'incomplete' | 'reachable' | 'failed' | 'permanent';
  /** Seconds until the entry expires (0 for permanent). */
  expiresIn: number;
  /** Packets held waiting for resolution. */
  held: number;
  /** Their bytes, Ethernet headers included. */
  heldBytes: number;
}

/** One IPv4 route, in the table's lookup order: longest prefix first, then lowest metric. */
export interface NativeRoute {
  /** NET/LEN, e.g. '10.99.0.0/16' ('0.0.0.0/0': the default route). */
  dest: string;
  /** The gateway; null for a connected (on-link) route. */
  via: string | null;
  /** The preferred source unbound sockets use through this route; null = the port's address. */
  src: string | null;
  /** Among routes to one prefix the lowest wins; connected routes have 0. */
  metric: number;
  /** The DPDK port the route leaves by. */
  portId: number;
  /** 'connected': a port's subnet (changes with its address); 'static': configured or added. */
  kind: 'connected' | 'static';
}

/** Counters of one lcore, by name ("ip.badsum", "arp.unsolicited", ...). */
export interface NativeLcoreCounters {
  /** The EAL lcore id of a data-path lcore; with several inline lcores, the index `lcore()` names. */
  lcore: number;
  values: Record<string, number>;
}

/** A started stack. Methods throw after close(). */
export interface NativeStack {
  /** Per-lcore counters (one entry per data-path lcore, or per inline lcore: by index when there are several). */
  counters(): NativeLcoreCounters[];
  ports(): NativePortInfo[];
  /** mbufs of the packet pool currently allocated (in use anywhere: rings, caches, sockets). */
  mempoolInUse(): number;
  /** The neighbour table of the first data-path lcore (all lcores learn the same entries). */
  neighbours(): NativeNeighbour[];
  /** Adds a permanent neighbour entry on every lcore. */
  addNeighbour(portId: number, addr: string, mac: string): void;
  /** Removes a neighbour entry on every lcore; returns whether one existed. */
  deleteNeighbour(portId: number, addr: string): boolean;
  /** The IPv4 routing table in lookup order. */
  routes(): NativeRoute[];
  /** Adds a static route (src '' = none); 0 or a negative errno. */
  addRoute(dest: string, prefixlen: number, via: string, src: string, metric: number): number;
  /** Deletes a static route (metric -1: the one of lowest metric); 0 or a negative errno. */
  deleteRoute(dest: string, prefixlen: number, metric: number): number;
  /**
   * Sends one ICMP echo request from the stack (resolving the next hop by ARP if needed). Its reply
   * reaches startStack's onPingReply with the same token. Returns 0 or a negative errno.
   */
  ping(dst: string, token: number, payloadBytes: number): number;
  /** mbufs in the packet pool. */
  mempoolSize(): number;
  /** Multi-process: the queue of every port this secondary serves, or -1 (a primary or single-process stack). */
  procQueue(): number;
  sysctlGet(name: string): number;
  /** Throws RangeError when out of range. */
  sysctlSet(name: string, value: number): void;
  /** Whether the stack keeps the event loop alive (default true, like a listening socket). */
  ref(): void;
  unref(): void;
  /**
   * Calls `cb` on this thread whenever the stack signals the application context's sockets (its
   * eventfd, ff_wake_fd, became readable), until close(), which stops the watch before that fd
   * closes; `null` pauses it. A second call replaces `cb`. The watch never keeps the event loop alive.
   */
  watchWake(cb: (() => void) | null): void;
  /**
   * The lcore this thread turns (inline: the one it claimed, 0 on the thread that started the stack),
   * or, with data-path lcores, its sockets' home lcore.
   */
  lcore(): number;
  /**
   * Closes this handle; idempotent. An attached handle, or the starting one while others are open,
   * detaches its thread: closes the thread's sockets, gives back its lcore, frees its context. The last
   * handle to close, in any thread, stops the lcores, closes the ports and frees the pools. A thread
   * that ends (a worker's exit) closes its handles. The EAL stays initialised (once per process).
   */
  close(): void;
}

/**
 * The ff_* calls (native/posix.cc over posix/ff_api.h). Each returns its result, or a negative errno
 * when the call failed; ffnet/posix turns those into FfError. Addresses are dotted quads; a send's
 * destination may also be the address as a host-order number (posix/send.ts parses each once). A call on a
 * socket another thread opened throws an Error with code ERR_FFNET_WRONG_THREAD.
 */
export interface NativePosix {
  constants: Record<string, number>;
  socket(domain: number, type: number, protocol: number): number;
  /** Addresses: IPv4 dotted quads, or IPv6 literals with an optional `%scope` (a number or `portN`). */
  bind(fd: number, address: string, port: number): number;
  connect(fd: number, address: string | null, port: number): number;
  close(fd: number): number;
  /** In inline mode the datagram waits on its lcore's TX ring for kickTx (or a full burst). */
  sendto(fd: number, data: Uint8Array, flags: number, address: number | string | Uint8Array | null, port: number): number;
  recvfrom(fd: number, into: Uint8Array, flags: number): number | [number, string, number];
  sendmmsg(fd: number, payloads: Uint8Array[], addresses: Array<number | string | Uint8Array | null>, ports: number[], flags: number,
    sources?: Array<number | Uint8Array | null>): number;
  /** Hands what this thread's sends queued to the devices now (inline mode; a no-op otherwise). */
  kickTx(): void;
  /** On an AF_INET6 socket: [count, the sources as text]. */
  recvmmsg(fd: number, arena: Uint8Array, slot: number, max: number, flags: number, desc: Int32Array): number | [number, string[]];
  getsockname(fd: number): number | { address: string; port: number; family: 'IPv4' | 'IPv6' };
  getpeername(fd: number): number | { address: string; port: number; family: 'IPv4' | 'IPv6' };
  setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): number;
  getsockopt(fd: number, level: number, name: number): number | [number] | string;
  ioctl(fd: number, request: number, value: number): number | [number];
  fcntl(fd: number, cmd: number, arg: number): number;
  routeCtl(req: number, flag: number, dst: string, gw: string | null, netmask: string | null): number;
  epollCreate(size: number): number;
  epollCtl(epfd: number, op: number, fd: number, events: number | null, data: number): number;
  epollWait(epfd: number, out: Float64Array, maxevents: number, timeout: number): number;
  /** Ids (= fds) of sockets the stack signalled since the last call; re-arms the stack's wake-up (watchWake). */
  dgramReady(ids: Uint32Array): number;
  /** Copies queued datagrams back to back into `into`; desc[i*4..] = [offset, length, address as uint32, port];
   *  info[i*6..] (when given) = where it arrived: [IPv4 destination as uint32, IPv6 destination (4 words), interface index]. */
  dgramRecv(fd: number, into: Uint8Array, max: number, desc: Uint32Array, info?: Uint32Array): number;
  /** [payload bytes, datagrams] handed to the stack and not yet sent. */
  dgramSendQueue(fd: number): number | [number, number];
  /**
   * Whether a stack socket would take a datagram to the loopback address `dst` (an IPv4 address as a
   * host-order number, or IPv6's 16 bytes) and `port`, sent from local port `sport` (ffnet/dgram's
   * `[dpdk] localhost` policy; false when no stack runs).
   */
  localhostHeld(dst: number | Uint8Array, port: number, sport: number): boolean;
  /** Adds n to a localhost counter of the stack (LOCALHOST_COUNTER's values), from any thread. */
  localhostCount(which: number, n: number): void;
  /** One per thread's handle on the stack: lends datagrams in place (native/zc.cc). */
  ZcReceiver: new () => NativeZcReceiver;
}

/** The application-side counters `localhostCount` adds to (localhost.* in `Stack.stats()`). */
export const LOCALHOST_COUNTER = { toKernel: 0, fromKernel: 1, sendErrors: 2, portElsewhere: 3 } as const;

/** Bit of a lent datagram's port word (desc[i*4 + 3]): its bytes were copied into the scratch buffer. */
export const DGRAM_COPIED = 0x10000;
/**
 * Bit of a datagram's port word: it came over IPv6; its source address is the 16 bytes `address`
 * (desc[i*4 + 2]) bytes before its payload, in the same memory, and a link-local source's scope id
 * is in bits 24..31 of the port word.
 */
export const DGRAM_V6 = 0x20000;

/**
 * Zero-copy receive: the packet pool's memory as an external ArrayBuffer, and datagrams lent in place
 * until release().
 */
export interface NativeZcReceiver {
  /** The packet pool's memory, or null when it cannot be exposed (several chunks, or the runtime
   *  refuses external buffers): then receive by copying (dgramRecv). Detached by close(). */
  readonly pool: ArrayBuffer | null;
  /**
   * Lends up to `max` queued datagrams of fd (releasing what the previous call lent first):
   * desc[i*4..] = [offset within `pool`, length, address as uint32, port]; a datagram in several
   * segments is copied into `scratch` instead, its offset within `scratch` and DGRAM_COPIED set in
   * its port word; info[i*6..], when given, where it arrived (as dgramRecv's). Returns the count, or
   * -errno (EAGAIN, a pending ECONNREFUSED).
   */
  recv(fd: number, max: number, desc: Uint32Array, scratch: Uint8Array, info?: Uint32Array): number;
  /** Gives back what the last recv() lent, in one bulk release. */
  release(): void;
  /** release(), then detaches `pool` (views of it read as empty): before the stack stops. */
  close(): void;
}

export interface NativeAddon {
  /** Initialises the EAL (first call only), starts ports and lcores. Throws with the port and DPDK error on failure. */
  startStack(
    config: NativeStackConfig,
    onPingReply: (token: number, rttUs: number, ttl: number, bytes: number) => void,
  ): NativeStack;
  /**
   * This thread's handle on the stack another thread started (or one this thread started and closed
   * while other handles stayed open); null when no stack runs in the process. It has its own
   * application context; inline, it claims `lcore` (or the next free one: 1, 2, ..., then 0) and turns
   * it from this thread's event loop. Throws an Error with code ERR_FFNET_LCORE_BUSY when that lcore
   * (or every one) is taken, a RangeError when there is no such lcore, an Error when this thread has an
   * open handle already, or when the stack is multi-process (procType/nbProcs): only the thread that
   * started it uses it, since DPDK registers no other thread while processes share its memory.
   */
  attachStack(
    options: { lcore?: number },
    onPingReply: (token: number, rttUs: number, ttl: number, bytes: number) => void,
  ): NativeStack | null;
  /** The running stack's configJson ('' when it was started without one), or null when none runs. */
  runningConfig(): string | null;
  /** Counter names in declaration order. */
  counterNames(): string[];
  /** Counter name → one-line meaning. */
  counterDocs(): Record<string, string>;
  /**
   * Stops every stack, releases the EAL and deletes its runtime directory. Only at process exit: the
   * EAL cannot be initialised again in this process afterwards.
   */
  ealCleanup(): void;
  /** The ff_* socket calls. */
  posix: NativePosix;
  /** The stack's tunables with default and inclusive range (must match config/sysctl.ts). */
  sysctlTable(): Array<{ name: string; default: number; min: number; max: number }>;
}

let cached: NativeAddon | undefined;

const here = dirname(fileURLToPath(import.meta.url));
/** The package's root: native/ in the source layout, dist/native/ compiled. */
const packageRoot = existsSync(resolve(here, '../package.json')) ? resolve(here, '..') : resolve(here, '../..');

/**
 * Where the addon is: FFNET_ADDON_PATH when set (alone, so that a run asking for a sanitized build
 * never gets another one), else the package's build/Release/ffnet.node.
 */
function addonPath(): string {
  return process.env.FFNET_ADDON_PATH || join(packageRoot, 'build/Release/ffnet.node');
}

/**
 * Why the addon cannot be used, as one clause with how to fix it — "the native addon is not built:
 * …" or "the native addon does not load: …" — or '' when it loads (it is then loaded). A missing
 * addon's reason is what the install script recorded in build/ffnet-native.json (scripts/install.mjs),
 * else where it looked.
 */
export function addonUnavailable(): string {
  if (cached) return '';
  const path = addonPath();
  if (existsSync(path)) {
    try {
      loadAddon();
      return '';
    } catch (err) {
      return (err as Error).message.replace(/^ffnet: /, '');
    }
  }
  try {
    const status = JSON.parse(readFileSync(join(packageRoot, 'build', 'ffnet-native.json'), 'utf8')) as { reason?: unknown };
    if (typeof status.reason === 'string' && status.reason) return `the native addon is not built: ${status.reason}`;
  } catch {
    /* no record: a checkout not built yet, or an install that predates the record */
  }
  return `the native addon is not built: ${path} does not exist (npm rebuild ffnet; in a checkout of ffnet, npm run build)`;
}

/** The error of an ffnet call that needs the addon when it cannot be used (code ERR_FFNET_NO_ADDON). */
function addonError(clause: string): Error {
  return Object.assign(new Error(`ffnet: ${clause}`), { code: 'ERR_FFNET_NO_ADDON' });
}

/**
 * Loads build/Release/ffnet.node (or FFNET_ADDON_PATH), once per thread. Throws ERR_FFNET_NO_ADDON
 * when it is not built, or does not load (the DPDK libraries it links were removed or changed since).
 */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) throw addonError(addonUnavailable());
  const require = createRequire(join(here, 'index.js'));
  try {
    cached = require(path) as NativeAddon;
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    throw addonError(`the native addon does not load: ${why} (npm rebuild ffnet builds it against the DPDK installed now)`);
  }
  return cached;
}

/**
 * The ff_* binding for modules that keep it from load time (ffnet/posix, ffnet/dgram's dpdk backend),
 * so that they load without the addon: then its constants are empty and every call throws
 * ERR_FFNET_NO_ADDON, and ffnet/dgram chooses the kernel backend before reaching it.
 */
export function posixBinding(): NativePosix {
  const unavailable = addonUnavailable();
  if (!unavailable) return loadAddon().posix;
  const fail = (): never => {
    throw addonError(unavailable);
  };
  return new Proxy({ constants: {} } as unknown as NativePosix, {
    get: (target, key) => (key === 'constants' ? target.constants : fail),
  });
}
