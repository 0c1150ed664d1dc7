/**
 * Connection lifecycle over node:dgram on the loopback interface: connection and NOT_CONNECTED, a clean
 * close on either side (EOS), publisher and subscriber restarts, liveness timeouts when a side vanishes
 * without a word, a subscriber joining a running stream, the EOS status messages of a draining image, the
 * unicast SETUP's TTL, ERR for a stream the receiver rejects, and the API's argument errors and counters.
 */
import nodeDgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PublicationResult, Transport, type DatagramModule, type ImageEndReason, type TransportOptions } from '../../transport/index.js';
import { ControlLength, FrameType, StatusFlags, encodeData, encodeSetup, heartbeat } from '../../transport/wire/frames.js';
import { collect, makeMessage, publishAll, sequenceProblems, sleep, waitFor } from './harness.js';

const dgram = nodeDgram as unknown as DatagramModule;
const transports: Transport[] = [];
/** Short timers so that timeouts happen within a test. */
const FAST: TransportOptions = { dgram, receiverTimeoutMs: 600, imageLivenessMs: 800, lingerMs: 2000 };

function transport(options: TransportOptions = FAST): Transport {
  const t = new Transport(options);
  transports.push(t);
  return t;
}

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close({ drain: false })));
});

function channel(extra = ''): string {
  return `aeron:udp?endpoint=127.0.0.1:${20000 + Math.floor(Math.random() * 30000)}|term-length=64k${extra}`;
}

describe('connection', () => {
  it('refuses offers with NOT_CONNECTED until a subscriber answers, then connects', async () => {
    const ch = channel();
    const pub = await transport().addPublication(ch, 5);
    expect(pub.isConnected).toBe(false);
    expect(pub.offer(Buffer.from('early'))).toBe(PublicationResult.NOT_CONNECTED);
    expect(pub.counters.notConnectedEvents).toBe(1);
    const sub = await transport().addSubscription(ch, 5);
    const images: number[] = [];
    sub.on('imageAvailable', (image) => images.push(image.sessionId));
    await pub.whenConnected(3000);
    expect(pub.isConnected).toBe(true);
    expect(images).toEqual([pub.sessionId]);
    expect(sub.images[0]!.joinPosition).toBe(0);
    expect(pub.offer(Buffer.from('hello'))).toBe(64);
    expect(pub.position).toBe(64);
    let got = '';
    expect(await waitFor(() => sub.poll((m) => (got = Buffer.from(m).toString())) > 0, 2000)).toBe(true);
    expect(got).toBe('hello');
    expect(pub.counters.setupsSent).toBeGreaterThanOrEqual(1);
    expect(pub.counters.statusMessagesReceived).toBeGreaterThanOrEqual(1);
  });

  it('connects and delivers over an IPv6 channel (aeron:udp?endpoint=[::1]:PORT, udp6 sockets)', async () => {
    const ch = `aeron:udp?endpoint=[::1]:${20000 + Math.floor(Math.random() * 30000)}|term-length=64k`;
    const sub = await transport().addSubscription(ch, 9);
    const pub = await transport().addPublication(ch, 9);
    await pub.whenConnected(3000);
    expect(pub.localAddress.address).toBe('::');
    expect(pub.offer(Buffer.from('over udp6'))).toBeGreaterThan(0);
    let got = '';
    expect(await waitFor(() => sub.poll((m) => (got = Buffer.from(m).toString())) > 0, 2000)).toBe(true);
    expect(got).toBe('over udp6');
  });

  it('tryClaim writes a message in place; abort leaves nothing to deliver', async () => {
    const ch = channel();
    const sub = await transport().addSubscription(ch, 6);
    const pub = await transport().addPublication(ch, 6);
    await pub.whenConnected(3000);
    const aborted = pub.tryClaim(4);
    if (typeof aborted === 'number') throw new Error(`tryClaim: ${aborted}`);
    aborted.abort();
    const claim = pub.tryClaim(5);
    if (typeof claim === 'number') throw new Error(`tryClaim: ${claim}`);
    claim.payload.set(Buffer.from('claim'));
    claim.commit();
    expect(() => pub.tryClaim(pub.maxPayloadLength + 1)).toThrow(RangeError);
    const got: string[] = [];
    expect(await waitFor(() => {
      sub.poll((m) => got.push(Buffer.from(m).toString()));
      return got.length > 0;
    }, 2000)).toBe(true);
    expect(got).toEqual(['claim']);
  });

  it('throws node-style errors for bad arguments and ChannelError for bad channels', async () => {
    const t = transport();
    await expect(t.addPublication('aeron:udp?endpoint=127.0.0.1:0', 1)).rejects.toThrow(/endpoint: port 0/);
    await expect(t.addSubscription('aeron:udp?endpoint=127.0.0.1:5|mtu=1000', 1)).rejects.toThrow(/^mtu: /);
    await expect(t.addPublication(channel(), 2 ** 31)).rejects.toThrow(RangeError);
    const pub = await t.addPublication(channel(), 1);
    expect(() => pub.offer('text' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => pub.offer(Buffer.alloc(4), -1)).toThrow(RangeError);
    expect(() => pub.offer(Buffer.alloc(4), 1.5)).toThrow(TypeError);
    expect(() => new Transport({ heartbeatIntervalMs: -1 })).toThrow(/heartbeatIntervalMs/);
    const sub = await t.addSubscription(channel(), 1);
    expect(() => sub.poll(null as never)).toThrow(TypeError);
    expect(() => sub.poll(() => {}, 0)).toThrow(RangeError);
  });
});

describe('ends of streams', () => {
  it('a clean publisher close drains, ends the image with end-of-stream, and refuses offers with CLOSED', async () => {
    const ch = channel();
    const sub = await transport().addSubscription(ch, 7);
    const pub = await transport().addPublication(ch, 7);
    const ended: ImageEndReason[] = [];
    sub.on('imageUnavailable', (_i, reason) => ended.push(reason));
    await pub.whenConnected(3000);
    const received = collect(sub);
    await publishAll(pub, Array.from({ length: 500 }, (_, i) => makeMessage(i, 100)), 10_000);
    const started = Date.now();
    await pub.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(pub.offer(Buffer.alloc(8))).toBe(PublicationResult.CLOSED);
    expect(await waitFor(() => ended.length > 0, 2000)).toBe(true);
    received.stop();
    expect(ended).toEqual(['end-of-stream']);
    expect(sequenceProblems(received.bySession.get(pub.sessionId), 500)).toEqual([]);
    expect(sub.isConnected).toBe(false);
  });

  it('a clean subscriber close tells the publisher at once (EOS status message)', async () => {
    const ch = channel();
    const pubTransport = transport({ ...FAST, receiverTimeoutMs: 60_000 });
    const pub = await pubTransport.addPublication(ch, 8);
    const sub = await transport().addSubscription(ch, 8);
    await pub.whenConnected(3000);
    const events: string[] = [];
    pub.on('disconnected', () => events.push('disconnected'));
    await sub.close();
    expect(await waitFor(() => events.length > 0, 1000)).toBe(true);
    expect(pub.isConnected).toBe(false);
    expect(pub.offer(Buffer.alloc(8))).toBe(PublicationResult.NOT_CONNECTED);
  });

  it('a publisher that vanishes ends its image by liveness timeout; a restarted one joins as a new image', async () => {
    const ch = channel();
    const sub = await transport().addSubscription(ch, 9);
    const available: number[] = [];
    const ended: [number, ImageEndReason][] = [];
    sub.on('imageAvailable', (image) => available.push(image.sessionId));
    sub.on('imageUnavailable', (image, reason) => ended.push([image.sessionId, reason]));
    const received = collect(sub);

    const first = transport();
    const pub1 = await first.addPublication(ch, 9);
    await pub1.whenConnected(3000);
    await publishAll(pub1, Array.from({ length: 200 }, (_, i) => makeMessage(i, 50)), 5000);
    expect(await waitFor(() => received.total === 200, 3000)).toBe(true);
    await first.close({ drain: false });
    expect(await waitFor(() => ended.length === 1, 3000)).toBe(true);
    expect(ended[0]).toEqual([pub1.sessionId, 'timeout']);

    const pub2 = await transport().addPublication(ch, 9);
    await pub2.whenConnected(3000);
    await publishAll(pub2, Array.from({ length: 200 }, (_, i) => makeMessage(i, 50)), 5000);
    expect(await waitFor(() => received.total === 400, 3000)).toBe(true);
    received.stop();
    expect(available).toEqual([pub1.sessionId, pub2.sessionId]);
    expect(sequenceProblems(received.bySession.get(pub1.sessionId), 200)).toEqual([]);
    expect(sequenceProblems(received.bySession.get(pub2.sessionId), 200)).toEqual([]);
  });

  it('a subscriber that vanishes times out at the publisher; a restarted one joins the running stream', async () => {
    const ch = channel();
    const pub = await transport().addPublication(ch, 10);
    const events: string[] = [];
    pub.on('connected', () => events.push('connected'));
    pub.on('disconnected', () => events.push('disconnected'));
    const first = transport();
    const sub1 = await first.addSubscription(ch, 10);
    await pub.whenConnected(3000);
    await publishAll(pub, Array.from({ length: 100 }, (_, i) => makeMessage(i, 200)), 5000);
    const received1 = collect(sub1);
    expect(await waitFor(() => received1.total === 100, 3000)).toBe(true);
    received1.stop();
    await first.close({ drain: false });
    expect(await waitFor(() => events.includes('disconnected'), 3000)).toBe(true);
    expect(pub.offer(Buffer.alloc(8))).toBe(PublicationResult.NOT_CONNECTED);

    const sub2 = await transport().addSubscription(ch, 10);
    await pub.whenConnected(3000);
    const image = sub2.images[0]!;
    // Joined where the sender was, not at the start of the stream.
    expect(image.joinPosition).toBe(pub.position);
    expect(image.joinPosition).toBeGreaterThan(0);
    const received2 = collect(sub2);
    await publishAll(pub, Array.from({ length: 100 }, (_, i) => makeMessage(i, 200)), 5000);
    expect(await waitFor(() => received2.total === 100, 3000)).toBe(true);
    received2.stop();
    expect(sequenceProblems(received2.bySession.get(pub.sessionId), 100)).toEqual([]);
    expect(events).toEqual(['connected', 'disconnected', 'connected']);
  });

  it('a receiver asks for SETUP when it hears data of a stream it has no image of', async () => {
    const ch = channel();
    const pub = await transport({ ...FAST, setupIntervalMs: 60_000 }).addPublication(ch, 11);
    // The first SETUP went nowhere; the heartbeat (after 100 ms) is what the subscriber hears first.
    await sleep(50);
    const subTransport = transport();
    const sub = await subTransport.addSubscription(ch, 11);
    await pub.whenConnected(3000);
    expect(subTransport.counters.setupRequestsSent).toBeGreaterThanOrEqual(1);
    expect(sub.images.length).toBe(1);
  });
});

describe('SETUP', () => {
  it('carries TTL 0 on a unicast channel, as the TTL applies to multicast only', async () => {
    const raw = nodeDgram.createSocket('udp4');
    await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
    const setup = new Promise<Buffer>((resolve) => raw.on('message', (m) => { if (m.readInt16LE(6) === 5) resolve(m); }));
    await transport({ ...FAST, setupIntervalMs: 20 }).addPublication(`aeron:udp?endpoint=127.0.0.1:${raw.address().port}|term-length=64k`, 14);
    const frame = await Promise.race([setup, sleep(2000).then(() => null)]);
    raw.close();
    expect(frame).not.toBeNull();
    expect(frame!.readInt32LE(36)).toBe(0);
  });
});

describe('end of stream, receiver side', () => {
  it('repeats the EOS status message each status interval while the image drains (5 intervals), then stops', async () => {
    const smMs = 40;
    const port = 20000 + Math.floor(Math.random() * 30000);
    const sub = await transport({ ...FAST, statusMessageIntervalMs: smMs }).addSubscription(`aeron:udp?endpoint=127.0.0.1:${port}`, 15);
    const ended = new Promise<ImageEndReason>((resolve) => sub.on('imageUnavailable', (_image, reason) => resolve(reason)));
    // A hand-made publication: SETUP, then one EOS heartbeat at position 0.
    const raw = nodeDgram.createSocket('udp4');
    const eosAt: number[] = [];
    let sms = 0;
    raw.on('message', (m) => {
      if (m.readInt16LE(6) !== FrameType.SM) return;
      sms++;
      if (m[5]! & StatusFlags.EOS) eosAt.push(performance.now());
    });
    const ids = { sessionId: 4343, streamId: 15, termId: 1, termOffset: 0 };
    const setup = Buffer.alloc(ControlLength.SETUP);
    encodeSetup({ type: FrameType.SETUP, flags: 0, ...ids, initialTermId: 1, activeTermId: 1, termLength: 65536, mtu: 1408, ttl: 0 }, setup, 0);
    raw.send(setup, port, '127.0.0.1');
    expect(await waitFor(() => sms > 0, 2000)).toBe(true);
    const eos = Buffer.alloc(32);
    encodeData(heartbeat(ids, true), eos, 0);
    raw.send(eos, port, '127.0.0.1');
    expect(await Promise.race([ended, sleep(2000).then(() => null)])).toBe('end-of-stream');
    await sleep(12 * smMs);
    raw.close();
    // The first at the end, then one per interval for 5 intervals: the sender may have missed the first.
    expect(eosAt.length).toBeGreaterThanOrEqual(4);
    expect(eosAt.length).toBeLessThanOrEqual(7);
    const span = eosAt.at(-1)! - eosAt[0]!;
    expect(span).toBeGreaterThanOrEqual(3 * smMs);
    expect(span).toBeLessThanOrEqual(8 * smMs);
  });
});

describe('rejected streams', () => {
  it('answers a SETUP it cannot take with an ERR frame saying why', async () => {
    const port = 20000 + Math.floor(Math.random() * 30000);
    const subTransport = transport();
    await subTransport.addSubscription(`aeron:udp?endpoint=127.0.0.1:${port}`, 12);
    // A hand-made SETUP with a term length that is not a power of two.
    const setup = Buffer.alloc(40);
    setup.writeInt32LE(40, 0);
    setup.writeInt16LE(5, 6);
    setup.writeInt32LE(4242, 12);
    setup.writeInt32LE(12, 16);
    setup.writeInt32LE(65536 + 32, 28);
    setup.writeInt32LE(1408, 32);
    const raw = nodeDgram.createSocket('udp4');
    const reply = new Promise<Buffer>((resolve) => raw.once('message', resolve));
    raw.send(setup, port, '127.0.0.1');
    const err = await Promise.race([reply, sleep(2000).then(() => null)]);
    raw.close();
    expect(err).not.toBeNull();
    expect(err!.readInt16LE(6)).toBe(4);
    expect(err!.readInt32LE(8)).toBe(4242);
    expect(err!.readInt32LE(32)).toBe(13);
    expect(err!.subarray(40).toString()).toMatch(/term_length 65568 is not a power of two/);
    expect(subTransport.counters.setupsRejected).toBe(1);
  });

  it("reports a receiver's ERR frame on the publication", async () => {
    const pub = await transport().addPublication(channel(), 13);
    const errors: { errorCode: number; message: string }[] = [];
    pub.on('receiverError', (e) => errors.push(e));
    const text = Buffer.from('not for me');
    const err = Buffer.alloc(40 + text.length);
    err.writeInt32LE(err.length, 0);
    err.writeInt16LE(4, 6);
    err.writeInt32LE(pub.sessionId, 8);
    err.writeInt32LE(13, 12);
    err.writeInt32LE(13, 32);
    err.writeInt32LE(text.length, 36);
    text.copy(err, 40);
    const raw = nodeDgram.createSocket('udp4');
    raw.send(err, pub.localAddress.port, '127.0.0.1');
    expect(await waitFor(() => errors.length > 0, 2000)).toBe(true);
    raw.close();
    expect(errors[0]).toMatchObject({ errorCode: 13, message: 'not for me' });
    expect(pub.counters.errorFramesReceived).toBe(1);
  });
});
