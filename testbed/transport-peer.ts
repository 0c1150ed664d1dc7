/**
 * A transport peer for multi-process tests: one publisher or one subscriber per process, so tests can run
 * several receivers of a multicast stream, kill a peer outright, or put each peer on its own ffnet stack.
 *
 *   node dist/testbed/transport-peer.js --role pub|sub --channel CH --stream N [options]
 *
 * Options: --impl node|ffnet (the dgram module; ffnet picks the dpdk backend when FFNET_CONFIG is set),
 * --count N (pub: messages to publish; sub: messages per image before it reports), --seed S (message lengths),
 * --max-length N, --loss/--duplicate/--reorder P (a lossy socket wrapper), --slow-ms N and --fragment-limit N
 * (sub: poll N fragments every M ms instead of draining), --chunk N and --pause-ms M (pub: pause M ms after
 * every N messages, to pace the stream), --lifetime-ms N (hard bound on the process),
 * --liveness-ms/--receiver-timeout-ms/--linger-ms (transport timers), --after pub: close|abort|stay.
 *
 * It prints one JSON object per line on stdout: {"event":"ready"}, {"event":"connected"} (pub),
 * {"event":"image"|"unavailable", "session", "reason"?} (sub), {"event":"published", "ms", counters} (pub),
 * {"event":"received", "session", "count", "problems"} (sub, per image when it has `--count` messages or
 * ends), and {"event":"done"} before exiting.
 */
import nodeDgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { PublicationResult, Transport, type DatagramModule, type Publication, type Subscription } from '../transport/index.js';
import { lossyDgram } from './lossy-dgram.js';
import { seededRandom } from './random.js';

const { values: o } = parseArgs({
  options: {
    role: { type: 'string' },
    channel: { type: 'string' },
    stream: { type: 'string', default: '1001' },
    impl: { type: 'string', default: 'node' },
    count: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    'max-length': { type: 'string', default: '2000' },
    loss: { type: 'string', default: '0' },
    duplicate: { type: 'string', default: '0' },
    reorder: { type: 'string', default: '0' },
    'slow-ms': { type: 'string' },
    'fragment-limit': { type: 'string', default: '256' },
    'lifetime-ms': { type: 'string', default: '60000' },
    chunk: { type: 'string' },
    'pause-ms': { type: 'string', default: '2' },
    'liveness-ms': { type: 'string' },
    'receiver-timeout-ms': { type: 'string' },
    'linger-ms': { type: 'string' },
    after: { type: 'string', default: 'close' },
  },
});

function emit(event: string, fields: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

function message(seq: number, length: number): Buffer {
  const m = Buffer.alloc(Math.max(8, length));
  m.writeUInt32LE(seq, 0);
  m.writeUInt32LE(m.length, 4);
  for (let i = 8; i < m.length; i++) m[i] = (seq + i) & 0xff;
  return m;
}

async function dgramModule(): Promise<DatagramModule> {
  const base = (o.impl === 'ffnet' ? await import('../shim/dgram.js') : nodeDgram) as unknown as DatagramModule;
  const faults = { loss: Number(o.loss), duplicate: Number(o.duplicate), reorder: Number(o.reorder), seed: Number(o.seed) + 7 };
  return faults.loss || faults.duplicate || faults.reorder ? lossyDgram(base, faults) : base;
}

async function publish(t: Transport, pub: Publication): Promise<void> {
  pub.on('connected', () => emit('connected'));
  pub.on('disconnected', () => emit('disconnected'));
  await pub.whenConnected(Number(o['lifetime-ms']));
  const count = Number(o.count);
  const random = seededRandom(Number(o.seed));
  const max = Math.min(Number(o['max-length']), pub.maxMessageLength);
  const started = Date.now();
  const chunk = o.chunk === undefined ? Infinity : Number(o.chunk);
  for (let i = 0; i < count;) {
    const r = pub.offer(message(i, 8 + Math.floor(random() * (max - 8))));
    if (r > 0) {
      i++;
      if (i % chunk === 0) await new Promise((res) => setTimeout(res, Number(o['pause-ms'])));
    }
    else if (r === PublicationResult.BACK_PRESSURED || r === PublicationResult.NOT_CONNECTED) await new Promise((res) => setImmediate(res));
    else if (r !== PublicationResult.ADMIN_ACTION) throw new Error(`offer ${i}: ${r}`);
  }
  emit('published', { ms: Date.now() - started, sessionId: pub.sessionId, counters: pub.counters });
  if (o.after === 'abort') {
    await t.close({ drain: false });
    emit('done');
    process.exit(0);
  }
  if (o.after === 'close') {
    const closing = Date.now();
    await pub.close();
    emit('closed', { ms: Date.now() - closing, counters: pub.counters });
    await t.close();
    emit('done');
    process.exit(0);
  }
}

function subscribe(sub: Subscription): void {
  const count = Number(o.count);
  const state = new Map<number, { next: number; count: number; problems: string[]; reported: boolean }>();
  const report = (session: number): void => {
    const s = state.get(session);
    if (s === undefined || s.reported) return;
    s.reported = true;
    emit('received', { session, count: s.count, problems: s.problems.slice(0, 5) });
  };
  sub.on('imageAvailable', (image) => emit('image', { session: image.sessionId, joinPosition: image.joinPosition }));
  sub.on('imageUnavailable', (image, reason) => {
    emit('unavailable', { session: image.sessionId, reason, counters: image.counters });
    report(image.sessionId);
    state.delete(image.sessionId);
  });
  const handler = (m: Uint8Array, h: { sessionId: number }): void => {
    let s = state.get(h.sessionId);
    if (s === undefined) state.set(h.sessionId, (s = { next: -1, count: 0, problems: [], reported: false }));
    const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
    const seq = m.length >= 8 ? v.getUint32(0, true) : -1;
    // An image that joined mid-stream starts at whatever message comes first.
    if (s.next >= 0 && seq !== s.next) s.problems.push(`expected ${s.next}, got ${seq}`);
    if (m.length >= 8 && v.getUint32(4, true) !== m.length) s.problems.push(`message ${seq}: bad length`);
    else for (let i = 8; i < m.length; i++) if (m[i] !== ((seq + i) & 0xff)) {
      s.problems.push(`message ${seq}: byte ${i}`);
      break;
    }
    s.next = seq + 1;
    s.count++;
    if (s.count === count) report(h.sessionId);
  };
  const limit = Number(o['fragment-limit']);
  if (o['slow-ms'] !== undefined) {
    setInterval(() => sub.poll(handler, limit), Number(o['slow-ms']));
  } else {
    const drain = (): void => {
      while (sub.poll(handler, limit) > 0) {
        // drain
      }
    };
    sub.on('readable', drain);
    setInterval(drain, 5);
  }
}

async function main(): Promise<void> {
  const lifetime = Number(o['lifetime-ms']);
  setTimeout(() => {
    emit('lifetime');
    process.exit(3);
  }, lifetime).unref();
  const ms = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const t = new Transport({
    dgram: await dgramModule(),
    ...(o['liveness-ms'] !== undefined && { imageLivenessMs: ms(o['liveness-ms']) }),
    ...(o['receiver-timeout-ms'] !== undefined && { receiverTimeoutMs: ms(o['receiver-timeout-ms']) }),
    ...(o['linger-ms'] !== undefined && { lingerMs: ms(o['linger-ms']) }),
  });
  const channel = o.channel!;
  const stream = Number(o.stream);
  process.on('SIGTERM', () => {
    void t.close({ drain: false }).then(() => process.exit(0));
  });
  if (o.role === 'pub') {
    const pub = await t.addPublication(channel, stream);
    emit('ready', { sessionId: pub.sessionId });
    await publish(t, pub);
  } else if (o.role === 'sub') {
    const sub = await t.addSubscription(channel, stream);
    subscribe(sub);
    emit('ready');
  } else {
    throw new Error(`--role must be pub or sub, got ${String(o.role)}`);
  }
}

main().catch((e: unknown) => {
  emit('error', { message: e instanceof Error ? e.stack : String(e) });
  process.exit(2);
});
