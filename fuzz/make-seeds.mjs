// Writes the seed corpus of fuzz/stack_input_fuzz.c into a directory (default build-fuzz/seeds):
// the captured frames of test/fixtures (*.pcap), testbed/frames.ts's malformed frames, and frames
// built for the harness's sockets — unicast, broadcast and multicast UDP, IPv4 options, fragment
// trains (in order, reversed, overlapping, expiring), ICMP errors quoting our datagrams, IGMP
// queries of each version, ARP. Each seed is in the harness's record format: per frame a 2-byte
// big-endian header (length; top bit: advance the clock a second first) and the frame.
//
// Needs the TypeScript build (dist/testbed/frames.js). Usage: node fuzz/make-seeds.mjs [DIR]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const f = await import(join(root, 'dist/testbed/frames.js'));
const out = resolve(process.argv[2] ?? join(root, 'build-fuzz/seeds'));
mkdirSync(out, { recursive: true });

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
  writeFileSync(join(out, `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.bin`), Buffer.concat(parts));
  count++;
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

console.log(`${count} seeds in ${out}`);
