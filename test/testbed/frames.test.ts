/**
 * frames.ts against known-good bytes: a captured Linux ping frame rebuilt field by field, RFC 1071's
 * checksum example, ARP and UDP layouts, and the malformed-frame catalogue's promises.
 */
import { describe, expect, it } from 'vitest';
import {
  ARP_OP,
  ETHERTYPE,
  IPPROTO,
  arp,
  checksum,
  ethernet,
  fromHex,
  icmpEcho,
  ipv4,
  ipv4Checksum,
  malformedFrames,
  readPcap,
  toHex,
  udp,
  writePcap,
} from '../../testbed/frames.js';

// `ping -c 1 -s 16 10.77.0.99` from 10.77.0.1 (Linux 6.x iputils), captured by tcpdump on a veth.
const CAPTURED_PING =
  '020000000002020000000001080045' +
  '00002c758040004001b0530a4d00010a4d0063' +
  '08005d9a1fd900018b5b026b00000000e7c4050000000000';

describe('checksum', () => {
  it('matches the RFC 1071 worked example', () => {
    // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (before complement).
    expect(checksum(fromHex('0001f203f4f5f6f7'))).toBe(~0xddf2 & 0xffff);
  });

  it('pads an odd trailing byte with zero', () => {
    expect(checksum(fromHex('ab'))).toBe(checksum(fromHex('ab00')));
  });

  it('verifies to zero over a header that carries its checksum', () => {
    const frame = fromHex(CAPTURED_PING);
    expect(checksum(frame.subarray(14, 34))).toBe(0);
    expect(checksum(frame.subarray(34))).toBe(0);
  });
});

describe('builders', () => {
  it('rebuild a captured ping frame byte for byte', () => {
    const captured = fromHex(CAPTURED_PING);
    const frame = ethernet({
      dst: '02:00:00:00:00:02',
      src: '02:00:00:00:00:01',
      type: ETHERTYPE.IPV4,
      payload: ipv4({
        src: '10.77.0.1',
        dst: '10.77.0.99',
        proto: IPPROTO.ICMP,
        ttl: 64,
        id: 0x7580,
        df: true,
        payload: icmpEcho({ id: 0x1fd9, seq: 1, payload: captured.subarray(42) }),
      }),
    });
    expect(toHex(frame)).toBe(CAPTURED_PING);
    expect(frame.readUInt16BE(24)).toBe(0xb053);
    expect(frame.readUInt16BE(36)).toBe(0x5d9a);
    expect(ipv4Checksum(frame.subarray(14))).toBe(0xb053);
  });

  it('honour overrides without recomputing them', () => {
    const p = ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 1, version: 6, ihl: 4, totalLength: 999, checksum: 0x1234 });
    expect(p[0]).toBe(0x64);
    expect(p.readUInt16BE(2)).toBe(999);
    expect(p.readUInt16BE(10)).toBe(0x1234);
  });

  it('lay out an ARP request as RFC 826 says', () => {
    const p = arp({ op: ARP_OP.REQUEST, sha: '02:00:00:00:00:01', spa: '10.77.0.1', tpa: '10.77.0.2' });
    expect(toHex(p)).toBe('0001080006040001' + '020000000001' + '0a4d0001' + '000000000000' + '0a4d0002');
    expect(arp({ op: 1, sha: '02:00:00:00:00:01', spa: '10.77.0.1', tpa: '10.77.0.2', hlen: 5, plen: 6 }).subarray(4, 6)).toEqual(
      Buffer.from([5, 6]),
    );
  });

  it('checksum UDP with the pseudo-header', () => {
    const d = udp({ srcPort: 1234, dstPort: 5678, payload: Buffer.from('hello'), src: '10.77.0.1', dst: '10.77.0.2' });
    expect(d.readUInt16BE(4)).toBe(13);
    const pseudo = Buffer.concat([fromHex('0a4d0001 0a4d0002 0011 000d'), d]);
    expect(checksum(pseudo)).toBe(0);
    expect(udp({ srcPort: 1, dstPort: 2 }).readUInt16BE(6)).toBe(0);
  });

  it('round-trip frames through a pcap file', () => {
    const frames = [fromHex(CAPTURED_PING), fromHex('0102030405')];
    expect(readPcap(writePcap(frames))).toEqual(frames);
  });
});

describe('malformedFrames', () => {
  const us = { mac: '02:00:00:00:00:0a', ip: '10.77.0.2' };
  const peer = { mac: '02:00:00:00:00:0b', ip: '10.77.0.1' };
  const list = malformedFrames(us.mac, us.ip, peer.mac, peer.ip);
  const byName = (prefix: string) => {
    const f = list.find((m) => m.name.startsWith(prefix));
    if (!f) throw new Error(`no frame named ${prefix}`);
    return f.frame;
  };

  it('is deterministic and names the documented counters', () => {
    expect(malformedFrames(us.mac, us.ip, peer.mac, peer.ip)).toEqual(list);
    const counters = new Set(list.map((m) => m.counter));
    for (const c of ['eth.runt', 'ip.badhlen', 'ip.badlen', 'ip.badsum', 'ip.ttl_zero', 'arp.badlen', 'ip.badvers', 'icmp.badsum', null]) {
      expect(counters).toContain(c);
    }
    expect(list.filter((m) => m.counter === null).length).toBeGreaterThanOrEqual(3);
    expect(new Set(list.map((m) => m.name)).size).toBe(list.length);
  });

  it('states exactly one fault per frame', () => {
    expect(byName('truncated Ethernet').length).toBe(10);
    expect(byName('bad IHL')[14]).toBe(0x44);
    expect(checksum(byName('bad IHL').subarray(14, 34))).toBe(0);
    const badlen = byName('total length');
    expect(badlen.readUInt16BE(16)).toBeGreaterThan(badlen.length - 14);
    expect(checksum(badlen.subarray(14, 34))).toBe(0);
    expect(checksum(byName('bad IP header checksum').subarray(14, 34))).not.toBe(0);
    const ttl0 = byName('TTL 0');
    expect(ttl0[22]).toBe(0);
    expect(checksum(ttl0.subarray(14, 34))).toBe(0);
    expect(byName('ARP with hlen 5')[18]).toBe(5);
    expect(byName('ARP with plen 6')[19]).toBe(6);
    expect(byName('IP version 6')[14]).toBe(0x65);
    const icmp = byName('ICMP bad checksum');
    expect(checksum(icmp.subarray(14, 34))).toBe(0);
    expect(checksum(icmp.subarray(34))).not.toBe(0);
    for (const m of list) {
      if (m.frame.length >= 14) expect(m.kernelInjectable).toBe(true);
    }
  });

  it('addresses the IP frames from the peer to the stack', () => {
    const f = byName('TTL 0');
    expect(toHex(f.subarray(0, 12))).toBe('02000000000a02000000000b');
    expect(toHex(f.subarray(26, 34))).toBe('0a4d00010a4d0002');
  });
});
