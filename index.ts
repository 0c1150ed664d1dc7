/**
 * ffnet's entry point: `Stack`, a user-space UDP/IPv4 stack over DPDK running in this process.
 *
 * `Stack.start()` reads ffnet.ini (or a config object), initialises DPDK, starts the ports and the
 * data-path lcores (or runs the stack loop inline on this thread), and returns a handle to inspect
 * and steer it. One stack runs per process at a time (DPDK's EAL is per process); it keeps the
 * event loop alive until `close()`, like a listening socket, unless `unref()`'d.
 *
 * Threads: a handle belongs to the thread that got it. In a thread of a process whose stack another
 * thread started (a worker_thread, or the main thread after closing its own handle), `start()`
 * attaches instead: the thread gets a handle of its own on the running stack, with its own sockets,
 * and with `[dpdk] loop = inline` turns an lcore of its own from its event loop (`lcore` option, or
 * the next free one). `Stack.current()` is this thread's handle. Closing an attached handle
 * detaches the thread (its sockets close, its lcore is freed); the stack stops when the last handle
 * in the process closes.
 *
 * Ends: the main thread's handle is closed at exit, and on SIGINT/SIGTERM when the program has no
 * handler of its own for the signal (which then terminates the process, as node's default does), so
 * ports and pools are released cleanly. A worker's handle detaches when the worker exits (signals
 * reach the main thread only, and the EAL is the process's).
 */
import { isIPv4 } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { loadConfigFile, toNativeConfig, validateConfig, type FfnetConfig, type RawConfig } from './config/index.js';
import { sysctlValue } from './config/sysctl.js';
import { StackSystemError } from './native/errors.js';
import {
  loadAddon,
  mainProgram,
  type NativeAddon,
  type NativeNeighbour,
  type NativePortInfo,
  type NativeRoute,
  type NativeStack,
} from './native/index.js';
import { ipv6Text } from './posix/ipv6.js';
import { ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE } from './shim/errors.js';

export { FfnetConfigError, type FfnetConfig, type RawConfig } from './config/index.js';
export type { NativeNeighbour as Neighbour, NativePortInfo as PortInfo, NativeRoute as Route } from './native/index.js';
export { StackSystemError } from './native/errors.js';

/**
 * How to configure a stack: a file, a config object, or (neither) the file named by FFNET_CONFIG.
 * A thread that attaches to a stack another thread started uses that stack's configuration.
 */
/** A static route for Stack.addRoute. */
export interface AddRouteOptions {
  /** NET/LEN ('10.99.0.0/16', host bits zero) or 'default' (0.0.0.0/0). */
  dest: string;
  /** The gateway: an address on one of the ports' connected subnets. */
  via: string;
  /** The source address unbound sockets use for destinations through this route (one of the stack's addresses). */
  src?: string;
  /** 0 (the default) to 4294967295: among routes to one prefix the lowest wins. */
  metric?: number;
}

/** NET/LEN or 'default' as addRoute and deleteRoute take it. */
function parseRouteDest(fn: string, dest: unknown): { net: string; len: number } {
  if (dest === 'default') return { net: '0.0.0.0', len: 0 };
  const m = typeof dest === 'string' ? /^([0-9.]+)\/(\d{1,2})$/.exec(dest) : null;
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) throw new TypeError(`${fn}: dest "${String(dest)}" is not NET/LEN or default`);
  const len = Number(m[2]);
  const addr = m[1]!.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  if (addr % 2 ** (32 - len) !== 0) throw new TypeError(`${fn}: ${dest} has host bits set (the network of a /${len} ends in zeros)`);
  return { net: m[1]!, len };
}

/** A route metric (undefined stays undefined), else RangeError. */
function routeMetric(fn: string, metric: unknown): number | undefined {
  if (metric === undefined) return undefined;
  if (typeof metric !== 'number' || !Number.isInteger(metric) || metric < 0 || metric > 0xffffffff) {
    throw new RangeError(`${fn}: metric must be an integer 0..4294967295, got ${String(metric)}`);
  }
  return metric;
}

export interface StackStartOptions {
  configPath?: string;
  config?: RawConfig;
  /**
   * When this thread attaches to a running stack: the lcore index it takes (inline: the lcore it
   * turns; dedicated: its sockets' home). Default: the next free one. The thread that starts the
   * stack has lcore 0.
   */
  lcore?: number;
}

/** Counters of the whole stack and of each lcore, plus the packet pool's occupancy. */
export interface StackStats {
  /** Every counter summed over the lcores, by name ("ip.badsum", ...). */
  counters: Record<string, number>;
  lcores: Array<{ lcore: number; counters: Record<string, number> }>;
  mempool: { inUse: number; size: number };
}

export interface PingOptions {
  /** Echo requests to send (default 1). */
  count?: number;
  /** ICMP payload bytes (default 56, as ping(8)); RTTs need at least 8. */
  size?: number;
  /** Pause between requests in ms (default 200). */
  intervalMs?: number;
  /** How long to wait for each reply in ms (default 1000). */
  timeoutMs?: number;
}

/**
 * ffnet internal: the state one of ffnet's layers (the dgram shim's receive path, ff_epoll_wait_async's
 * waiters) keeps for one stack; see `Stack.attachment`.
 */
export interface StackAttachment {
  /**
   * The stack is closing: close this layer's sockets, settle what waits on them. Called once, while
   * the stack and its sockets are still up.
   */
  stackClosing(): void;
}

export interface PingReply {
  seq: number;
  /** Round-trip time in µs; -1 when no reply came in time (or the payload was too small to time). */
  rttUs: number;
  ttl: number;
  bytes: number;
}

/** This thread's open handles (module state is per thread: each worker loads ffnet anew). */
const running = new Set<Stack>();
let endsHooked = false;

/** Closes this thread's handles when it ends: see the module doc. */
function hookEnds(): void {
  if (endsHooked) return;
  endsHooked = true;
  if (!isMainThread) {
    // 'exit' runs when a worker ends by itself or by process.exit(); a terminate() skips it, and the
    // addon's environment cleanup detaches the thread then.
    process.on('exit', () => {
      for (const s of running) s.closeNow();
    });
    return;
  }
  // A program that handles the signal decides what happens: its handlers run with the stack up (a
  // graceful shutdown still sends), and the stack closes at exit. One that does not is terminated by
  // the signal, as node would terminate it, with the stack and the EAL released first (a killed
  // process runs no 'exit' listeners, and the runtime directory would linger). Prepended, so that a
  // program's `once` listener, which leaves the list when it runs, is still counted here.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) return;
    for (const s of running) s.closeNow();
    loadAddon().ealCleanup();
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.prependListener('SIGINT', onSignal);
  process.prependListener('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const s of running) s.closeNow();
    loadAddon().ealCleanup();
  });
}

/** `options.lcore` as a number, or undefined; TypeError/RangeError (Node's codes) when it is not an lcore index. */
function lcoreOption(opts: StackStartOptions): number | undefined {
  const lcore: unknown = opts.lcore;
  if (lcore === undefined) return undefined;
  if (typeof lcore !== 'number') throw ERR_INVALID_ARG_TYPE('options.lcore', 'number', lcore);
  if (!Number.isInteger(lcore) || lcore < 0) throw ERR_OUT_OF_RANGE('options.lcore', 'an integer >= 0', lcore);
  return lcore;
}

/** The lcores of a running stack a thread can take: the inline ones, else the data-path ones. */
function lcoreCount(config: FfnetConfig): number {
  return config.inlineLcores > 0 ? config.inlineLcores : config.dpdk.dataLcores.length;
}

function resolveConfig(opts: StackStartOptions): FfnetConfig {
  if (opts.config && opts.configPath) throw new TypeError('Stack.start: give either config or configPath, not both');
  if (opts.config) return validateConfig(opts.config, '<config object>');
  const path = opts.configPath ?? process.env.FFNET_CONFIG;
  if (!path) throw new TypeError('Stack.start: no configuration (pass configPath or config, or set FFNET_CONFIG)');
  return loadConfigFile(path);
}

/** The prefix length of a dotted-quad netmask (its one bits, as Node counts them for `cidr`). */
function prefixLength4(netmask: string): number {
  return netmask.split('.').reduce((n, octet) => n + Number(octet).toString(2).replace(/0/g, '').length, 0);
}

/** The IPv6 netmask of a prefix length, as os.networkInterfaces() writes it ('ffff:ffff:ffff:ffff::'). */
function netmask6(prefixLength: number): string {
  const mask = new Uint8Array(16);
  for (let bit = 0; bit < prefixLength; bit++) mask[bit >> 3] = (mask[bit >> 3] as number) | (0x80 >> (bit & 7));
  return ipv6Text(mask, 0);
}

/**
 * The ports as `os.networkInterfaces()` lists interfaces (see Stack#networkInterfaces): each port that
 * is up with its link up (libuv lists only interfaces UP and RUNNING), named `port<id>`, its IPv4
 * address first and its vip_addr after it, then its IPv6 addresses; an IPv6 entry's scopeid is the interface index a udp6 socket
 * on the stack takes for it (its position in the stack's ports + 1, as the scope `%portN` of ffnet/dgram
 * and ffnet/posix reads it) for a link-local address, else 0.
 */
function portInterfaces(ports: NativePortInfo[]): Record<string, NetworkInterfaceInfo[]> {
  const out: Record<string, NetworkInterfaceInfo[]> = {};
  ports.forEach((port, index) => {
    if (!port.adminUp || !port.linkUp) return;
    const entries: NetworkInterfaceInfo[] = [];
    if (port.addr !== '0.0.0.0') {
      // Its further addresses (vip_addr) follow the first, as getifaddrs lists a Linux interface's.
      for (const a of [{ addr: port.addr, netmask: port.netmask }, ...(port.addrs ?? [])]) {
        entries.push({ address: a.addr, netmask: a.netmask, family: 'IPv4', mac: port.mac, internal: false,
          cidr: `${a.addr}/${prefixLength4(a.netmask)}` });
      }
    }
    for (const a of port.addr6) {
      const linkLocal = /^fe[89ab]/i.test(a.addr);
      entries.push({ address: a.addr, netmask: netmask6(a.prefixlen), family: 'IPv6', mac: port.mac, internal: false,
        cidr: `${a.addr}/${a.prefixlen}`, scopeid: linkLocal ? index + 1 : 0 });
    }
    if (entries.length > 0) out[`port${port.portId}`] = entries;
  });
  return out;
}

/** A running user-space stack. */
export class Stack {
  readonly config: FfnetConfig;
  readonly #native: NativeStack;
  readonly #pending = new Map<number, (reply: Omit<PingReply, 'seq'>) => void>();
  readonly #attachments = new Map<symbol, StackAttachment>();
  #wakeListeners: Array<() => void> = [];
  #nextToken = 1;
  #closed = false;

  private constructor(config: FfnetConfig, native: NativeStack) {
    this.config = config;
    this.#native = native;
  }

  /**
   * Opens a handle with `open` (given the ping-reply callback; null: no handle) and registers it as
   * this thread's.
   */
  static #open(config: FfnetConfig, open: (onPing: (token: number, rttUs: number, ttl: number, bytes: number) => void) => NativeStack | null): Stack | undefined {
    let stack: Stack | undefined;
    // Replies arrive on later turns of the event loop, once `stack` is set.
    const native = open((token, rttUs, ttl, bytes) => {
      if (stack) stack.#pending.get(token)?.({ rttUs, ttl, bytes });
    });
    if (!native) return undefined;
    stack = new Stack(config, native);
    running.add(stack);
    hookEnds();
    return stack;
  }

  /**
   * Starts a stack, or attaches this thread to the one another thread of the process started (see
   * the module doc); rejects with FfnetConfigError for a bad config, or an Error with code
   * 'ERR_FFNET_START' naming the port, the DPDK call and its error, followed by DPDK's last log
   * lines (also its `dpdkLog` array). Attaching rejects with code 'ERR_FFNET_LCORE_BUSY' when the
   * lcore asked for is taken. A bad `lcore` option is a TypeError or RangeError (ERR_INVALID_ARG_TYPE,
   * ERR_OUT_OF_RANGE) naming it.
   */
  static async start(opts: StackStartOptions = {}): Promise<Stack> {
    return Stack.startSync(opts);
  }

  /**
   * `start()` without the promise: the stack is running when this returns (DPDK's setup is
   * synchronous). Throws what `start()` rejects with. ffnet/dgram uses it to start a stack, or
   * attach to the process's, on the first socket.
   */
  static startSync(opts: StackStartOptions = {}): Stack {
    const lcore = lcoreOption(opts);
    const addon = loadAddon();
    const attached = Stack.#attach(addon, lcore);
    if (attached) return attached;
    if (lcore !== undefined && lcore !== 0) throw ERR_OUT_OF_RANGE('options.lcore', '0 in the thread that starts the stack', lcore);
    const config = resolveConfig(opts);
    const nativeConfig = { ...toNativeConfig(config, { processName: 'ffnet' }), program: mainProgram() };
    try {
      return Stack.#open(config, (onPing) => addon.startStack(nativeConfig, onPing))!;
    } catch (err) {
      // Device and EAL failures: the message names the port, the DPDK call and its error.
      // `dpdkLog`: the lines DPDK logged during the attempt (also quoted in the message).
      throw Object.assign(new Error((err as Error).message), { code: 'ERR_FFNET_START', dpdkLog: (err as { dpdkLog?: string[] }).dpdkLog ?? [] });
    }
  }

  /**
   * A handle on the stack another thread of the process runs, or undefined when none runs or this
   * thread holds a handle already (starting again then fails as it always has: one stack per process).
   */
  static #attach(addon: NativeAddon, lcore: number | undefined): Stack | undefined {
    if (running.size > 0) return undefined;
    const json = addon.runningConfig();
    if (json === null) return undefined;
    if (json === '') {
      throw Object.assign(new Error('the running stack was started without its configuration (configJson), so this thread cannot attach to it; start it with Stack.start'),
        { code: 'ERR_FFNET_START' });
    }
    const config = JSON.parse(json) as FfnetConfig;
    const count = lcoreCount(config);
    if (lcore !== undefined && lcore >= count) {
      throw ERR_OUT_OF_RANGE('options.lcore', `>= 0 && <= ${count - 1} (the stack's lcores)`, lcore);
    }
    // null: the stack stopped since runningConfig(); this thread starts one then.
    return Stack.#open(config, (onPing) => addon.attachStack(lcore === undefined ? {} : { lcore }, onPing));
  }

  /** This thread's handle on the process's stack (started or attached here, and not closed), if any. */
  static current(): Stack | undefined {
    for (const s of running) return s;
    return undefined;
  }

  /** Counter names with their one-line meaning, in the stack's order. */
  static counterDocs(): Record<string, string> {
    return loadAddon().counterDocs();
  }

  #live(): NativeStack {
    if (this.#closed) throw new Error('the stack is closed');
    return this.#native;
  }

  /**
   * ffnet internal: the state layer `key` keeps for this stack, made by `make` on first use. When
   * the stack closes, each attachment's `stackClosing()` runs (newest first) before the stack's
   * sockets, its wake-up fd and its pools go. Throws once the stack is closed.
   */
  attachment<T extends StackAttachment>(key: symbol, make: () => T): T {
    let a = this.#attachments.get(key);
    if (!a) {
      this.#live();
      a = make();
      this.#attachments.set(key, a);
    }
    return a as T;
  }

  /**
   * ffnet internal: calls `listener` on this thread whenever the stack signals this process's
   * sockets, until the returned function removes it or the stack closes. `first` listeners run
   * before the others: ff_epoll_wait empties the list of signalled sockets that ffnet/dgram's
   * receive path reads. The wake-up never keeps the event loop alive.
   */
  onWake(listener: () => void, first = false): () => void {
    const native = this.#live();
    if (this.#wakeListeners.length === 0) native.watchWake(() => this.#wake());
    if (first) this.#wakeListeners.unshift(listener);
    else this.#wakeListeners.push(listener);
    return () => {
      const i = this.#wakeListeners.indexOf(listener);
      if (i < 0) return;
      this.#wakeListeners.splice(i, 1);
      if (this.#wakeListeners.length === 0 && !this.#closed) native.watchWake(null);
    };
  }

  #wake(): void {
    for (const listener of [...this.#wakeListeners]) {
      if (this.#closed) return;
      listener();
    }
  }

  stats(): StackStats {
    const native = this.#live();
    const lcores = native.counters().map((l) => ({ lcore: l.lcore, counters: l.values }));
    const counters: Record<string, number> = {};
    for (const l of lcores) {
      for (const [k, v] of Object.entries(l.counters)) counters[k] = (counters[k] ?? 0) + v;
    }
    return { counters, lcores, mempool: { inUse: native.mempoolInUse(), size: native.mempoolSize() } };
  }

  ports(): NativePortInfo[] {
    return this.#live().ports();
  }

  /**
   * The stack's ports in `os.networkInterfaces()`'s shape, for programs that pick interfaces from it
   * (under `ffnet/register`, `os.networkInterfaces()` itself returns these plus the kernel's `lo`).
   * Each port is named as `ffnet ifconfig` names it, `port<id>` (the `[portN]` of the configuration),
   * and listed while it is up with its link up, as libuv lists only interfaces UP and RUNNING: its IPv4
   * address (unless it has none) and its further ones (`vip_addr`), then its IPv6 addresses when IPv6 is on (link-local first, tentative
   * ones included as Linux lists them). `internal` is false; an IPv6 entry's `scopeid` is what a udp6
   * socket on the stack takes as the port's scope (`fe80::1%port0` is scope 1) for a link-local address,
   * else 0.
   */
  networkInterfaces(): Record<string, NetworkInterfaceInfo[]> {
    return portInterfaces(this.ports());
  }

  /**
   * Multi-process (`[dpdk] proc_type`): the queue of every port this secondary process serves, or -1
   * for a primary or a single-process stack.
   */
  get procQueue(): number {
    return this.#live().procQueue();
  }

  /** The neighbour caches, merged over the lcores: ARP's entries, then Neighbor Discovery's (IPv6 addresses). */
  neighbours(): NativeNeighbour[] {
    return this.#live().neighbours();
  }

  /** Adds a permanent neighbour entry (like `arp -s`, or `ndp -s` for an IPv6 address). */
  addNeighbour(portId: number, addr: string, mac: string): void {
    this.#live().addNeighbour(portId, addr, mac);
  }

  /** Removes a neighbour entry of either family; returns whether there was one. */
  deleteNeighbour(portId: number, addr: string): boolean {
    return this.#live().deleteNeighbour(portId, addr);
  }

  /** The IPv4 routing table in lookup order: longest prefix first, then lowest metric (as `ip route`). */
  routes(): NativeRoute[] {
    return this.#live().routes();
  }

  /**
   * Adds a static route, like `ip route add DEST via VIA [src SRC] [metric N]`: `dest` is NET/LEN or
   * 'default'; `via` must be on a port's connected subnet; `src` (one of the stack's addresses) is the
   * source unbound sockets use for destinations through it; routes to one prefix may differ in
   * metric (default 0), the lowest wins. Once it returns, every send uses the new table. Throws a
   * TypeError/RangeError for malformed arguments, else an Error with `code`: EEXIST (a route to dest
   * of that metric exists), ENETUNREACH (via is on no connected subnet), EADDRNOTAVAIL (src is not
   * the stack's), ENOSPC (the table is full, FFS_MAX_ROUTES).
   */
  addRoute(route: AddRouteOptions): void {
    if (typeof route !== 'object' || route === null) throw new TypeError('addRoute: expected { dest, via, src?, metric? }');
    const { net, len } = parseRouteDest('addRoute', route.dest);
    if (typeof route.via !== 'string' || !isIPv4(route.via)) throw new TypeError(`addRoute: via "${String(route.via)}" is not an IPv4 address`);
    if (route.src !== undefined && (typeof route.src !== 'string' || !isIPv4(route.src))) {
      throw new TypeError(`addRoute: src "${String(route.src)}" is not an IPv4 address`);
    }
    const metric = routeMetric('addRoute', route.metric) ?? 0;
    const rc = this.#live().addRoute(net, len, route.via, route.src ?? '', metric);
    if (rc < 0) throw new StackSystemError('addRoute', rc, route.dest);
  }

  /**
   * Deletes a static route, like `ip route del DEST [metric N]`: without a metric the one of lowest
   * metric. Throws an Error with `code` ESRCH (no such route) or EPERM (a connected route: it goes
   * with its port's address).
   */
  deleteRoute(dest: string, opts: { metric?: number } = {}): void {
    const { net, len } = parseRouteDest('deleteRoute', dest);
    const metric = routeMetric('deleteRoute', opts.metric);
    const rc = this.#live().deleteRoute(net, len, metric ?? -1);
    if (rc < 0) throw new StackSystemError('deleteRoute', rc, dest);
  }

  /** Reads a tunable, or sets it when a value is given. */
  sysctl(name: string, value?: number): number {
    const native = this.#live();
    if (value !== undefined) native.sysctlSet(name, sysctlValue(name, value));
    return native.sysctlGet(name);
  }

  /**
   * Sends ICMP echo requests from the stack to `dst` and collects the replies (-1 RTT for a
   * timeout). The first request to a new neighbour is held during ARP resolution, not lost.
   */
  async ping(dst: string, opts: PingOptions = {}): Promise<PingReply[]> {
    const { count = 1, size = 56, intervalMs = 200, timeoutMs = 1000 } = opts;
    if (!isIPv4(dst)) throw new TypeError(`ping: "${dst}" is not an IPv4 address`);
    if (!Number.isInteger(size) || size < 0 || size > 65507) throw new RangeError(`ping: size must be 0..65507, got ${size}`);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`ping: count must be a positive integer, got ${count}`);
    const replies: PingReply[] = [];
    for (let seq = 1; seq <= count; seq++) {
      const token = this.#nextToken;
      this.#nextToken = (this.#nextToken % 0xffff) + 1;
      const reply = new Promise<Omit<PingReply, 'seq'>>((resolve) => {
        const timer = setTimeout(() => {
          this.#pending.delete(token);
          resolve({ rttUs: -1, ttl: 0, bytes: 0 });
        }, timeoutMs);
        this.#pending.set(token, (r) => {
          clearTimeout(timer);
          this.#pending.delete(token);
          resolve(r);
        });
      });
      const rc = this.#live().ping(dst, token, size);
      if (rc < 0) {
        this.#pending.get(token)?.({ rttUs: -1, ttl: 0, bytes: 0 });
        throw new StackSystemError('ping', rc, dst);
      }
      replies.push({ seq, ...(await reply) });
      if (seq < count && intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
    }
    return replies;
  }

  /** Keep the event loop alive while the stack runs (the default). */
  ref(): this {
    this.#live().ref();
    return this;
  }

  /** Let the process exit even though the stack runs. */
  unref(): this {
    this.#live().unref();
    return this;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The lcore index this thread turns (inline: 0 for the thread that started the stack), or the
   * home lcore of this thread's sockets (dedicated data-path lcores).
   */
  get lcore(): number {
    return this.#live().lcore();
  }

  /**
   * Closes this thread's sockets as node closes a socket (each ffnet/dgram socket emits 'close'
   * once; ff_epoll_wait_async waits reject) and ends this handle: an attached handle detaches the
   * thread, and the last handle of the process stops lcores, closes ports and frees pools.
   * Idempotent.
   */
  async close(): Promise<void> {
    this.closeNow();
  }

  /** Synchronous close, for exit and signal handlers. */
  closeNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    running.delete(this);
    try {
      // Users of the stack's fds first: whoever closes an fd stops its watchers first.
      for (const a of [...this.#attachments.values()].reverse()) a.stackClosing();
    } finally {
      this.#attachments.clear();
      this.#wakeListeners = [];
      this.#native.close();
    }
    for (const resolve of this.#pending.values()) resolve({ rttUs: -1, ttl: 0, bytes: 0 });
    this.#pending.clear();
  }
}
