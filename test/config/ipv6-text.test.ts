/**
 * The IPv6 text conversions every part of ffnet shares (posix/ipv6.ts): inet_pton's forms and
 * refusals, `%scope` suffixes and their interface indexes as libuv reads them, RFC 5952 text as node:dgram writes it
 * (compared with the kernel's own udp6 rinfo through node:dgram for the mixed forms), and the
 * configuration's use of them (a zone refused, addresses printed the same way).
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/index.js';
import { ipv6Bytes, ipv6Text, ipv6TextCached, isIPv6Literal, scopeIdOf, withScopeId } from '../../posix/ipv6.js';

const hex = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b).toString('hex') : undefined);

describe('posix/ipv6.ts', () => {
  it('parses inet_pton forms, ignores a %scope, refuses the rest', () => {
    expect(hex(ipv6Bytes('::'))).toBe('0'.repeat(32));
    expect(hex(ipv6Bytes('::1'))).toBe(`${'0'.repeat(31)}1`);
    expect(hex(ipv6Bytes('2001:DB8::2'))).toBe('20010db8000000000000000000000002');
    expect(hex(ipv6Bytes('::ffff:10.77.0.2'))).toBe('00000000000000000000ffff0a4d0002');
    expect(hex(ipv6Bytes('1:2:3:4:5:6:7:8'))).toBe('00010002000300040005000600070008');
    expect(hex(ipv6Bytes('fe80::1%port0'))).toBe('fe800000000000000000000000000001');
    for (const bad of ['', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '2001:db8::g', '::ffff:1.2.3.256', '::ffff:01.2.3.4', '12345::']) {
      expect(ipv6Bytes(bad), bad).toBeUndefined();
    }
    expect(isIPv6Literal('fe80::1%port0')).toBe(true);
    expect(isIPv6Literal('127.0.0.1')).toBe(false);
    // As libuv's if_nametoindex on a stack of 4 ports (interfaces port0..port3): a number names none.
    expect(['fe80::1%port0', 'fe80::1%port3', 'fe80::1%port4', 'fe80::1%7', 'fe80::1', 'fe80::1%eth0', 'fe80::1%port01'].map((a) => scopeIdOf(a, 4)))
      .toEqual([1, 4, 0, 0, 0, 0, 0]);
    expect(['fe80::1%port2', 'fe80::1%port9', 'fe80::1%3', '::1'].map((a) => withScopeId(a, 4))).toEqual(['fe80::1%3', 'fe80::1', 'fe80::1', '::1']);
  });

  it('writes addresses as node:dgram reports them from the kernel', async () => {
    const forms = ['::1', '2001:db8::2', '2001:db8:0:1::', '1:0:0:2::3', '::ffff:127.0.0.1'];
    for (const f of forms) expect(ipv6Text(ipv6Bytes(f)!, 0)).toBe(f);
    expect(ipv6Text(ipv6Bytes('2001:0db8:0000:0000:0001:0000:0000:0001')!, 0)).toBe('2001:db8::1:0:0:1');
    expect(ipv6Text(ipv6Bytes('::0.0.1.2')!, 0)).toBe('::0.0.1.2');
    // A v4-mapped source as the kernel's udp6 socket reports it.
    const r = dgram.createSocket('udp6');
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => r.bind(0, '::', () => resolve()));
    const got = new Promise<string>((resolve) => r.once('message', (_m, rinfo) => resolve(rinfo.address)));
    s.send('x', r.address().port, '127.0.0.1');
    const address = await got;
    expect(ipv6Text(ipv6Bytes(address)!, 0)).toBe(address);
    r.close();
    s.close();
  });

  it('caches texts by the 16 bytes: addresses that share a slot never get each other\'s text', () => {
    // Addresses differing only in bytes the slot is not computed from share one; then random ones.
    const same = ['2001:db8::1', '2001:db8:1::1', '2001:db9::1', 'fd00:88::1'].map((a) => ipv6Bytes(a)!);
    const buf = new Uint8Array(32);
    for (let round = 0; round < 3; round++) {
      for (const b of same) {
        buf.set(b, 8); // at an offset, as in a receive buffer
        expect(ipv6TextCached(buf, 8)).toBe(ipv6Text(b, 0));
      }
    }
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from({ length: 16 }, (_, k) => (k < 10 && i % 3 === 0 ? 0 : rnd()));
      expect(ipv6TextCached(b, 0)).toBe(ipv6Text(b, 0));
      expect(ipv6TextCached(b, 0)).toBe(ipv6Text(b, 0));
    }
  });

  it('serves the configuration: a zone is refused, addresses are printed as node:dgram prints them', () => {
    const cfg = parseConfigText('[port0]\naddr = 10.77.0.2\nnetmask = 255.255.255.0\naddr6[] = 2001:0DB8:0:0::0002/64\n');
    expect(cfg.ports[0]!.addr6).toEqual([{ addr: '2001:db8::2', prefixLength: 64 }]);
    expect(() => parseConfigText('[port0]\naddr = 10.77.0.2\nnetmask = 255.255.255.0\naddr6[] = 2001:db8::2%port0/64\n'))
      .toThrow('"2001:db8::2%port0" is not an IPv6 address');
  });
});
