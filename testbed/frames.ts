/**
 * Test frames built byte by byte: Ethernet (with an 802.1Q tag or without), IPv4, ICMP echo, ARP and UDP builders, the Internet
 * checksum, hex and pcap conversion, and a catalogue of malformed frames with the drop counter each
 * one must bump in the stack.
 *
 * Contract: builders compute every length and checksum field correctly unless the caller overrides
 * it, so a test states exactly one fault. Addresses are taken as strings ("02:00:00:00:00:01",
 * "10.77.0.2") or raw bytes. No dependencies beyond Node's Buffer and the bench's seeded generator.
 */
import { mulberry32 } from './random.js';

/** A MAC address as "aa:bb:cc:dd:ee:ff" or 6 raw bytes. */
export type Mac = string | Uint8Array;
/** An IPv4 address as a dotted quad or 4 raw bytes. */
export type Ip4 = string | Uint8Array;

/** EtherType values used by the bench. */
export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, IPV6: 0x86dd, VLAN: 0x8100 } as const;
/** IP protocol numbers used by the bench. */
export const IPPROTO = { ICMP: 1, UDP: 17 } as const;
/** ICMP types used by the bench. */
export const ICMP_TYPE = { ECHO_REPLY: 0, ECHO_REQUEST: 8 } as const;
/** ARP opcodes. */
export const ARP_OP = { REQUEST: 1, REPLY: 2 } as const;
/** The Ethernet broadcast address. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/** Parses a MAC address into 6 bytes. */
export function macBytes(mac: Mac): Buffer {
  if (typeof mac !== 'string') return fixedLength(mac, 6, 'MAC address');
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`bad MAC address ${JSON.stringify(mac)}`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** Parses a dotted-quad IPv4 address into 4 bytes. */
export function ipBytes(ip: Ip4): Buffer {
  if (typeof ip !== 'string') return fixedLength(ip, 4, 'IPv4 address');
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new TypeError(`bad IPv4 address ${JSON.stringify(ip)}`);
  }
  return Buffer.from(parts.map(Number));
}

/** Formats 6 bytes as "aa:bb:cc:dd:ee:ff". */
export function macString(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The Internet checksum (RFC 1071) of `buf`: the ones' complement of the ones' complement sum. */
export function checksum(buf: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
  if (buf.length % 2 === 1) sum += (buf[buf.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Lower-case hex of `buf`, no separators (the format `inject-frame` takes). */
export function toHex(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('hex');
}

/** Parses hex (whitespace and ':' ignored) into bytes. */
export function fromHex(hex: string): Buffer {
  const clean = hex.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new TypeError(`bad hex string (${clean.length} digits)`);
  }
  return Buffer.from(clean, 'hex');
}

/** Fields of an Ethernet II frame. */
export interface EthernetFields {
  dst: Mac;
  src: Mac;
  /** EtherType, e.g. ETHERTYPE.IPV4. */
  type: number;
  payload?: Uint8Array;
}

/** An Ethernet II frame (no FCS, no padding: the caller decides the length). */
export function ethernet(f: EthernetFields): Buffer {
  const hdr = Buffer.alloc(14);
  macBytes(f.dst).copy(hdr, 0);
  macBytes(f.src).copy(hdr, 6);
  hdr.writeUInt16BE(f.type & 0xffff, 12);
  return Buffer.concat([hdr, f.payload ?? Buffer.alloc(0)]);
}

/** Fields of an IPv4 packet; the header fields after `payload` override computed values. */
export interface Ipv4Fields {
  src: Ip4;
  dst: Ip4;
  proto: number;
  ttl?: number;
  id?: number;
  tos?: number;
  /** Don't Fragment flag (default false). */
  df?: boolean;
  /** More Fragments flag (default false). */
  mf?: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset?: number;
  /** Option bytes appended to the 20-byte header (padded to a multiple of 4). */
  options?: Uint8Array;
  payload?: Uint8Array;
  /** Override: the version nibble (default 4). */
  version?: number;
  /** Override: the IHL nibble (default computed from the header length). */
  ihl?: number;
  /** Override: the total length field (default header + payload). */
  totalLength?: number;
  /** Override: the header checksum (default computed over the header as built). */
  checksum?: number;
}

/** An IPv4 packet with a correct header checksum unless `checksum` is given. */
export function ipv4(f: Ipv4Fields): Buffer {
  const opts = f.options ? padTo4(f.options) : Buffer.alloc(0);
  const hlen = 20 + opts.length;
  const payload = f.payload ?? Buffer.alloc(0);
  const hdr = Buffer.alloc(hlen);
  const version = f.version ?? 4;
  const ihl = f.ihl ?? hlen / 4;
  hdr[0] = ((version & 0xf) << 4) | (ihl & 0xf);
  hdr[1] = (f.tos ?? 0) & 0xff;
  hdr.writeUInt16BE((f.totalLength ?? hlen + payload.length) & 0xffff, 2);
  hdr.writeUInt16BE((f.id ?? 0) & 0xffff, 4);
  const flags = (f.df ? 0x4000 : 0) | (f.mf ? 0x2000 : 0) | ((f.fragOffset ?? 0) & 0x1fff);
  hdr.writeUInt16BE(flags, 6);
  hdr[8] = (f.ttl ?? 64) & 0xff;
  hdr[9] = f.proto & 0xff;
  ipBytes(f.src).copy(hdr, 12);
  ipBytes(f.dst).copy(hdr, 16);
  Buffer.from(opts).copy(hdr, 20);
  hdr.writeUInt16BE((f.checksum ?? checksum(hdr)) & 0xffff, 10);
  return Buffer.concat([hdr, payload]);
}

/** Fields of an ICMP echo request or reply. */
export interface IcmpEchoFields {
  /** ICMP_TYPE.ECHO_REQUEST (default) or ICMP_TYPE.ECHO_REPLY. */
  type?: number;
  code?: number;
  id: number;
  seq: number;
  payload?: Uint8Array;
  /** Override: the ICMP checksum (default computed over the whole message). */
  checksum?: number;
}

/** An ICMP echo message (RFC 792) with a correct checksum unless overridden. */
export function icmpEcho(f: IcmpEchoFields): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const msg = Buffer.alloc(8 + payload.length);
  msg[0] = (f.type ?? ICMP_TYPE.ECHO_REQUEST) & 0xff;
  msg[1] = (f.code ?? 0) & 0xff;
  msg.writeUInt16BE(f.id & 0xffff, 4);
  msg.writeUInt16BE(f.seq & 0xffff, 6);
  Buffer.from(payload).copy(msg, 8);
  msg.writeUInt16BE((f.checksum ?? checksum(msg)) & 0xffff, 2);
  return msg;
}

/** Fields of an Ethernet/IPv4 ARP packet; the fields after `tpa` override the header constants. */
export interface ArpFields {
  /** ARP_OP.REQUEST or ARP_OP.REPLY. */
  op: number;
  /** Sender hardware address. */
  sha: Mac;
  /** Sender protocol address. */
  spa: Ip4;
  /** Target hardware address (zeros in a request). */
  tha?: Mac;
  /** Target protocol address. */
  tpa: Ip4;
  /** Override: hardware type (default 1, Ethernet). */
  htype?: number;
  /** Override: protocol type (default 0x0800). */
  ptype?: number;
  /** Override: hardware address length field (default 6). The addresses stay 6 bytes long. */
  hlen?: number;
  /** Override: protocol address length field (default 4). The addresses stay 4 bytes long. */
  plen?: number;
}

/** An ARP packet (RFC 826) for Ethernet and IPv4: 28 bytes. */
export function arp(f: ArpFields): Buffer {
  const p = Buffer.alloc(28);
  p.writeUInt16BE((f.htype ?? 1) & 0xffff, 0);
  p.writeUInt16BE((f.ptype ?? ETHERTYPE.IPV4) & 0xffff, 2);
  p[4] = (f.hlen ?? 6) & 0xff;
  p[5] = (f.plen ?? 4) & 0xff;
  p.writeUInt16BE(f.op & 0xffff, 6);
  macBytes(f.sha).copy(p, 8);
  ipBytes(f.spa).copy(p, 14);
  macBytes(f.tha ?? '00:00:00:00:00:00').copy(p, 18);
  ipBytes(f.tpa).copy(p, 24);
  return p;
}

/** Fields of a UDP datagram. */
export interface UdpFields {
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
  /** Source and destination addresses for the pseudo-header; without them the checksum is 0. */
  src?: Ip4;
  dst?: Ip4;
  /** Override: the length field (default 8 + payload). */
  length?: number;
  /** Override: the checksum (default computed with the pseudo-header, or 0 without addresses). */
  checksum?: number;
}

/** A UDP datagram (RFC 768) with a correct checksum when `src` and `dst` are given. */
export function udp(f: UdpFields): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const d = Buffer.alloc(8 + payload.length);
  d.writeUInt16BE(f.srcPort & 0xffff, 0);
  d.writeUInt16BE(f.dstPort & 0xffff, 2);
  d.writeUInt16BE((f.length ?? d.length) & 0xffff, 4);
  Buffer.from(payload).copy(d, 8);
  let sum = f.checksum;
  if (sum === undefined && f.src !== undefined && f.dst !== undefined) {
    const pseudo = Buffer.alloc(12);
    ipBytes(f.src).copy(pseudo, 0);
    ipBytes(f.dst).copy(pseudo, 4);
    pseudo[9] = IPPROTO.UDP;
    pseudo.writeUInt16BE(d.length & 0xffff, 10);
    sum = checksum(Buffer.concat([pseudo, d]));
    // RFC 768: a computed checksum of zero is sent as all ones (zero means "no checksum").
    if (sum === 0) sum = 0xffff;
  }
  d.writeUInt16BE((sum ?? 0) & 0xffff, 6);
  return d;
}

/**
 * `frame` with an IEEE 802.1Q tag after its MACs: TPID 0x8100, then priority `pcp`, DEI 0 and VLAN id
 * `vid` (0: a priority tag, which carries no VLAN).
 */
export function vlanTagged(frame: Uint8Array, vid: number, pcp = 0): Buffer {
  const tag = Buffer.alloc(4);
  tag.writeUInt16BE(ETHERTYPE.VLAN, 0);
  tag.writeUInt16BE(((pcp & 7) << 13) | (vid & 0x0fff), 2);
  const f = Buffer.from(frame);
  return Buffer.concat([f.subarray(0, 12), tag, f.subarray(12)]);
}

/** Addresses of the two ends of a test link. */
export interface LinkEnds {
  srcMac: Mac;
  dstMac: Mac;
  srcIp: Ip4;
  dstIp: Ip4;
}

/** A complete Ethernet/IPv4/ICMP echo request frame. */
export function echoRequestFrame(ends: LinkEnds, id: number, seq: number, payload?: Uint8Array, ttl = 64): Buffer {
  return ethernet({
    dst: ends.dstMac,
    src: ends.srcMac,
    type: ETHERTYPE.IPV4,
    payload: ipv4({ src: ends.srcIp, dst: ends.dstIp, proto: IPPROTO.ICMP, ttl, id: seq, payload: icmpEcho({ id, seq, payload }) }),
  });
}

/** A complete Ethernet/IPv4/UDP frame. */
export function udpFrame(ends: LinkEnds, srcPort: number, dstPort: number, payload?: Uint8Array): Buffer {
  return ethernet({
    dst: ends.dstMac,
    src: ends.srcMac,
    type: ETHERTYPE.IPV4,
    payload: ipv4({
      src: ends.srcIp,
      dst: ends.dstIp,
      proto: IPPROTO.UDP,
      payload: udp({ srcPort, dstPort, payload, src: ends.srcIp, dst: ends.dstIp }),
    }),
  });
}

/** One entry of the malformed-frame catalogue. */
export interface MalformedFrame {
  /** What is wrong with the frame, e.g. "bad IP header checksum". */
  name: string;
  frame: Buffer;
  /**
   * The stack counter this frame must increment, or null when any drop counter may (random bytes).
   */
  counter: string | null;
  /**
   * False when the kernel cannot transmit the frame from a packet socket (shorter than the 14-byte
   * Ethernet header): deliver it through a pcap file (`writePcap`, net_pcap's rx_pcap) instead.
   */
  kernelInjectable: boolean;
}

/**
 * Frames the stack must drop and count, addressed from the peer to the stack. Each states exactly
 * one fault; everything else in it (lengths, checksums) is correct. Deterministic: the random
 * frames come from a fixed seed.
 */
export function malformedFrames(ourMac: Mac, ourIp: Ip4, peerMac: Mac, peerIp: Ip4): MalformedFrame[] {
  const ends: LinkEnds = { srcMac: peerMac, dstMac: ourMac, srcIp: peerIp, dstIp: ourIp };
  const echo = icmpEcho({ id: 0x4242, seq: 1, payload: pattern(32) });
  const ipFrame = (f: Partial<Ipv4Fields>, payload: Uint8Array = echo): Buffer =>
    ethernet({
      dst: ourMac,
      src: peerMac,
      type: ETHERTYPE.IPV4,
      payload: ipv4({ src: peerIp, dst: ourIp, proto: IPPROTO.ICMP, id: 7, payload, ...f }),
    });
  const arpFrame = (f: Partial<ArpFields>): Buffer =>
    ethernet({
      dst: BROADCAST_MAC,
      src: peerMac,
      type: ETHERTYPE.ARP,
      payload: padTo(arp({ op: ARP_OP.REQUEST, sha: peerMac, spa: peerIp, tpa: ourIp, ...f }), 46),
    });

  const good = ipFrame({});
  const goodIp = good.subarray(14);
  const badIpSum = ipFrame({ checksum: ipv4Checksum(goodIp) ^ 0x5555 });
  const icmpSum = echo.readUInt16BE(2);

  const out: MalformedFrame[] = [
    { name: 'truncated Ethernet header (10 bytes)', frame: good.subarray(0, 10), counter: 'eth.runt', kernelInjectable: false },
    { name: 'bad IHL (ihl=4)', frame: ipFrame({ ihl: 4 }), counter: 'ip.badhlen', kernelInjectable: true },
    {
      name: 'total length beyond the frame',
      frame: ipFrame({ totalLength: goodIp.length + 100 }),
      counter: 'ip.badlen',
      kernelInjectable: true,
    },
    { name: 'bad IP header checksum', frame: badIpSum, counter: 'ip.badsum', kernelInjectable: true },
    { name: 'TTL 0', frame: ipFrame({ ttl: 0 }), counter: 'ip.ttl_zero', kernelInjectable: true },
    { name: 'ARP with hlen 5', frame: arpFrame({ hlen: 5 }), counter: 'arp.badlen', kernelInjectable: true },
    { name: 'ARP with plen 6', frame: arpFrame({ plen: 6 }), counter: 'arp.badlen', kernelInjectable: true },
    { name: 'IP version 6 in an IPv4 ethertype', frame: ipFrame({ version: 6 }), counter: 'ip.badvers', kernelInjectable: true },
    {
      name: 'ICMP bad checksum',
      frame: ipFrame({}, icmpEcho({ id: 0x4242, seq: 1, payload: pattern(32), checksum: icmpSum ^ 0x5a5a })),
      counter: 'icmp.badsum',
      kernelInjectable: true,
    },
  ];

  const rand = mulberry32(0x0ff5eed);
  for (const size of [14, 60, 64, 200, 1514]) {
    out.push({ name: `random bytes (${size} bytes)`, frame: randomBytes(rand, size), counter: null, kernelInjectable: true });
  }
  for (const size of [34, 60, 300]) {
    const frame = ethernet({ dst: ends.dstMac, src: ends.srcMac, type: ETHERTYPE.IPV4, payload: randomBytes(rand, size - 14) });
    // Keep the random IPv4 header invalid whatever the seed produces: a valid checksum would make it a
    // (random but) acceptable packet.
    if (checksum(frame.subarray(14, 34)) === 0) frame[24] = (frame[24] ?? 0) ^ 0xff;
    out.push({ name: `random bytes after an IPv4 ethertype (${size} bytes)`, frame, counter: null, kernelInjectable: true });
  }
  for (const size of [42, 60]) {
    const frame = ethernet({ dst: ends.dstMac, src: ends.srcMac, type: ETHERTYPE.ARP, payload: randomBytes(rand, size - 14) });
    // A random ARP body must not happen to be Ethernet/IPv4 with the right lengths.
    frame[14] = 0xde;
    out.push({ name: `random bytes after an ARP ethertype (${size} bytes)`, frame, counter: null, kernelInjectable: true });
  }
  return out;
}

/** The header checksum an IPv4 header should carry (computed with its checksum field zeroed). */
export function ipv4Checksum(header: Uint8Array): number {
  const ihl = ((header[0] ?? 0) & 0xf) * 4;
  const h = Buffer.from(header.subarray(0, Math.max(20, ihl)));
  h.writeUInt16BE(0, 10);
  return checksum(h);
}

/** A classic little-endian pcap file (LINKTYPE_ETHERNET, microsecond stamps) holding `frames`. */
export function writePcap(frames: Uint8Array[], snaplen = 65535): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(snaplen, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(0, 0);
    rec.writeUInt32LE(i, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

/** The frames of a classic pcap file (either byte order, micro- or nanosecond stamps). */
export function readPcap(file: Uint8Array): Buffer[] {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 24) throw new Error(`pcap file too short (${buf.length} bytes)`);
  const magicLe = buf.readUInt32LE(0);
  let le: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) le = true;
  else if (buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d) le = false;
  else throw new Error(`not a classic pcap file (magic 0x${magicLe.toString(16)}; pcapng is not supported)`);
  const u32 = (off: number): number => (le ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
  const frames: Buffer[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    off += 16;
    if (off + incl > buf.length) throw new Error(`pcap record at ${off - 16} runs past the end of the file`);
    frames.push(Buffer.from(buf.subarray(off, off + incl)));
    off += incl;
  }
  return frames;
}

/** `n` bytes counting up from 0 (mod 256): a recognisable payload. */
export function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i & 0xff;
  return b;
}

/** Zero-pads `buf` to at least `len` bytes (Ethernet's 60-byte minimum without FCS, say). */
export function padTo(buf: Uint8Array, len: number): Buffer {
  if (buf.length >= len) return Buffer.from(buf);
  return Buffer.concat([buf, Buffer.alloc(len - buf.length)]);
}

function padTo4(buf: Uint8Array): Buffer {
  return padTo(buf, Math.ceil(buf.length / 4) * 4);
}

function fixedLength(bytes: Uint8Array, n: number, what: string): Buffer {
  if (bytes.length !== n) throw new TypeError(`${what} must be ${n} bytes, got ${bytes.length}`);
  return Buffer.from(bytes);
}


function randomBytes(next: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}
