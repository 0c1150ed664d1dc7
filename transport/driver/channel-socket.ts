/**
 * What the two kinds of channel socket share: the socket itself, created and set up with the channel's
 * options (closed again if setup fails); one receive path whichever API the socket offers (ffnet/dgram's
 * `'messages'` batches or node:dgram's `'message'`), ending each datagram or batch with `afterReceive`;
 * control-frame sends counted in flight; and a close that waits for those sends first.
 */
import type { RemoteInfo } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { ipv6Bytes } from '../../posix/ipv6.js';
import type { UdpChannel } from '../wire/channel.js';
import { HeaderField, readInt16 } from '../wire/header.js';
import type { TransportCounters } from './counters.js';
import { PendingSends, bindSocket, hasBatchApi, nanoTime, type DatagramModule, type DatagramSocket, type ReceivedBatch } from './socket.js';

/** The socket options a transport asks for. */
export interface SocketSizing {
  socketBufferSize?: number;
}

/** Creates a socket for `channel` and runs `setup` on it (bind, memberships); closes it if setup throws. */
export async function openChannelSocket(
  dgram: DatagramModule, channel: UdpChannel, sizing: SocketSizing, setup: (socket: DatagramSocket) => Promise<void>,
): Promise<DatagramSocket> {
  const socket = dgram.createSocket({
    type: channel.ipv6 ? 'udp6' : 'udp4', reuseAddr: channel.multicast,
    ...(sizing.socketBufferSize !== undefined && { recvBufferSize: sizing.socketBufferSize, sendBufferSize: sizing.socketBufferSize }),
  });
  try {
    await setup(socket);
  } catch (e) {
    socket.close();
    throw e;
  }
  return socket;
}

/** The wildcard address of the channel's family. */
export function anyAddress(channel: UdpChannel): string {
  return channel.ipv6 ? '::' : '0.0.0.0';
}

/**
 * `interface=` as the socket calls take it (a unicast bind; a multicast channel's memberships and
 * IP_MULTICAST_IF / IPV6_MULTICAST_IF): an IPv4 address as given; an IPv6 one with its scope, which libuv (and
 * ffnet/dgram, whose interfaces are `%portN`) read as the interface index. Without a scope, the host
 * interface holding an address within ADDR/PREFIX names it, the one whose address shares the longest prefix
 * with ADDR, as Aeron's driver picks an interface (NetworkUtil.filterBySubnet); when none holds one (an
 * ffnet stack's ports are not the host's interfaces) the address alone leaves the choice to the routes.
 */
export function socketInterface(channel: UdpChannel): string | undefined {
  const local = channel.localInterface;
  if (local === undefined || !channel.ipv6) return local?.address;
  if (local.scope !== undefined) return `${local.address}%${local.scope}`;
  const want = ipv6Bytes(local.address) as Uint8Array;
  let best: string | undefined;
  let bestLength = local.prefixLength - 1;
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const a of addresses ?? []) {
      const have = a.family === 'IPv6' ? ipv6Bytes(a.address) : undefined;
      const length = have === undefined ? -1 : commonPrefixLength(want, have);
      if (length > bestLength) {
        best = name;
        bestLength = length;
      }
    }
  }
  return best === undefined ? local.address : `${local.address}%${best}`;
}

/**
 * A multicast channel's socket setup, either family: binds the wildcard address on the channel's port
 * (shared with the host's other endpoints of the channel), joins `group` on the channel's interface, sends
 * by that interface and loops its multicast back to the host's other members.
 */
export async function joinChannelGroup(socket: DatagramSocket, channel: UdpChannel, group: string): Promise<void> {
  await bindSocket(socket, channel.endpoint.port, anyAddress(channel));
  const iface = socketInterface(channel);
  socket.addMembership(group, iface);
  if (iface !== undefined) socket.setMulticastInterface(iface);
  socket.setMulticastLoopback(true);
}

/** How many leading bits `a` and `b` share. */
function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = (a[i] as number) ^ (b[i] as number);
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return a.length * 8;
}

/** A channel's socket with its receive loop and counted sends. */
export abstract class ChannelSocket {
  protected readonly pending: PendingSends;
  protected closed = false;

  /**
   * `minDatagram`: the shortest datagram the socket takes (the fixed part of the smallest frame it expects);
   * shorter ones, and any of a version other than 0, are counted as malformed before `onDatagram` sees them.
   */
  protected constructor(
    protected readonly socket: DatagramSocket,
    protected readonly counters: TransportCounters,
    private readonly minDatagram: number,
  ) {
    this.pending = new PendingSends(() => this.counters.sendErrors++);
    // Failed sends are counted through their callbacks and repaired by the protocol's repeats.
    socket.on('error', () => {});
    if (hasBatchApi(socket)) {
      socket.on('messages', (b: ReceivedBatch) => {
        const now = nanoTime();
        for (let i = 0; i < b.count; i++) this.receive(b.data(i), b.address(i), b.port(i), now);
        this.afterReceive();
      });
    } else {
      socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
        this.receive(msg, rinfo.address, rinfo.port, nanoTime());
        this.afterReceive();
      });
    }
  }

  /** The socket's local address and port. */
  get localAddress(): { address: string; port: number } {
    return this.socket.address();
  }

  /** Sends a control frame to `address:port`. */
  sendControl(frame: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    this.pending.add();
    this.socket.send(frame, port, address, this.pending.done);
  }

  /** Closes the socket once its sends in flight have gone (or after 200 ms). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.pending.settled(200).then(() => new Promise((resolve) => this.socket.close(() => resolve())));
  }

  /** A datagram that passed the checks every frame must pass; `type` is its first frame's type. */
  protected abstract onDatagram(type: number, buf: Uint8Array, address: string, port: number, nowNs: number): void;

  protected afterReceive(): void {}

  private receive(buf: Uint8Array, address: string, port: number, nowNs: number): void {
    this.counters.datagramsReceived++;
    if (buf.length < this.minDatagram || buf[HeaderField.VERSION] !== 0) {
      this.counters.malformedDatagrams++;
      return;
    }
    this.onDatagram(readInt16(buf, HeaderField.TYPE), buf, address, port, nowNs);
  }
}
