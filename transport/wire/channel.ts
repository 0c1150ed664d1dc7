/**
 * Aeron UDP channel strings: `aeron:udp?endpoint=HOST:PORT|interface=ADDR|term-length=…|mtu=…|
 * fc=…|cc=…|session-id=…|gtag=…|rcv-wnd=…|ttl=…|init-term-id=…`. Parameters follow the `?` as `key=value` pairs separated by `|`.
 * HOST is an IPv4 address, a host name, or a bracketed IPv6 address (`[::1]:40123`); a multicast group
 * of either family (`239.7.0.1:40456`, `[ff02::1:4001]:40456`) with `interface=` written as Aeron's
 * InterfaceSearchAddress: `ADDR[:PORT][/PREFIX]`, an IPv6 ADDR bracketed and optionally scoped
 * (`[fe80::1%port0]/64`).
 *
 * `UdpChannel.parse` validates every parameter and throws `ChannelError` naming the one at fault;
 * `toString()` writes the parameters that were given, in a fixed order, so parse → toString → parse
 * is the identity. Defaults (term length 16 MiB, MTU 1408, fc=max, cc=static) are applied by the
 * getters, not written back.
 */
import { isIPv6 } from 'node:net';
import { ipv6Bytes, ipv6Text, isIPv6Literal } from '../../posix/ipv6.js';
import { TERM_DEFAULT_LENGTH, positionBitsToShift } from './position.js';

/** MTU when a channel does not set one. */
export const DEFAULT_MTU = 1408;
/** Largest MTU: Aeron's limit, the largest UDP payload rounded down to the frame alignment. */
export const MAX_MTU = 65504;

/** A channel string that cannot be used; `param` names the parameter at fault. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`${param}: ${message}`);
  }
}

/** A host and port. */
export interface Endpoint {
  /** An IPv4 dotted quad, an IPv6 address (without brackets) or a host name. */
  host: string;
  port: number;
}

/** A channel's `interface=` parameter: the local address, its IPv6 scope, port and prefix length. */
export interface LocalInterface {
  /** An IPv4 dotted quad or an IPv6 address (without brackets or scope). */
  address: string;
  /** The IPv6 scope (`%name`), when given. */
  scope?: string;
  /** The local port (0: any). */
  port: number;
  /** The prefix length matching the host's interface addresses (default: the whole address). */
  prefixLength: number;
}

/** Flow control on a multicast sender. */
export interface FlowControl {
  /** max follows the fastest receiver, min the slowest, tagged the slowest of a tagged group. */
  strategy: 'max' | 'min' | 'tagged';
  /** The group tag (`g:TAG`) whose SMs count, for tagged. */
  groupTag?: bigint;
  /** The minimum group size (`g:TAG/MIN` or `g:/MIN`). */
  groupMinSize?: number;
}

/** Congestion control: a static window (default) or CUBIC. */
export type CongestionControl = 'static' | 'cubic';

/** The parameters of a UDP channel as written; absent ones take their defaults. */
export interface UdpChannelParams {
  endpoint: Endpoint;
  /** The local interface: `ADDR[:PORT][/PREFIX]`, an IPv6 ADDR as `[ADDR%SCOPE]` (see LocalInterface). */
  interface?: string;
  termLength?: number;
  mtu?: number;
  fc?: FlowControl;
  cc?: CongestionControl;
  sessionId?: number;
  /** The group tag a receiver puts in its SMs (`gtag=`), counted by tagged flow control. */
  groupTag?: bigint;
  /** The receiver window a subscription grants (`rcv-wnd=`), before congestion control. */
  receiverWindow?: number;
  /** Multicast TTL of the data a publication sends (`ttl=`); default 1. */
  ttl?: number;
  /** A publication's initial term id (`init-term-id=`); random when absent. */
  initialTermId?: number;
}

const PREFIX = 'aeron:udp';
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A parsed, validated `aeron:udp` channel. */
export class UdpChannel {
  /** The parameters as given. */
  readonly params: Readonly<UdpChannelParams>;

  constructor(params: UdpChannelParams) {
    this.params = validate(params);
  }

  /** Parses and validates a channel string; throws ChannelError naming the bad parameter. */
  static parse(channel: string): UdpChannel {
    if (!channel.startsWith(PREFIX)) throw new ChannelError('media', `${JSON.stringify(channel)} is not an aeron:udp channel`);
    const rest = channel.slice(PREFIX.length);
    if (!rest.startsWith('?')) throw new ChannelError('endpoint', 'is required (aeron:udp?endpoint=HOST:PORT)');
    const raw = new Map<string, string>();
    for (const part of rest.slice(1).split('|')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new ChannelError(part || '(empty)', 'expected key=value');
      const key = part.slice(0, eq);
      if (raw.has(key)) throw new ChannelError(key, 'given twice');
      raw.set(key, part.slice(eq + 1));
    }
    const params: UdpChannelParams = { endpoint: { host: '', port: 0 } };
    let sawEndpoint = false;
    for (const [key, value] of raw) {
      switch (key) {
        case 'endpoint':
          params.endpoint = parseEndpoint(value);
          sawEndpoint = true;
          break;
        case 'interface':
          params.interface = value;
          break;
        case 'term-length':
          params.termLength = parseSize(key, value);
          break;
        case 'mtu':
          params.mtu = parseSize(key, value);
          break;
        case 'fc':
          params.fc = parseFlowControl(value);
          break;
        case 'cc':
          if (value !== 'static' && value !== 'cubic') throw new ChannelError(key, `${JSON.stringify(value)} is not static or cubic`);
          params.cc = value;
          break;
        case 'session-id':
          if (!/^-?\d+$/.test(value)) throw new ChannelError(key, `${JSON.stringify(value)} is not an integer`);
          params.sessionId = Number(value);
          break;
        case 'gtag':
          if (!/^-?\d+$/.test(value)) throw new ChannelError(key, `${JSON.stringify(value)} is not an integer`);
          params.groupTag = BigInt(value);
          break;
        case 'rcv-wnd':
          params.receiverWindow = parseSize(key, value);
          break;
        case 'init-term-id':
          if (!/^-?\d+$/.test(value)) throw new ChannelError(key, `${JSON.stringify(value)} is not an integer`);
          params.initialTermId = Number(value);
          break;
        case 'ttl':
          if (!/^\d{1,3}$/.test(value)) throw new ChannelError(key, `${JSON.stringify(value)} is not an integer in 0–255`);
          params.ttl = Number(value);
          break;
        default:
          throw new ChannelError(key, 'is not a parameter ffnet supports');
      }
    }
    if (!sawEndpoint) throw new ChannelError('endpoint', 'is required');
    return new UdpChannel(params);
  }

  /** The data endpoint. */
  get endpoint(): Endpoint {
    return this.params.endpoint;
  }

  /** True when the endpoint is an IPv6 address: the channel's sockets are udp6. */
  get ipv6(): boolean {
    return isIPv6(this.params.endpoint.host);
  }

  /** True when the endpoint is a multicast group (224.0.0.0/4 or ff00::/8). */
  get multicast(): boolean {
    return isMulticast(this.params.endpoint.host);
  }

  /**
   * Where SMs and NAKs go for a multicast channel: the data group with its last byte + 1, same port, as
   * Aeron's driver computes it for both families (the last byte is odd; 255 wraps to 0 without a carry),
   * with the group's IPv6 scope.
   * Undefined for unicast, where they go to the sender's source address.
   */
  get controlEndpoint(): Endpoint | undefined {
    if (!this.multicast) return undefined;
    const bytes = addressBytes(this.params.endpoint.host) as Uint8Array;
    bytes[bytes.length - 1] = (bytes.at(-1) as number) + 1;
    const { host, port } = this.params.endpoint;
    const scope = host.includes('%') ? host.slice(host.indexOf('%')) : '';
    return { host: bytes.length === 4 ? bytes.join('.') : `${ipv6Text(bytes, 0)}${scope}`, port };
  }

  /** The `interface=` parameter parsed, or undefined when absent. */
  get localInterface(): LocalInterface | undefined {
    return this.params.interface === undefined ? undefined : (parseInterface(this.params.interface) as LocalInterface);
  }

  /** Term length in bytes (default 16 MiB). */
  get termLength(): number {
    return this.params.termLength ?? TERM_DEFAULT_LENGTH;
  }

  /** MTU in bytes (default 1408). */
  get mtu(): number {
    return this.params.mtu ?? DEFAULT_MTU;
  }

  /** Flow control (default max). */
  get flowControl(): FlowControl {
    return this.params.fc ?? { strategy: 'max' };
  }

  /** Congestion control (default static). */
  get congestionControl(): CongestionControl {
    return this.params.cc ?? 'static';
  }

  /** Multicast TTL (default 1). */
  get ttl(): number {
    return this.params.ttl ?? 1;
  }

  /**
   * The channel string: the given parameters in the order endpoint, interface, term-length, mtu, fc, cc,
   * session-id, gtag, rcv-wnd, ttl, init-term-id.
   */
  toString(): string {
    const p = this.params;
    const host = isIPv6(p.endpoint.host) ? `[${p.endpoint.host}]` : p.endpoint.host;
    const parts = [`endpoint=${host}:${p.endpoint.port}`];
    if (p.interface !== undefined) parts.push(`interface=${p.interface}`);
    if (p.termLength !== undefined) parts.push(`term-length=${p.termLength}`);
    if (p.mtu !== undefined) parts.push(`mtu=${p.mtu}`);
    if (p.fc !== undefined) parts.push(`fc=${flowControlString(p.fc)}`);
    if (p.cc !== undefined) parts.push(`cc=${p.cc}`);
    if (p.sessionId !== undefined) parts.push(`session-id=${p.sessionId}`);
    if (p.groupTag !== undefined) parts.push(`gtag=${p.groupTag}`);
    if (p.receiverWindow !== undefined) parts.push(`rcv-wnd=${p.receiverWindow}`);
    if (p.ttl !== undefined) parts.push(`ttl=${p.ttl}`);
    if (p.initialTermId !== undefined) parts.push(`init-term-id=${p.initialTermId}`);
    return `${PREFIX}?${parts.join('|')}`;
  }
}

/** True for an IPv4 dotted quad in 224.0.0.0/4 or an IPv6 address in ff00::/8. */
export function isMulticast(host: string): boolean {
  const m = IPV4.exec(host);
  if (m !== null) return Number(m[1]) >= 224 && Number(m[1]) <= 239;
  return ipv6Bytes(host)?.[0] === 0xff;
}

/** The bytes of an IPv4 or IPv6 literal (network order), or undefined for a host name. */
function addressBytes(host: string): Uint8Array | undefined {
  return isIpv4(host) ? Uint8Array.from(host.split('.').map(Number)) : ipv6Bytes(host);
}

/**
 * `ADDR[:PORT][/PREFIX]` as Aeron's InterfaceSearchAddress reads it: an IPv4 ADDR bare, an IPv6 one in
 * brackets with an optional `%scope` (Aeron's scope characters); undefined when malformed.
 */
function parseInterface(value: string): LocalInterface | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)(?:%([\w.~-]+))?\]|([^:/[\]%]+))(?::(\d{1,5}))?(?:\/(\d{1,3}))?$/.exec(value);
  if (m === null) return undefined;
  const v6 = m[1] !== undefined;
  const address = (v6 ? m[1] : m[3]) as string;
  const port = m[4] === undefined ? 0 : Number(m[4]);
  const prefixLength = m[5] === undefined ? (v6 ? 128 : 32) : Number(m[5]);
  if (!(v6 ? isIPv6Literal(address) : isIpv4(address)) || port > 65535 || prefixLength > (v6 ? 128 : 32)) return undefined;
  return { address, ...(m[2] !== undefined && { scope: m[2] }), port, prefixLength };
}

function validate(p: UdpChannelParams): UdpChannelParams {
  const { host, port } = p.endpoint;
  const v6 = isIPv6(host);
  if (!v6 && !isIpv4(host) && (IPV4.test(host) || !HOSTNAME.test(host))) {
    throw new ChannelError('endpoint', `${JSON.stringify(host)} is not an IPv4 address, [IPv6 address] or host name`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ChannelError('endpoint', `port ${port} is not in 1–65535`);
  // The control address is the data group with its last byte + 1 (Aeron: "multicast data address must be odd").
  if (isMulticast(host) && ((addressBytes(host) as Uint8Array).at(-1) as number) % 2 !== 1) {
    throw new ChannelError('endpoint', `multicast data group ${host} must have an odd last byte`);
  }
  if (p.interface !== undefined) {
    const local = parseInterface(p.interface);
    if (local === undefined) {
      throw new ChannelError('interface', `${JSON.stringify(p.interface)} is not ADDR[:PORT][/PREFIX] (an IPv4 ADDR, or [IPv6 ADDR%SCOPE])`);
    }
    // A host name endpoint is resolved later; a literal one fixes the sockets' family.
    if ((v6 || isIpv4(host)) && isIPv6(local.address) !== v6) {
      throw new ChannelError('interface', `${JSON.stringify(p.interface)} is not an ${v6 ? 'IPv6' : 'IPv4'} address, as the endpoint is`);
    }
  }
  if (p.termLength !== undefined) {
    try {
      positionBitsToShift(p.termLength);
    } catch {
      throw new ChannelError('term-length', `${p.termLength} is not a power of two in 64 KiB – 1 GiB`);
    }
  }
  // Aeron's driver takes an MTU above the 32-byte data header, a multiple of the 32-byte frame
  // alignment, and at most 65504.
  if (p.mtu !== undefined && (!Number.isInteger(p.mtu) || p.mtu <= 32 || p.mtu > MAX_MTU || p.mtu % 32 !== 0)) {
    throw new ChannelError('mtu', `${p.mtu} is not a multiple of 32 in 64–${MAX_MTU}`);
  }
  if (p.fc !== undefined) {
    const { strategy, groupTag, groupMinSize } = p.fc;
    if (strategy !== 'max' && strategy !== 'min' && strategy !== 'tagged') throw new ChannelError('fc', `unknown strategy ${String(strategy)}`);
    if (strategy === 'max' && (groupTag !== undefined || groupMinSize !== undefined)) {
      throw new ChannelError('fc', 'max follows the fastest receiver and takes no group (g:)');
    }
    if (strategy === 'min' && groupTag !== undefined) throw new ChannelError('fc', 'min takes a group size (g:/MIN), not a tag');
    if (groupTag !== undefined && (groupTag < -(1n << 63n) || groupTag >= 1n << 63n)) {
      throw new ChannelError('fc', `group tag ${groupTag} is not a 64-bit integer`);
    }
    if (groupMinSize !== undefined && (!Number.isInteger(groupMinSize) || groupMinSize < 0 || groupMinSize > 0x7fffffff)) {
      throw new ChannelError('fc', `group size ${groupMinSize} is not a non-negative integer`);
    }
  }
  if (p.cc !== undefined && p.cc !== 'static' && p.cc !== 'cubic') throw new ChannelError('cc', `${String(p.cc)} is not static or cubic`);
  if (p.sessionId !== undefined && (!Number.isInteger(p.sessionId) || p.sessionId < -0x80000000 || p.sessionId > 0x7fffffff)) {
    throw new ChannelError('session-id', `${p.sessionId} is not a 32-bit signed integer`);
  }
  if (p.groupTag !== undefined && (p.groupTag < -(1n << 63n) || p.groupTag >= 1n << 63n)) {
    throw new ChannelError('gtag', `${p.groupTag} is not a 64-bit integer`);
  }
  if (p.receiverWindow !== undefined && (!Number.isInteger(p.receiverWindow) || p.receiverWindow < 4096 || p.receiverWindow > 0x40000000)) {
    throw new ChannelError('rcv-wnd', `${p.receiverWindow} is not a size in 4 KiB – 1 GiB`);
  }
  if (p.ttl !== undefined && (!Number.isInteger(p.ttl) || p.ttl < 0 || p.ttl > 255)) throw new ChannelError('ttl', `${p.ttl} is not in 0–255`);
  if (p.initialTermId !== undefined && (!Number.isInteger(p.initialTermId) || p.initialTermId < -0x80000000 || p.initialTermId > 0x7fffffff)) {
    throw new ChannelError('init-term-id', `${p.initialTermId} is not a 32-bit signed integer`);
  }
  return Object.freeze({ ...p, endpoint: Object.freeze({ ...p.endpoint }), ...(p.fc && { fc: Object.freeze({ ...p.fc }) }) });
}

function isIpv4(s: string): boolean {
  const m = IPV4.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255 && (o === '0' || !o.startsWith('0')));
}

function parseEndpoint(value: string): Endpoint {
  // An IPv6 literal is bracketed, as in URIs (RFC 3986 §3.2.2) and Aeron: [::1]:40123.
  const v6 = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value);
  if (v6) {
    if (!isIPv6(v6[1] as string)) throw new ChannelError('endpoint', `${JSON.stringify(v6[1])} is not an IPv6 address`);
    return { host: v6[1] as string, port: Number(v6[2]) };
  }
  const colon = value.lastIndexOf(':');
  if (colon <= 0 || !/^\d{1,5}$/.test(value.slice(colon + 1))) {
    throw new ChannelError('endpoint', `${JSON.stringify(value)} is not HOST:PORT`);
  }
  if (value.slice(0, colon).includes(':')) {
    throw new ChannelError('endpoint', `${JSON.stringify(value)}: an IPv6 address is written in brackets, [ADDR]:PORT`);
  }
  return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) };
}

/** A byte count: digits with an optional binary k/m/g suffix, as Aeron writes them (64k, 16m). */
function parseSize(param: string, value: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(value);
  if (m === null) throw new ChannelError(param, `${JSON.stringify(value)} is not a size`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new ChannelError(param, `${value} is too large`);
  return n;
}

function parseFlowControl(value: string): FlowControl {
  const [strategy, ...options] = value.split(',');
  if (strategy !== 'max' && strategy !== 'min' && strategy !== 'tagged') {
    throw new ChannelError('fc', `${JSON.stringify(strategy)} is not min, max or tagged`);
  }
  const fc: FlowControl = { strategy };
  for (const option of options) {
    const m = /^g:(-?\d+)?(?:\/(\d+))?$/.exec(option);
    if (m === null || (m[1] === undefined && m[2] === undefined)) {
      throw new ChannelError('fc', `option ${JSON.stringify(option)} is not g:TAG, g:TAG/MIN or g:/MIN`);
    }
    if (m[1] !== undefined) fc.groupTag = BigInt(m[1]);
    if (m[2] !== undefined) fc.groupMinSize = Number(m[2]);
  }
  return fc;
}

function flowControlString(fc: FlowControl): string {
  if (fc.groupTag === undefined && fc.groupMinSize === undefined) return fc.strategy;
  const min = fc.groupMinSize === undefined ? '' : `/${fc.groupMinSize}`;
  return `${fc.strategy},g:${fc.groupTag ?? ''}${min}`;
}
