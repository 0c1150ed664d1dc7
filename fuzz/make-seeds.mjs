// Writes the seed corpus of fuzz/stack_input_fuzz.c into a directory (default build-fuzz/seeds):
// the captured frames of test/fixtures (*.pcap), testbed/frames.ts's malformed frames, and frames
// built for the harness's sockets — unicast, broadcast and multicast UDP, IPv4 options, fragment
// trains (in order, reversed, overlapping, expiring), ICMP errors quoting our datagrams, IGMP
// queries of each version, ARP. Each seed is in the harness's record format: per frame a 2-byte
// big-endian header (length; top bit: advance the clock a second first) and the frame.
//
// IPv6: echo, Neighbor Discovery (valid and with bad options), MLD queries of each version, UDP,
// extension header chains (every option action, misplaced and unknown headers, routing headers),
// fragment trains (tiny, overlapping, incomplete first fragments, atomic) and ICMPv6 errors. With
// --wire-ipv6=DIR2 the IPv6 packets of all the seeds' frames are also written to DIR2, one per file,
// as fuzz/wire_ipv6_fuzz.c takes them.
//
// Needs the TypeScript build (dist/testbed/frames.js). Usage: node fuzz/make-seeds.mjs [DIR] [--wire-ipv6=DIR2]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const f = await import(join(root, 'dist/testbed/frames.js'));
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const out = resolve(positional[0] ?? join(root, 'build-fuzz/seeds'));
mkdirSync(out, { recursive: true });
const wireArg = process.argv.find((a) => a.startsWith('--wire-ipv6='));
const wireOut = wireArg ? resolve(wireArg.slice('--wire-ipv6='.length)) : undefined;
if (wireOut) mkdirSync(wireOut, { recursive: true });

// The harness's addresses: the two ends of test/fixtures/veth.hex, the stack at .2.
const OUR_MAC = '02:00:00:99:00:02';
const PEER_MAC = '02:00:00:99:00:01';
const OUR_IP = '10.99.0.2';
const PEER_IP = '10.99.0.1';
const SUBNET_BCAST = '10.99.0.255';
const GROUP = '239.1.2.3';
const SSM_GROUP = '232.1.1.1';
const ends = { srcMac: PEER_MAC, dstMac: OUR_MAC, srcIp: PEER_IP, dstIp: OUR_IP };

let count = 0;
/** Writes one seed: frames (Buffers, or { frame, tick } to advance the clock first). */
function seed(name, frames) {
  const parts = [];
  for (const item of frames) {
    const frame = item.frame ?? item;
    const hdr = Buffer.alloc(2);
    hdr.writeUInt16BE((frame.length & 0x7fff) | (item.tick ? 0x8000 : 0));
    parts.push(hdr, frame);
  }
  const file = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  writeFileSync(join(out, `${file}.bin`), Buffer.concat(parts));
  count++;
  if (!wireOut) return;
  frames.forEach((item, i) => {
    const frame = item.frame ?? item;
    if (frame.length > 14 && frame.readUInt16BE(12) === f.ETHERTYPE.IPV6) writeFileSync(join(wireOut, `${file}-${i}.bin`), frame.subarray(14));
  });
}

function multicastMac(group) {
  const b = f.ipBytes(group);
  return Buffer.from([0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]]);
}

function ipFrame(dstMac, ip) {
  return f.ethernet({ dst: dstMac, src: PEER_MAC, type: f.ETHERTYPE.IPV4, payload: f.ipv4(ip) });
}

function udpTo(dst, dstPort, payload, extra = {}, dstMac = OUR_MAC, srcPort = 40000) {
  const u = f.udp({ srcPort, dstPort, payload, src: PEER_IP, dst });
  return ipFrame(dstMac, { src: PEER_IP, dst, proto: f.IPPROTO.UDP, payload: u, ...extra });
}

// --- captured frames
for (const name of readdirSync(join(root, 'test/fixtures')).filter((n) => n.endsWith('.pcap')).sort()) {
  const frames = f.readPcap(readFileSync(join(root, 'test/fixtures', name)));
  frames.forEach((frame, i) => seed(`fixture-${name.replace('.pcap', '')}-${i}`, [frame]));
  seed(`fixture-${name.replace('.pcap', '')}-all`, frames);
}

// --- malformed frames of the bad-frames suite
for (const m of f.malformedFrames(OUR_MAC, OUR_IP, PEER_MAC, PEER_IP)) seed(`malformed-${m.name}`, [m.frame]);

// --- ARP
seed('arp-request', [f.ethernet({ dst: f.BROADCAST_MAC, src: PEER_MAC, type: f.ETHERTYPE.ARP,
  payload: f.arp({ op: f.ARP_OP.REQUEST, sha: PEER_MAC, spa: PEER_IP, tpa: OUR_IP }) })]);
seed('arp-reply', [f.ethernet({ dst: OUR_MAC, src: PEER_MAC, type: f.ETHERTYPE.ARP,
  payload: f.arp({ op: f.ARP_OP.REPLY, sha: PEER_MAC, spa: PEER_IP, tha: OUR_MAC, tpa: OUR_IP }) })]);
seed('arp-gratuitous', [f.ethernet({ dst: f.BROADCAST_MAC, src: PEER_MAC, type: f.ETHERTYPE.ARP,
  payload: f.arp({ op: f.ARP_OP.REQUEST, sha: PEER_MAC, spa: PEER_IP, tpa: PEER_IP }) })]);

// --- ICMP echo (answered: the reply needs ARP, which the harness's timers expire)
seed('echo', [f.echoRequestFrame(ends, 7, 1, f.pattern(56))]);
seed('echo-after-arp', [
  f.ethernet({ dst: OUR_MAC, src: PEER_MAC, type: f.ETHERTYPE.ARP,
    payload: f.arp({ op: f.ARP_OP.REPLY, sha: PEER_MAC, spa: PEER_IP, tha: OUR_MAC, tpa: OUR_IP }) }),
  f.echoRequestFrame(ends, 7, 2, f.pattern(56)),
]);

// --- UDP to each kind of socket
const payload = f.pattern(64);
seed('udp-unicast-any', [udpTo(OUR_IP, 7, payload)]);
seed('udp-unicast-bound', [udpTo(OUR_IP, 9, payload)]);
seed('udp-connected', [udpTo(OUR_IP, 5353, payload, {}, OUR_MAC, 53)]);
seed('udp-closed-port', [udpTo(OUR_IP, 12345, payload)]);
seed('udp-subnet-broadcast', [udpTo(SUBNET_BCAST, 67, payload, {}, f.BROADCAST_MAC)]);
seed('udp-limited-broadcast', [udpTo('255.255.255.255', 67, payload, {}, f.BROADCAST_MAC)]);
seed('udp-multicast-reuseaddr', [udpTo(GROUP, 5000, payload, {}, multicastMac(GROUP))]);
seed('udp-multicast-ssm', [udpTo(SSM_GROUP, 5001, payload, {}, multicastMac(SSM_GROUP))]);
seed('udp-zero-checksum', [ipFrame(OUR_MAC, { src: PEER_IP, dst: OUR_IP, proto: f.IPPROTO.UDP,
  payload: f.udp({ srcPort: 1, dstPort: 7, payload, checksum: 0 }) })]);
seed('udp-max-payload', [udpTo(OUR_IP, 7, f.pattern(1472))]);

// --- IPv4 options: record route, timestamp, router alert, end/nop padding
const rr = Buffer.from([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
const ts = Buffer.from([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const ra = Buffer.from([148, 4, 0, 0]);
seed('ipv4-option-rr', [udpTo(OUR_IP, 7, payload, { options: rr })]);
seed('ipv4-option-ts', [udpTo(OUR_IP, 7, payload, { options: ts })]);
seed('ipv4-option-ra-nop-end', [udpTo(OUR_IP, 7, payload, { options: Buffer.concat([Buffer.from([1]), ra, Buffer.from([0])]) })]);
seed('ipv4-echo-with-options', [ipFrame(OUR_MAC, { src: PEER_IP, dst: OUR_IP, proto: f.IPPROTO.ICMP, options: rr,
  payload: f.icmpEcho({ id: 1, seq: 1, payload: f.pattern(16) }) })]);

// --- fragment trains of a 3000-byte datagram to port 7
function fragments(dst, dstPort, size, chunk, id, dstMac = OUR_MAC) {
  const u = f.udp({ srcPort: 40000, dstPort, payload: f.pattern(size - 8), src: PEER_IP, dst });
  const frames = [];
  for (let off = 0; off < u.length; off += chunk) {
    const part = u.subarray(off, Math.min(off + chunk, u.length));
    frames.push(ipFrame(dstMac, { src: PEER_IP, dst, proto: f.IPPROTO.UDP, id, fragOffset: off / 8,
      mf: off + chunk < u.length, payload: part }));
  }
  return frames;
}
const train = fragments(OUR_IP, 7, 3000, 1480, 0x1234);
seed('frag-in-order', train);
seed('frag-reversed', [...train].reverse());
seed('frag-duplicate', [train[0], train[0], train[1], train[2]]);
seed('frag-missing-last', train.slice(0, 2));
seed('frag-expiring', [train[0], { frame: train[1], tick: true }, { frame: train[2], tick: true }]);
seed('frag-small-overlapping', [...fragments(OUR_IP, 7, 200, 64, 0x99), ...fragments(OUR_IP, 7, 200, 48, 0x99)]);
seed('frag-multicast', fragments(GROUP, 5000, 2000, 1480, 0x77, multicastMac(GROUP)));
seed('frag-echo', (() => {
  const icmp = f.icmpEcho({ id: 3, seq: 3, payload: f.pattern(2000) });
  return [0, 1480].map((off) => ipFrame(OUR_MAC, { src: PEER_IP, dst: OUR_IP, proto: f.IPPROTO.ICMP, id: 0x55,
    fragOffset: off / 8, mf: off === 0, payload: icmp.subarray(off, Math.min(off + 1480, icmp.length)) }));
})());

// --- ICMP errors quoting what our sockets sent (and quoting anything)
function icmpError(type, code, quoted, rest = 0) {
  const msg = Buffer.alloc(8 + quoted.length);
  msg[0] = type;
  msg[1] = code;
  msg.writeUInt32BE(rest, 4);
  quoted.copy(msg, 8);
  msg.writeUInt16BE(f.checksum(msg), 2);
  return ipFrame(OUR_MAC, { src: PEER_IP, dst: OUR_IP, proto: f.IPPROTO.ICMP, payload: msg });
}
const sentByUs = f.ipv4({ src: OUR_IP, dst: PEER_IP, proto: f.IPPROTO.UDP,
  payload: f.udp({ srcPort: 5353, dstPort: 53, payload: f.pattern(12), src: OUR_IP, dst: PEER_IP }) });
seed('icmp-port-unreachable', [icmpError(3, 3, sentByUs)]);
seed('icmp-port-unreachable-short-quote', [icmpError(3, 3, sentByUs.subarray(0, 28))]);
seed('icmp-frag-needed', [icmpError(3, 4, sentByUs, 576)]);
seed('icmp-time-exceeded', [icmpError(11, 0, sentByUs)]);
seed('icmp-param-problem', [icmpError(12, 0, sentByUs, 0x14000000)]);
seed('icmp-quoting-options', [icmpError(3, 3, f.ipv4({ src: OUR_IP, dst: PEER_IP, proto: f.IPPROTO.UDP, options: rr,
  payload: f.udp({ srcPort: 5353, dstPort: 53, payload: f.pattern(4) }) }))]);
seed('icmp-quoting-icmp', [icmpError(3, 1, f.ipv4({ src: OUR_IP, dst: PEER_IP, proto: f.IPPROTO.ICMP,
  payload: f.icmpEcho({ id: 1, seq: 1 }) }))]);

// --- IGMP queries (RFC 1112, 2236, 3376), with Router Alert as routers send them
function igmp(dst, msg, dstMac) {
  msg.writeUInt16BE(0, 2);
  msg.writeUInt16BE(f.checksum(msg), 2);
  return ipFrame(dstMac, { src: PEER_IP, dst, proto: 2, ttl: 1, tos: 0xc0, options: ra, payload: msg });
}
const allHosts = '224.0.0.1';
const allHostsMac = multicastMac(allHosts);
seed('igmp-v1-query', [igmp(allHosts, Buffer.from([0x11, 0, 0, 0, 0, 0, 0, 0]), allHostsMac)]);
seed('igmp-v2-general-query', [igmp(allHosts, Buffer.from([0x11, 100, 0, 0, 0, 0, 0, 0]), allHostsMac)]);
seed('igmp-v2-group-query', [igmp(GROUP, Buffer.from([0x11, 10, 0, 0, 239, 1, 2, 3]), multicastMac(GROUP))]);
seed('igmp-v3-general-query', [igmp(allHosts, Buffer.from([0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0]), allHostsMac)]);
seed('igmp-v3-group-source-query', [igmp(SSM_GROUP, Buffer.from([0x11, 100, 0, 0, 232, 1, 1, 1, 2, 125, 0, 1, 10, 99, 0, 1]),
  multicastMac(SSM_GROUP))]);
seed('igmp-v2-report-suppression', [igmp(GROUP, Buffer.from([0x16, 0, 0, 0, 239, 1, 2, 3]), multicastMac(GROUP))]);
seed('igmp-v3-query-then-timers', [
  igmp(allHosts, Buffer.from([0x11, 10, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0]), allHostsMac),
  { frame: igmp(allHosts, Buffer.from([0x11, 10, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0]), allHostsMac), tick: true },
]);

// --- IPv6 (RFC 8200), ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861), MLD (RFC 2710, 3810).
// The stack's addresses are the fixtures' veth1 end: its EUI-64 link-local address and 2001:db8::2.
const OUR_LL = 'fe80::ff:fe99:2';
const PEER_LL = 'fe80::ff:fe99:1';
const OUR6 = '2001:db8::2';
const PEER6 = '2001:db8::1';
const NH = { HOPOPTS: 0, UDP: 17, ROUTING: 43, FRAGMENT: 44, ICMPV6: 58, NONE: 59, DSTOPTS: 60 };

/** An IPv6 address in text (full or with one "::") as 16 bytes. */
function ip6(text) {
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}
function solicitedNode(text) {
  const b = Buffer.from(ip6('ff02::1:ff00:0'));
  ip6(text).copy(b, 13, 13);
  return b;
}
const hexOf = (b) => [...b].map((x) => x.toString(16)).join(':');
function mcastMac6(addr) {
  const b = typeof addr === 'string' ? ip6(addr) : addr;
  return hexOf(Buffer.from([0x33, 0x33, b[12], b[13], b[14], b[15]])).replace(/\b(\w)\b/g, '0$1');
}
const textOf = (b) => (typeof b === 'string' ? b : [...Array(8).keys()].map((i) => b.readUInt16BE(2 * i).toString(16)).join(':'));
/** The checksum of an upper-layer message over the IPv6 pseudo-header (RFC 8200 §8.1). */
function sum6(src, dst, nh, body) {
  const pseudo = Buffer.alloc(40);
  ip6(textOf(src)).copy(pseudo, 0);
  ip6(textOf(dst)).copy(pseudo, 16);
  pseudo.writeUInt32BE(body.length, 32);
  pseudo[39] = nh;
  return f.checksum(Buffer.concat([pseudo, body]));
}
function ipv6Packet({ src, dst, nh, hlim = 64, payload, payloadLen }) {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLen ?? payload.length, 4);
  h[6] = nh;
  h[7] = hlim;
  ip6(textOf(src)).copy(h, 8);
  ip6(textOf(dst)).copy(h, 24);
  return Buffer.concat([h, payload]);
}
function frame6(dstMac, ip) {
  return f.ethernet({ dst: dstMac, src: PEER_MAC, type: f.ETHERTYPE.IPV6, payload: ipv6Packet(ip) });
}
function icmp6(src, dst, type, code, rest, body = Buffer.alloc(0)) {
  const m = Buffer.concat([Buffer.from([type, code, 0, 0]), rest, body]);
  m.writeUInt16BE(sum6(src, dst, NH.ICMPV6, m), 2);
  return m;
}
function udp6(src, dst, srcPort, dstPort, payload, checksum) {
  const u = f.udp({ srcPort, dstPort, payload, checksum: 0 });
  u.writeUInt16BE(checksum ?? (sum6(src, dst, NH.UDP, u) || 0xffff), 6);
  return u;
}
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
/** An extension header (Hop-by-Hop, Destination Options or Routing layout) holding `body` after its
 *  first two octets, padded with zeros to a multiple of 8. */
function ext(nh, body) {
  const len = Math.ceil((body.length + 2) / 8) * 8;
  const h = Buffer.alloc(len);
  h[0] = nh;
  h[1] = len / 8 - 1;
  Buffer.from(body).copy(h, 2);
  return h;
}
const padN = (n) => Buffer.from([1, n - 2, ...Array(n - 2).fill(0)]);
const routerAlert = ext(NH.ICMPV6, Buffer.from([5, 2, 0, 0, 1, 0]));
const lla = (type, mac) => Buffer.from([type, 1, ...f.macBytes(mac)]);

function to6(dst, nh, payload, extra = {}) {
  const dstMac = ip6(dst)[0] === 0xff ? mcastMac6(dst) : OUR_MAC;
  return frame6(dstMac, { src: extra.src ?? PEER6, dst, nh, payload, ...extra });
}
function echo6(dst, size, src = PEER6) {
  return to6(dst, NH.ICMPV6, icmp6(src, dst, 128, 0, u32(0x00070001), f.pattern(size)), { src });
}
seed('ipv6-echo', [echo6(OUR6, 56)]);
seed('ipv6-echo-empty', [echo6(OUR6, 0)]);
seed('ipv6-echo-1452', [echo6(OUR6, 1452)]);
seed('ipv6-echo-linklocal', [echo6(OUR_LL, 56, PEER_LL)]);
seed('ipv6-echo-hoplimit-0', [frame6(OUR_MAC, { src: PEER6, dst: OUR6, nh: NH.ICMPV6, hlim: 0,
  payload: icmp6(PEER6, OUR6, 128, 0, u32(1), f.pattern(8)) })]);
seed('ipv6-echo-bad-checksum', [to6(OUR6, NH.ICMPV6, Buffer.from([128, 0, 0, 1, 0, 0, 0, 0]))]);
seed('ipv6-echo-loopback-source', [to6(OUR6, NH.ICMPV6, icmp6('::1', OUR6, 128, 0, u32(1)), { src: '::1' })]);

// Neighbor Discovery: hop limit 255 (RFC 4861 §6.1, §7.1)
function nd(src, dst, type, rest, body, hlim = 255, dstMac) {
  const m = icmp6(src, dst, type, 0, rest, body);
  return frame6(dstMac ?? (ip6(dst)[0] === 0xff ? mcastMac6(dst) : OUR_MAC), { src, dst, nh: NH.ICMPV6, hlim, payload: m });
}
const snOur = textOf(solicitedNode(OUR6));
const ns = (target, opts = lla(1, PEER_MAC), src = PEER6, dst = snOur, hlim = 255) =>
  nd(src, dst, 135, u32(0), Buffer.concat([ip6(target), opts]), hlim);
const na = (target, flags, opts = lla(2, PEER_MAC), dst = OUR6) => nd(PEER6, dst, 136, u32(flags), Buffer.concat([ip6(target), opts]));
seed('nd-ns', [ns(OUR6)]);
seed('nd-ns-linklocal', [ns(OUR_LL, lla(1, PEER_MAC), PEER_LL, textOf(solicitedNode(OUR_LL)))]);
seed('nd-ns-unicast', [nd(PEER6, OUR6, 135, u32(0), Buffer.concat([ip6(OUR6), lla(1, PEER_MAC)]))]);
seed('nd-dad-conflict', [ns(OUR6, Buffer.alloc(0), '::')]);
seed('nd-dad-with-nonce', [ns(OUR_LL, Buffer.from([14, 1, 1, 2, 3, 4, 5, 6]), '::', textOf(solicitedNode(OUR_LL)))]);
seed('nd-na-solicited', [na(PEER6, 0x60000000)]);
seed('nd-na-unsolicited', [na(PEER6, 0x20000000, lla(2, PEER_MAC), 'ff02::1')]);
seed('nd-na-router', [na(PEER6, 0xe0000000)]);
seed('nd-na-for-our-address', [na(OUR6, 0x20000000, lla(2, PEER_MAC), 'ff02::1')]);
seed('nd-ns-then-na-then-echo', [ns(OUR6), na(PEER6, 0x60000000), echo6(OUR6, 56)]);
const prefix = (p, len, flags, valid, pref) =>
  Buffer.concat([Buffer.from([3, 4, len, flags]), u32(valid), u32(pref), u32(0), ip6(p)]);
const mtuOpt = (mtu) => Buffer.concat([Buffer.from([5, 1, 0, 0]), u32(mtu)]);
const routerAdvert = (opts, lifetime = 1800, src = PEER_LL) =>
  nd(src, 'ff02::1', 134, Buffer.from([64, 0, lifetime >> 8, lifetime & 0xff]), Buffer.concat([u32(0), u32(0), opts]));
seed('nd-ra', [routerAdvert(Buffer.concat([lla(1, PEER_MAC), mtuOpt(1500), prefix('2001:db8:1::', 64, 0xc0, 86400, 14400)]))]);
seed('nd-ra-many-prefixes', [routerAdvert(Buffer.concat([...Array(6).keys()].map((i) => prefix(`2001:db8:${i + 1}::`, 64, 0xc0, 600, 300))))]);
seed('nd-ra-odd-prefixes', [routerAdvert(Buffer.concat([prefix('fe80::', 64, 0xc0, 600, 300), prefix('2001:db8:9::', 129, 0xc0, 600, 300),
  prefix('2001:db8:8::', 48, 0x40, 0xffffffff, 0xffffffff), prefix('2001:db8:7::', 64, 0xc0, 10, 20), mtuOpt(1000)]))]);
seed('nd-ra-lifetime-0', [routerAdvert(lla(1, PEER_MAC), 0)]);
seed('nd-ra-then-expiry', [routerAdvert(prefix('2001:db8:1::', 64, 0xc0, 2, 1), 2), { frame: echo6(OUR6, 8), tick: true },
  { frame: echo6(OUR6, 8), tick: true }, { frame: echo6(OUR6, 8), tick: true }]);
seed('nd-rs', [nd(PEER_LL, 'ff02::2', 133, u32(0), lla(1, PEER_MAC))]);
// ...and invalid ones: every check of RFC 4861 §6.1 and §7.1 failing once
seed('nd-bad-hoplimit', [ns(OUR6, lla(1, PEER_MAC), PEER6, snOur, 254)]);
seed('nd-bad-option-length-0', [ns(OUR6, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]))]);
seed('nd-bad-option-past-end', [ns(OUR6, Buffer.from([1, 2, 0, 0, 0, 0, 0, 0]))]);
seed('nd-bad-option-odd', [ns(OUR6, Buffer.from([1, 1, 2, 0]))]);
seed('nd-bad-slla-length', [ns(OUR6, Buffer.from([1, 2, ...Array(14).fill(0xaa)]))]);
seed('nd-bad-target-multicast', [ns('ff02::1')]);
seed('nd-bad-dad-with-slla', [ns(OUR6, lla(1, PEER_MAC), '::')]);
seed('nd-bad-dad-to-all-nodes', [ns(OUR6, Buffer.alloc(0), '::', 'ff02::1')]);
seed('nd-bad-na-solicited-multicast', [na(PEER6, 0x40000000, lla(2, PEER_MAC), 'ff02::1')]);
seed('nd-bad-ra-global-source', [routerAdvert(lla(1, PEER_MAC), 1800, PEER6)]);
seed('nd-bad-truncated', [nd(PEER6, snOur, 135, u32(0), ip6(OUR6).subarray(0, 8))]);
seed('nd-bad-code', [frame6(mcastMac6(snOur), { src: PEER6, dst: snOur, nh: NH.ICMPV6, hlim: 255,
  payload: icmp6(PEER6, snOur, 135, 1, u32(0), ip6(OUR6)) })]);
seed('nd-redirect', [nd(PEER_LL, OUR6, 137, u32(0), Buffer.concat([ip6(PEER6), ip6('2001:db8::99')]))]);

// MLD queries, behind a Hop-by-Hop header with Router Alert (RFC 3810 §5)
function mld(dst, body, { hlim = 1, hbh = routerAlert, src = PEER_LL } = {}) {
  const m = icmp6(src, dst, 130, 0, Buffer.alloc(0), body);
  return frame6(mcastMac6(dst), { src, dst, nh: hbh ? NH.HOPOPTS : NH.ICMPV6, hlim,
    payload: hbh ? Buffer.concat([hbh, m]) : m });
}
const mldv1 = (group, ms = 1000) => Buffer.concat([Buffer.from([ms >> 8, ms & 0xff, 0, 0]), ip6(group)]);
const mldv2 = (group, sources = [], mrc = 1000, qrv = 2, qqic = 125, n = sources.length) =>
  Buffer.concat([mldv1(group, mrc), Buffer.from([qrv, qqic, n >> 8, n & 0xff]), ...sources.map(ip6)]);
seed('mld-v1-general-query', [mld('ff02::1', mldv1('::'))]);
seed('mld-v1-group-query', [mld('ff15::1234', mldv1('ff15::1234'))]);
seed('mld-v2-general-query', [mld('ff02::1', mldv2('::'))]);
seed('mld-v2-long-delay', [mld('ff02::1', mldv2('::', [], 0xffff, 7, 0xff))]);
seed('mld-v2-group-source-query', [mld('ff35::1:2', mldv2('ff35::1:2', [PEER6, '2001:db8::3']))]);
seed('mld-v2-query-then-timers', [mld('ff02::1', mldv2('::', [], 100)), { frame: echo6(OUR6, 8), tick: true }]);
seed('mld-v1-then-v2-query', [mld('ff02::1', mldv1('::')), mld('ff02::1', mldv2('::'))]);
seed('mld-report-from-another-host', [frame6(mcastMac6('ff15::1234'), { src: PEER_LL, dst: 'ff15::1234', nh: NH.HOPOPTS, hlim: 1,
  payload: Buffer.concat([routerAlert, icmp6(PEER_LL, 'ff15::1234', 131, 0, u32(0), ip6('ff15::1234'))]) })]);
seed('mld-bad-no-router-alert', [mld('ff02::1', mldv2('::'), { hbh: null })]);
seed('mld-bad-hoplimit', [mld('ff02::1', mldv2('::'), { hlim: 2 })]);
seed('mld-bad-global-source', [mld('ff02::1', mldv2('::'), { src: PEER6 })]);
seed('mld-bad-length-26', [mld('ff02::1', mldv2('::').subarray(0, 22))]);
seed('mld-bad-sources-past-end', [mld('ff02::1', mldv2('::', [PEER6], 1000, 2, 125, 40))]);
seed('mld-bad-unicast-group', [mld('ff02::1', mldv2(OUR6))]);

// UDP over IPv6 (RFC 8200 §8.1: a zero checksum is refused)
const dgram6 = (dst, dstPort, payload, checksum, src = PEER6) =>
  to6(dst, NH.UDP, udp6(src, dst, 40000, dstPort, payload, checksum), { src });
seed('udp6-unicast', [dgram6(OUR6, 7, payload)]);
seed('udp6-linklocal', [dgram6(OUR_LL, 7, payload, undefined, PEER_LL)]);
seed('udp6-closed-port', [dgram6(OUR6, 12345, payload)]);
seed('udp6-zero-checksum', [dgram6(OUR6, 7, payload, 0)]);
seed('udp6-bad-checksum', [dgram6(OUR6, 7, payload, 0x1234)]);
seed('udp6-all-nodes', [dgram6('ff02::1', 5000, payload, undefined, PEER_LL)]);
seed('udp6-site-group', [dgram6('ff15::1234', 5000, payload)]);
seed('udp6-max-payload', [dgram6(OUR6, 7, f.pattern(1452))]);
seed('udp6-v4-mapped-source', [dgram6(OUR6, 7, payload, undefined, '::ffff:a63:1')]);

// Extension header chains (RFC 8200 §4): options of every action, misplaced and unknown headers
const udpAfter = (headers, first, dst = OUR6) => {
  const u = udp6(PEER6, dst, 40000, 7, payload);
  return to6(dst, first, Buffer.concat([...headers, u]));
};
const opt = (type, data) => Buffer.from([type, data.length, ...data]);
seed('ext-hbh-padding', [udpAfter([ext(NH.UDP, Buffer.concat([Buffer.from([0]), padN(5)]))], NH.HOPOPTS)]);
seed('ext-hbh-router-alert', [udpAfter([ext(NH.UDP, Buffer.from([5, 2, 0, 0, 1, 0]))], NH.HOPOPTS)]);
seed('ext-hbh-jumbo', [to6(OUR6, NH.HOPOPTS, Buffer.concat([ext(NH.UDP, opt(0xc2, [0, 1, 0, 0])), udp6(PEER6, OUR6, 1, 7, payload)]),
  { payloadLen: 0 })]);
for (const [name, type] of [['skip', 0x1e], ['discard', 0x5e], ['answer', 0x9e], ['answer-unicast', 0xde]]) {
  seed(`ext-dstopt-${name}`, [udpAfter([ext(NH.UDP, opt(type, [1, 2, 3, 4]))], NH.DSTOPTS)]);
  seed(`ext-dstopt-${name}-multicast`, [udpAfter([ext(NH.UDP, opt(type, [1, 2, 3, 4]))], NH.DSTOPTS, 'ff02::1')]);
}
seed('ext-option-past-header', [udpAfter([ext(NH.UDP, Buffer.from([0x1e, 9, 0, 0, 0, 0]))], NH.DSTOPTS)]);
seed('ext-header-past-payload', [to6(OUR6, NH.DSTOPTS, Buffer.from([NH.UDP, 4, 1, 2, 0, 0, 0, 0]))]);
seed('ext-hbh-not-first', [udpAfter([ext(NH.HOPOPTS, padN(6)), ext(NH.UDP, padN(6))], NH.DSTOPTS)]);
seed('ext-two-dstopts', [udpAfter([ext(NH.DSTOPTS, padN(6)), ext(NH.UDP, padN(6))], NH.DSTOPTS)]);
seed('ext-long-chain', [udpAfter([...Array(60).keys()].map((i) => ext(i === 59 ? NH.UDP : NH.DSTOPTS, padN(6))), NH.DSTOPTS)]);
const rh = (type, segLeft, nh = NH.UDP) => ext(nh, Buffer.concat([Buffer.from([type, segLeft, 0, 0, 0, 0]), ip6(PEER6)]));
seed('ext-routing-0-done', [udpAfter([rh(0, 0)], NH.ROUTING)]);
seed('ext-routing-0-segments-left', [udpAfter([rh(0, 1)], NH.ROUTING)]);
seed('ext-routing-4-segments-left', [udpAfter([rh(4, 1)], NH.ROUTING)]);
seed('ext-unknown-tcp', [to6(OUR6, 6, f.pattern(20))]);
seed('ext-unknown-after-dstopts', [to6(OUR6, NH.DSTOPTS, Buffer.concat([ext(50, padN(6)), f.pattern(16)]))]);
seed('ext-no-next-header', [to6(OUR6, NH.DSTOPTS, Buffer.concat([ext(NH.NONE, padN(6)), f.pattern(16)]))]);
seed('ext-icmp6-after-hbh', [to6(OUR6, NH.HOPOPTS, Buffer.concat([ext(NH.ICMPV6, padN(6)),
  icmp6(PEER6, OUR6, 128, 0, u32(0x00090001), f.pattern(8))]))]);

// Fragments (RFC 8200 §4.5; overlaps RFC 5722; incomplete first fragments RFC 7112)
function fragments6(upper, nh, chunk, id, { dst = OUR6, unfrag = [], order } = {}) {
  const frames = [];
  for (let off = 0; off < upper.length; off += chunk) {
    const part = upper.subarray(off, Math.min(off + chunk, upper.length));
    const fh = Buffer.alloc(8);
    fh[0] = nh;
    fh.writeUInt16BE(off | (off + chunk < upper.length ? 1 : 0), 2);
    fh.writeUInt32BE(id, 4);
    const first = unfrag.length ? NH.HOPOPTS : NH.FRAGMENT;
    frames.push(to6(dst, first, Buffer.concat([...unfrag, fh, part])));
  }
  return order ? order.map((i) => frames[i]) : frames;
}
const big = udp6(PEER6, OUR6, 40000, 7, f.pattern(3000 - 8));
const train6 = fragments6(big, NH.UDP, 1448, 0x1234);
seed('frag6-in-order', train6);
seed('frag6-reversed', [...train6].reverse());
seed('frag6-duplicate', [train6[0], train6[0], train6[1], train6[2]]);
seed('frag6-missing-last', train6.slice(0, 2));
seed('frag6-expiring', [train6[0], { frame: train6[1], tick: true }, { frame: train6[2], tick: true }]);
seed('frag6-tiny', fragments6(udp6(PEER6, OUR6, 40000, 7, f.pattern(120)), NH.UDP, 8, 0x99));
seed('frag6-tiny-overlapping', [...fragments6(udp6(PEER6, OUR6, 40000, 7, f.pattern(200)), NH.UDP, 64, 0x98),
  ...fragments6(udp6(PEER6, OUR6, 40000, 7, f.pattern(200)), NH.UDP, 48, 0x98)]);
seed('frag6-after-hbh', fragments6(big, NH.UDP, 1440, 0x77, { unfrag: [ext(NH.FRAGMENT, padN(6))] }));
seed('frag6-dstopts-inside', fragments6(Buffer.concat([ext(NH.UDP, padN(6)), big]), NH.DSTOPTS, 1448, 0x76));
seed('frag6-first-incomplete', fragments6(Buffer.concat([...Array(200).keys()].map((i) => ext(i === 199 ? NH.UDP : NH.DSTOPTS, padN(6)))),
  NH.DSTOPTS, 1200, 0x75));
seed('frag6-atomic', [to6(OUR6, NH.FRAGMENT, Buffer.concat([Buffer.from([NH.UDP, 0, 0, 0, 0, 0, 0, 5]), udp6(PEER6, OUR6, 40000, 7, payload)]))]);
seed('frag6-odd-length-more', [to6(OUR6, NH.FRAGMENT, Buffer.concat([Buffer.from([NH.UDP, 0, 0, 1, 0, 0, 0, 6]), f.pattern(13)]))]);
seed('frag6-beyond-65535', [to6(OUR6, NH.FRAGMENT, Buffer.concat([Buffer.from([NH.UDP, 0, 0xff, 0xf8, 0, 0, 0, 4]), f.pattern(16)]))]);
seed('frag6-echo', fragments6(icmp6(PEER6, OUR6, 128, 0, u32(0x00030003), f.pattern(2000)), NH.ICMPV6, 1448, 0x55));
seed('frag6-multicast', fragments6(udp6(PEER6, 'ff15::1234', 40000, 5000, f.pattern(2000)), NH.UDP, 1448, 0x54, { dst: 'ff15::1234' }));

// ICMPv6 errors quoting what our sockets sent (RFC 4443 §3)
const sent6 = ipv6Packet({ src: OUR6, dst: PEER6, nh: NH.UDP, payload: udp6(OUR6, PEER6, 5353, 53, f.pattern(12)) });
const err6 = (type, code, param, quoted = sent6) => to6(OUR6, NH.ICMPV6, icmp6(PEER6, OUR6, type, code, u32(param), quoted));
seed('icmp6-port-unreachable', [err6(1, 4, 0)]);
seed('icmp6-port-unreachable-short-quote', [err6(1, 4, 0, sent6.subarray(0, 44))]);
seed('icmp6-packet-too-big', [err6(2, 0, 1280)]);
seed('icmp6-packet-too-big-tiny-mtu', [err6(2, 0, 68)]);
seed('icmp6-time-exceeded', [err6(3, 0, 0)]);
seed('icmp6-param-problem', [err6(4, 0, 6)]);
seed('icmp6-quoting-ext-headers', [err6(1, 4, 0, ipv6Packet({ src: OUR6, dst: PEER6, nh: NH.DSTOPTS,
  payload: Buffer.concat([ext(NH.UDP, padN(6)), udp6(OUR6, PEER6, 5353, 53, f.pattern(4))]) }))]);
seed('icmp6-unknown-error-type', [err6(99, 0, 0)]);
seed('icmp6-unknown-informational', [err6(200, 0, 0)]);

console.log(`${count} seeds in ${out}`);
