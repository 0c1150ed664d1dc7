/**
 * A publication answers a receiver's request for SETUP (a status message with SEND_SETUP, sent by a receiver
 * that hears data of a stream it has no image of: it joined late, or it was left behind) with a SETUP at its
 * next duty, even when status messages of the receivers it already has arrive in between — as they do
 * every quarter window while data flows, so on a multicast channel a left-behind receiver would otherwise
 * wait for a quiet moment to rejoin.
 */
import { describe, expect, it } from 'vitest';
import { NetworkPublication } from '../../transport/driver/network-publication.js';
import type { SendEndpoint } from '../../transport/driver/send-endpoint.js';
import { DEFAULT_TIMINGS } from '../../transport/driver/timings.js';
import { FrameType, StatusFlags, type StatusMessage } from '../../transport/wire/frames.js';
import { UdpChannel } from '../../transport/wire/channel.js';

const MS = 1_000_000;

function publication(channel: string): { pub: NetworkPublication; setups: () => number } {
  let setups = 0;
  const endpoint = {
    sendData() {},
    flush() {},
    sendControl(frame: Uint8Array) {
      if (new DataView(frame.buffer, frame.byteOffset).getInt16(6, true) === FrameType.SETUP) setups++;
    },
    localAddress: { address: '127.0.0.1', port: 1 },
  } as unknown as SendEndpoint;
  const pub = new NetworkPublication(endpoint, { channel: UdpChannel.parse(channel), streamId: 1001, sessionId: 77, initialTermId: 5 },
    DEFAULT_TIMINGS, { onConnectionChange() {}, onReceiverError() {}, onClosed() {} });
  return { pub, setups: () => setups };
}

function sm(receiverId: bigint, flags = 0): StatusMessage {
  return {
    type: FrameType.SM, flags, sessionId: 77, streamId: 1001, consumptionTermId: 5, consumptionTermOffset: 0,
    receiverWindow: 128 * 1024, receiverId,
  };
}

describe('NetworkPublication: SETUP requests', () => {
  it.each([
    ['multicast, max flow control', 'aeron:udp?endpoint=239.7.9.1:41999|interface=127.0.0.1|fc=max'],
    ['IPv6 multicast, max flow control', 'aeron:udp?endpoint=[ff02::7:9:1]:41999|interface=[::1]|fc=max'],
    ['unicast', 'aeron:udp?endpoint=127.0.0.1:41999'],
  ])('%s: a request is answered at the next duty though another status message arrives first', (_name, channel) => {
    const { pub, setups } = publication(channel);
    pub.onDuty(0);
    pub.onStatusMessage(sm(1n), 1 * MS);
    expect(pub.isConnected).toBe(true);
    const before = setups();
    pub.onDuty(2 * MS);
    expect(setups()).toBe(before);
    pub.onStatusMessage(sm(2n, StatusFlags.SEND_SETUP), 3 * MS);
    pub.onStatusMessage(sm(1n), 3.5 * MS);
    pub.onDuty(4 * MS);
    expect(setups()).toBe(before + 1);
    // Answered once: no further SETUP until asked again.
    pub.onDuty(500 * MS);
    expect(setups()).toBe(before + 1);
  });
});
