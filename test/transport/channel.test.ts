/**
 * `aeron:udp` channel strings: parsing of every supported parameter, defaults, multicast detection
 * and the control address, the toString round trip, and rejection of bad strings with an error that
 * names the parameter at fault.
 */
import { describe, expect, it } from 'vitest';
import { ChannelError, DEFAULT_MTU, UdpChannel, isMulticast } from '../../transport/wire/channel.js';

function channelError(s: string): ChannelError {
  try {
    UdpChannel.parse(s);
  } catch (e) {
    if (e instanceof ChannelError) return e;
    throw e;
  }
  throw new Error(`expected ${s} to be rejected`);
}

describe('UdpChannel.parse', () => {
  it('parses a unicast endpoint and applies the defaults', () => {
    const c = UdpChannel.parse('aeron:udp?endpoint=10.77.0.2:40123');
    expect(c.endpoint).toEqual({ host: '10.77.0.2', port: 40123 });
    expect(c.multicast).toBe(false);
    expect(c.controlEndpoint).toBeUndefined();
    expect(c.termLength).toBe(16 * 1024 * 1024);
    expect(c.mtu).toBe(DEFAULT_MTU);
    expect(c.mtu).toBe(1408);
    expect(c.flowControl).toEqual({ strategy: 'max' });
    expect(c.congestionControl).toBe('static');
    expect(c.params.sessionId).toBeUndefined();
  });

  it('parses a bracketed IPv6 endpoint (unicast over udp6) and refuses what IPv6 channels lack', () => {
    const c = UdpChannel.parse('aeron:udp?endpoint=[::1]:40123');
    expect(c.endpoint).toEqual({ host: '::1', port: 40123 });
    expect(c.ipv6).toBe(true);
    expect(c.multicast).toBe(false);
    expect(UdpChannel.parse('aeron:udp?endpoint=[2001:db8::7]:9|mtu=1280').endpoint).toEqual({ host: '2001:db8::7', port: 9 });
    expect(UdpChannel.parse('aeron:udp?endpoint=10.0.0.1:9').ipv6).toBe(false);
    expect(() => UdpChannel.parse('aeron:udp?endpoint=[::g]:40123')).toThrow(/^endpoint: "::g" is not an IPv6 address/);
    expect(() => UdpChannel.parse('aeron:udp?endpoint=::1:40123')).toThrow(/^endpoint: /);
    expect(() => UdpChannel.parse('aeron:udp?endpoint=[::1]:40123|interface=10.0.0.1')).toThrow(/^interface: /);
    expect(UdpChannel.parse('aeron:udp?endpoint=[::1]:40123|interface=[::1]:0/128').localInterface).toEqual({ address: '::1', port: 0, prefixLength: 128 });
  });

  it('parses an IPv6 multicast channel: bracketed group, interface as [ADDR%SCOPE]:PORT/PREFIX', () => {
    const c = UdpChannel.parse('aeron:udp?endpoint=[ff02::1:4001]:40456|interface=[fe80::1%port0]/64|ttl=3');
    expect(c.ipv6).toBe(true);
    expect(c.multicast).toBe(true);
    expect(c.ttl).toBe(3);
    expect(c.localInterface).toEqual({ address: 'fe80::1', scope: 'port0', port: 0, prefixLength: 64 });
    expect(UdpChannel.parse('aeron:udp?endpoint=[ff0e::7]:9|interface=[::1]').localInterface).toEqual({ address: '::1', port: 0, prefixLength: 128 });
    expect(UdpChannel.parse('aeron:udp?endpoint=[ff0e::7]:9|interface=[2001:db8::2]:4000').localInterface)
      .toEqual({ address: '2001:db8::2', port: 4000, prefixLength: 128 });
    expect(UdpChannel.parse('aeron:udp?endpoint=239.1.1.1:9|interface=10.0.0.1:7/24').localInterface).toEqual({ address: '10.0.0.1', port: 7, prefixLength: 24 });
  });

  it('refuses malformed IPv6 multicast channels where Aeron does, naming the parameter', () => {
    // Aeron's driver: "multicast data address must be odd" (the control address is data + 1).
    expect(channelError('aeron:udp?endpoint=[ff02::1:4000]:40456').message).toMatch(/^endpoint: .*odd/);
    // InterfaceSearchAddress: an IPv6 search address is bracketed; its prefix is at most 128 bits.
    expect(channelError('aeron:udp?endpoint=[ff02::1:4001]:40456|interface=::1').param).toBe('interface');
    expect(channelError('aeron:udp?endpoint=[ff02::1:4001]:40456|interface=[::1]/129').param).toBe('interface');
    expect(channelError('aeron:udp?endpoint=[ff02::1:4001]:40456|interface=[::g]').param).toBe('interface');
    expect(channelError('aeron:udp?endpoint=[ff02::1:4001]:40456|interface=[fe80::1%]').param).toBe('interface');
    expect(channelError('aeron:udp?endpoint=[ff02::1:4001]:40456|interface=[::1]:65536').param).toBe('interface');
    // The interface is of the endpoint's family.
    expect(channelError('aeron:udp?endpoint=[ff02::1:4001]:40456|interface=127.0.0.1').message).toMatch(/^interface: .*IPv6/);
    expect(channelError('aeron:udp?endpoint=239.1.1.1:40456|interface=[::1]').message).toMatch(/^interface: .*IPv4/);
    // SocketAddressParser: a bracketed host and a port.
    expect(channelError('aeron:udp?endpoint=[ff02::1:4001]').param).toBe('endpoint');
    expect(channelError('aeron:udp?endpoint=ff02::1:4001:40456').param).toBe('endpoint');
    expect(channelError('aeron:udp?endpoint=[ff02::1:4001]:70000').param).toBe('endpoint');
  });

  it('parses every parameter', () => {
    const c = UdpChannel.parse(
      'aeron:udp?endpoint=239.1.2.3:40456|interface=10.77.0.1/24|term-length=65536|mtu=8192|fc=tagged,g:42/3|cc=cubic|session-id=-17|gtag=7|rcv-wnd=256k|ttl=4|init-term-id=-3',
    );
    expect(c.params).toEqual({
      endpoint: { host: '239.1.2.3', port: 40456 },
      interface: '10.77.0.1/24',
      termLength: 65536,
      mtu: 8192,
      fc: { strategy: 'tagged', groupTag: 42n, groupMinSize: 3 },
      cc: 'cubic',
      sessionId: -17,
      groupTag: 7n,
      receiverWindow: 262144,
      ttl: 4,
      initialTermId: -3,
    });
    expect(c.ttl).toBe(4);
    expect(c.termLength).toBe(65536);
    expect(c.mtu).toBe(8192);
    expect(c.congestionControl).toBe('cubic');
  });

  it('takes k/m/g size suffixes and host names', () => {
    expect(UdpChannel.parse('aeron:udp?endpoint=peer-1.example:9|term-length=64k').termLength).toBe(65536);
    expect(UdpChannel.parse('aeron:udp?endpoint=a:9|term-length=1g|mtu=8K').params).toMatchObject({ termLength: 2 ** 30, mtu: 8192 });
  });

  it('parses the flow-control forms', () => {
    const fc = (s: string): unknown => UdpChannel.parse(`aeron:udp?endpoint=239.1.1.1:1|fc=${s}`).flowControl;
    expect(fc('max')).toEqual({ strategy: 'max' });
    expect(fc('min')).toEqual({ strategy: 'min' });
    expect(fc('min,g:/5')).toEqual({ strategy: 'min', groupMinSize: 5 });
    expect(fc('tagged')).toEqual({ strategy: 'tagged' });
    expect(fc('tagged,g:-9223372036854775808')).toEqual({ strategy: 'tagged', groupTag: -(2n ** 63n) });
    expect(fc('tagged,g:7/2')).toEqual({ strategy: 'tagged', groupTag: 7n, groupMinSize: 2 });
  });
});

describe('multicast', () => {
  it('detects 224.0.0.0/4 and ff00::/8', () => {
    expect(isMulticast('ff02::1:4001')).toBe(true);
    expect(isMulticast('FF0E::1')).toBe(true);
    expect(isMulticast('fe80::1')).toBe(false);
    expect(isMulticast('::ffff:239.1.1.1')).toBe(false);
    expect(isMulticast('224.0.0.1')).toBe(true);
    expect(isMulticast('239.255.255.255')).toBe(true);
    expect(isMulticast('223.255.255.255')).toBe(false);
    expect(isMulticast('240.0.0.1')).toBe(false);
    expect(isMulticast('example.com')).toBe(false);
  });

  it('sends control to the data group + 1 on the same port', () => {
    const c = UdpChannel.parse('aeron:udp?endpoint=224.0.1.1:40456|interface=10.77.0.1');
    expect(c.multicast).toBe(true);
    expect(c.controlEndpoint).toEqual({ host: '224.0.1.2', port: 40456 });
    expect(UdpChannel.parse('aeron:udp?endpoint=239.9.9.253:7').controlEndpoint).toEqual({ host: '239.9.9.254', port: 7 });
    expect(UdpChannel.parse('aeron:udp?endpoint=[ff02::1:4001]:40456').controlEndpoint).toEqual({ host: 'ff02::1:4002', port: 40456 });
    expect(UdpChannel.parse('aeron:udp?endpoint=[ff0e::1:ff]:7').controlEndpoint).toEqual({ host: 'ff0e::1:0', port: 7 });
    expect(UdpChannel.parse('aeron:udp?endpoint=[ff02::1:4001%port0]:7').controlEndpoint).toEqual({ host: 'ff02::1:4002%port0', port: 7 });
  });

  it('increments the last byte only, as Aeron does: an odd 255 wraps to 0 without a carry', () => {
    expect(UdpChannel.parse('aeron:udp?endpoint=239.9.9.255:7').controlEndpoint).toEqual({ host: '239.9.9.0', port: 7 });
  });

  it('requires an odd last octet for the data group', () => {
    const e = channelError('aeron:udp?endpoint=224.0.1.2:40456');
    expect(e.param).toBe('endpoint');
    expect(e.message).toMatch(/odd/);
    expect(channelError('aeron:udp?endpoint=239.1.1.0:1').param).toBe('endpoint');
  });
});

describe('toString', () => {
  const canonical = [
    'aeron:udp?endpoint=10.77.0.2:40123',
    'aeron:udp?endpoint=localhost:40123|session-id=2000',
    'aeron:udp?endpoint=224.0.1.1:40456|interface=10.77.0.1',
    'aeron:udp?endpoint=239.1.2.3:40456|interface=10.77.0.1:0/24|term-length=1073741824|mtu=65504|fc=min,g:/4|cc=cubic|session-id=-2147483648',
    'aeron:udp?endpoint=239.1.2.3:40456|fc=tagged,g:42',
    'aeron:udp?endpoint=239.1.2.3:40456|fc=tagged,g:42/3',
    'aeron:udp?endpoint=239.1.2.3:40456|fc=max',
    'aeron:udp?endpoint=[::1]:40123|term-length=65536',
    'aeron:udp?endpoint=[ff02::1:4001]:40456|interface=[fe80::1%port0]:0/64|fc=min|ttl=2',
  ];

  it.each(canonical)('round-trips %s', (s) => {
    const c = UdpChannel.parse(s);
    expect(c.toString()).toBe(s);
    expect(UdpChannel.parse(c.toString()).params).toEqual(c.params);
  });

  it('writes parameters in canonical order and sizes in bytes', () => {
    const c = UdpChannel.parse('aeron:udp?cc=static|term-length=64k|endpoint=10.0.0.1:5');
    expect(c.toString()).toBe('aeron:udp?endpoint=10.0.0.1:5|term-length=65536|cc=static');
  });

  it('builds from params and validates them', () => {
    expect(new UdpChannel({ endpoint: { host: '10.0.0.1', port: 5 }, mtu: 4096 }).toString()).toBe('aeron:udp?endpoint=10.0.0.1:5|mtu=4096');
    expect(() => new UdpChannel({ endpoint: { host: '10.0.0.1', port: 5 }, termLength: 1000 })).toThrow(ChannelError);
  });
});

describe('invalid channels name the parameter', () => {
  it.each([
    ['aeron:ipc', 'media'],
    ['udp?endpoint=1.2.3.4:5', 'media'],
    ['aeron:udp', 'endpoint'],
    ['aeron:udp?interface=10.0.0.1', 'endpoint'],
    ['aeron:udp?endpoint=10.0.0.1', 'endpoint'],
    ['aeron:udp?endpoint=10.0.0.1:0', 'endpoint'],
    ['aeron:udp?endpoint=10.0.0.1:65536', 'endpoint'],
    ['aeron:udp?endpoint=10.0.0.256:5', 'endpoint'],
    ['aeron:udp?endpoint=10.0.0.01:5', 'endpoint'],
    ['aeron:udp?endpoint=bad_host:5', 'endpoint'],
    ['aeron:udp?endpoint=10.0.0.1:5|endpoint=10.0.0.2:5', 'endpoint'],
    ['aeron:udp?endpoint=10.0.0.1:5|interface=eth0', 'interface'],
    ['aeron:udp?endpoint=10.0.0.1:5|interface=10.0.0.1/33', 'interface'],
    ['aeron:udp?endpoint=10.0.0.1:5|term-length=65535', 'term-length'],
    ['aeron:udp?endpoint=10.0.0.1:5|term-length=32k', 'term-length'],
    ['aeron:udp?endpoint=10.0.0.1:5|term-length=2g', 'term-length'],
    ['aeron:udp?endpoint=10.0.0.1:5|term-length=big', 'term-length'],
    ['aeron:udp?endpoint=10.0.0.1:5|mtu=1400', 'mtu'],
    ['aeron:udp?endpoint=10.0.0.1:5|mtu=32', 'mtu'],
    ['aeron:udp?endpoint=10.0.0.1:5|mtu=65536', 'mtu'],
    ['aeron:udp?endpoint=10.0.0.1:5|fc=fastest', 'fc'],
    ['aeron:udp?endpoint=10.0.0.1:5|fc=max,g:1/2', 'fc'],
    ['aeron:udp?endpoint=10.0.0.1:5|fc=min,g:1', 'fc'],
    ['aeron:udp?endpoint=10.0.0.1:5|fc=tagged,g:', 'fc'],
    ['aeron:udp?endpoint=10.0.0.1:5|fc=tagged,t:5s', 'fc'],
    ['aeron:udp?endpoint=10.0.0.1:5|fc=tagged,g:9223372036854775808', 'fc'],
    ['aeron:udp?endpoint=10.0.0.1:5|cc=reno', 'cc'],
    ['aeron:udp?endpoint=10.0.0.1:5|session-id=2147483648', 'session-id'],
    ['aeron:udp?endpoint=10.0.0.1:5|session-id=1.5', 'session-id'],
    ['aeron:udp?endpoint=10.0.0.1:5|ttl=256', 'ttl'],
    ['aeron:udp?endpoint=10.0.0.1:5|ttl=-1', 'ttl'],
    ['aeron:udp?endpoint=10.0.0.1:5|gtag=x', 'gtag'],
    ['aeron:udp?endpoint=10.0.0.1:5|gtag=9223372036854775808', 'gtag'],
    ['aeron:udp?endpoint=10.0.0.1:5|rcv-wnd=1k', 'rcv-wnd'],
    ['aeron:udp?endpoint=10.0.0.1:5|rcv-wnd=2g', 'rcv-wnd'],
    ['aeron:udp?endpoint=10.0.0.1:5|linger=5s', 'linger'],
    ['aeron:udp?endpoint=10.0.0.1:5|init-term-id=2147483648', 'init-term-id'],
    ['aeron:udp?endpoint=10.0.0.1:5|init-term-id=x', 'init-term-id'],
    ['aeron:udp?endpoint=10.0.0.1:5|mtu', 'mtu'],
    ['aeron:udp?endpoint=10.0.0.1:5|', '(empty)'],
  ])('%s → %s', (s, param) => {
    const e = channelError(s);
    expect(e.param).toBe(param);
    expect(e.message.startsWith(`${param}: `)).toBe(true);
  });
});
