/**
 * How a channel's `interface=` reaches the socket calls (transport/driver/channel-socket.ts): an IPv4
 * address as given; an IPv6 one with its scope, given or looked up among the host's interfaces as Aeron's
 * driver picks one (an address within ADDR/PREFIX, the longest shared prefix first), or alone when no
 * interface holds one.
 */
import { describe, expect, it, vi } from 'vitest';
import { socketInterface } from '../../transport/driver/channel-socket.js';
import { UdpChannel } from '../../transport/wire/channel.js';

vi.mock('node:os', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:os')>()),
  networkInterfaces: () => ({
    lo: [{ address: '127.0.0.1', family: 'IPv4' }, { address: '::1', family: 'IPv6' }],
    eth0: [{ address: 'fd00::5', family: 'IPv6' }, { address: 'fe80::5', family: 'IPv6' }],
    eth1: [{ address: '10.0.0.5', family: 'IPv4' }, { address: 'fd00:0:0:1::5', family: 'IPv6' }],
  }),
}));

const iface = (channel: string): string | undefined => socketInterface(UdpChannel.parse(channel));

describe('socketInterface', () => {
  it('passes an IPv4 interface as its address, and none when absent', () => {
    expect(iface('aeron:udp?endpoint=239.1.1.1:9|interface=10.0.0.5:7/24')).toBe('10.0.0.5');
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9')).toBeUndefined();
  });

  it('keeps a scope given with the IPv6 address', () => {
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9|interface=[fe80::1%port0]')).toBe('fe80::1%port0');
  });

  it('scopes an IPv6 address to the interface holding one within ADDR/PREFIX, the longest shared prefix first', () => {
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9|interface=[::1]')).toBe('::1%lo');
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9|interface=[fd00::1]/64')).toBe('fd00::1%eth0');
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9|interface=[fd00::]/48')).toBe('fd00::%eth0');
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9|interface=[fd00:0:0:1::]/48')).toBe('fd00:0:0:1::%eth1');
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9|interface=[fd00:0:0:1::]/64')).toBe('fd00:0:0:1::%eth1');
  });

  it('leaves the choice to the routes when no host interface holds such an address', () => {
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9|interface=[fd00::1]')).toBe('fd00::1');
    expect(iface('aeron:udp?endpoint=[ff02::1:3]:9|interface=[2001:db8::1]/64')).toBe('2001:db8::1');
  });
});
