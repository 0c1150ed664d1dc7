/**
 * End to end over node:dgram on the loopback interface, through a socket wrapper that loses, duplicates
 * and reorders datagrams in both directions (data one way, SETUP/SM/NAK the other) with a fixed seed:
 * every message must arrive exactly once and in order, fragmented ones whole, and the run must end with a
 * clean close (EOS ends the image).
 */
import nodeDgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Transport, type DatagramModule, type ImageEndReason } from '../../transport/index.js';
import { lossyDgram } from '../../testbed/lossy-dgram.js';
import { collect, makeMessage, messageLengths, publishAll, sequenceProblems, waitFor } from './harness.js';

const dgram = nodeDgram as unknown as DatagramModule;
const transports: Transport[] = [];

function transport(module: DatagramModule): Transport {
  const t = new Transport({ dgram: module, lingerMs: 3000 });
  transports.push(t);
  return t;
}

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close({ drain: false })));
});

function port(): number {
  return 20000 + Math.floor(Math.random() * 30000);
}

describe('over ffnet/dgram (kernel backend, no FFNET_CONFIG)', () => {
  it('delivers through the batch API (sendBatch and the messages event), and through a lossy wrapper', async () => {
    const ffnetDgram = (await import('../../shim/dgram.js')) as unknown as DatagramModule;
    const probe = ffnetDgram.createSocket({ type: 'udp4' }) as unknown as { backend: string; close(): void };
    expect(probe.backend).toBe('kernel');
    probe.close();
    for (const module of [ffnetDgram, lossyDgram(ffnetDgram, { loss: 0.05, reorder: 0.02, seed: 5 })]) {
      const count = 2000;
      const channel = `aeron:udp?endpoint=127.0.0.1:${port()}|term-length=64k`;
      const sub = await transport(module).addSubscription(channel, 1002);
      const pub = await transport(module).addPublication(channel, 1002);
      await pub.whenConnected(10_000);
      const received = collect(sub);
      await publishAll(pub, messageLengths(count, 9, pub.maxMessageLength).map((n, i) => makeMessage(i, n)), 30_000);
      expect(await waitFor(() => received.total >= count, 30_000)).toBe(true);
      received.stop();
      expect(received.errors).toEqual([]);
      expect(sequenceProblems(received.bySession.get(pub.sessionId), count)).toEqual([]);
    }
  }, 90_000);
});

describe('reliable delivery under injected faults (node:dgram, loopback)', () => {
  it.each([
    [0.01, 11],
    [0.05, 12],
    [0.2, 13],
  ])('loss %f with duplication and reordering: every message once, in order, and a clean close', async (loss, seed) => {
    const count = 3000;
    const channel = `aeron:udp?endpoint=127.0.0.1:${port()}|term-length=64k`;
    const pubFaults = lossyDgram(dgram, { loss, duplicate: 0.02, reorder: 0.05, seed });
    const subFaults = lossyDgram(dgram, { loss, duplicate: 0.02, reorder: 0.05, seed: seed + 100 });
    const sub = await transport(subFaults).addSubscription(channel, 1001);
    const pub = await transport(pubFaults).addPublication(channel, 1001);
    const ended: ImageEndReason[] = [];
    sub.on('imageUnavailable', (_image, reason) => ended.push(reason));
    await pub.whenConnected(10_000);
    const received = collect(sub);
    const messages = messageLengths(count, seed, pub.maxMessageLength).map((n, i) => makeMessage(i, n));
    expect(messages.some((m) => m.length > pub.maxPayloadLength)).toBe(true);

    await publishAll(pub, messages, 60_000);
    expect(await waitFor(() => received.total >= count, 60_000)).toBe(true);
    await pub.close();
    expect(await waitFor(() => ended.length > 0, 5000)).toBe(true);
    received.stop();

    expect(received.errors).toEqual([]);
    expect(received.bySession.size).toBe(1);
    expect(sequenceProblems(received.bySession.get(pub.sessionId), count)).toEqual([]);
    expect(ended).toEqual(['end-of-stream']);
    // The faults happened and the protocol repaired them.
    expect(pubFaults.counts.dropped).toBeGreaterThan(0);
    expect(pub.counters.naksReceived).toBeGreaterThan(0);
    expect(pub.counters.retransmits).toBeGreaterThan(0);
    expect(pub.counters.messagesOffered).toBe(count);
  }, 120_000);
});

describe('NAKs for successive gaps (unicast, node:dgram, loopback)', () => {
  it('resends each gap when its NAK arrives: a NAK for a new range replaces the lingering resend', async () => {
    const count = 5000;
    const channel = `aeron:udp?endpoint=127.0.0.1:${port()}|term-length=1m`;
    const sub = await transport(lossyDgram(dgram, { loss: 0.05, seed: 51 })).addSubscription(channel, 1005);
    const pub = await transport(lossyDgram(dgram, { loss: 0.05, seed: 52 })).addPublication(channel, 1005);
    await pub.whenConnected(10_000);
    const received = collect(sub);
    await publishAll(pub, Array.from({ length: count }, (_, i) => makeMessage(i, 200)), 60_000);
    expect(await waitFor(() => received.total >= count, 60_000)).toBe(true);
    received.stop();
    expect(sequenceProblems(received.bySession.get(pub.sessionId), count)).toEqual([]);
    expect(pub.counters.naksReceived).toBeGreaterThan(10);
    // Only a NAK repeated for a gap whose resend is still lingering (10 ms) is ignored; were the lingering
    // resend to block NAKs for other ranges, about half of them would be.
    expect(pub.counters.naksIgnored).toBeLessThan(pub.counters.naksReceived / 10);
  }, 90_000);
});

describe('CUBIC congestion control end to end', () => {
  it('measures RTT, shrinks the window on loss, and still delivers everything in order', async () => {
    const count = 3000;
    const channel = `aeron:udp?endpoint=127.0.0.1:${port()}|term-length=1m|cc=cubic`;
    const sub = await transport(lossyDgram(dgram, { loss: 0.02, seed: 31 })).addSubscription(channel, 1003);
    const pub = await transport(lossyDgram(dgram, { loss: 0.02, seed: 32 })).addPublication(channel, 1003);
    await pub.whenConnected(10_000);
    const image = sub.images[0]!;
    // CUBIC starts at 10 MTUs (and grows from there each RTT), well below the static window (128 KiB).
    expect(image.counters.receiverWindow).toBeGreaterThanOrEqual(10 * 1408);
    expect(image.counters.receiverWindow).toBeLessThan(128 * 1024);
    let last = image.counters.receiverWindow;
    let grew = false;
    let shrank = false;
    const sampler = setInterval(() => {
      const w = image.counters.receiverWindow;
      grew ||= w > last;
      shrank ||= w < last;
      last = w;
    }, 1);
    const received = collect(sub);
    await publishAll(pub, messageLengths(count, 33, 4000).map((n, i) => makeMessage(i, n)), 60_000);
    expect(await waitFor(() => received.total >= count, 60_000)).toBe(true);
    clearInterval(sampler);
    received.stop();
    expect(sequenceProblems(received.bySession.get(pub.sessionId), count)).toEqual([]);
    expect(image.counters.rttMeasurements).toBeGreaterThan(0);
    expect(image.counters.lastRttNs).toBeGreaterThan(0);
    expect(image.counters.gaps).toBeGreaterThan(0);
    // The window grew between losses and was cut on loss.
    expect(grew).toBe(true);
    expect(shrank).toBe(true);
  }, 90_000);
});

describe('term ids wrapping past 2^31 − 1', () => {
  it('delivers across the wrap, with loss, starting two terms before it', async () => {
    const count = 2000;
    // 64 KiB terms and ~2 MB of messages: term ids run 2147483646, 2147483647, -2147483648, … (20+ terms).
    const channel = `aeron:udp?endpoint=127.0.0.1:${port()}|term-length=64k|init-term-id=2147483646`;
    const sub = await transport(lossyDgram(dgram, { loss: 0.03, seed: 41 })).addSubscription(channel, 1004);
    const pub = await transport(lossyDgram(dgram, { loss: 0.03, seed: 42 })).addPublication(channel, 1004);
    expect(pub.initialTermId).toBe(2147483646);
    await pub.whenConnected(10_000);
    expect(sub.images[0]!.initialTermId).toBe(2147483646);
    const received = collect(sub);
    await publishAll(pub, messageLengths(count, 43, 2000).map((n, i) => makeMessage(i, n)), 60_000);
    expect(await waitFor(() => received.total >= count, 60_000)).toBe(true);
    received.stop();
    expect(sequenceProblems(received.bySession.get(pub.sessionId), count)).toEqual([]);
    // The stream went well past the wrap (term count 2 is term id -2147483648).
    expect(pub.position).toBeGreaterThan(10 * 65536);
    expect(pub.counters.retransmits).toBeGreaterThan(0);
  }, 90_000);
});

