/**
 * ffnet/dgram's zero-copy receive on the dpdk backend, over 127.0.0.1 of a loopback-only stack run
 * inline in this process: 'messages' views are the stack's packet buffers (one external ArrayBuffer
 * over the packet pool), 'message' Buffers are their own exactly-sized copies, datagrams in several
 * segments (4000 and 65507 bytes) arrive whole through a copy, lent buffers go back to the pool
 * after every batch, and a view kept past the stack's life reads as empty; a udp6 socket's batches
 * carry IPv6 and v4-mapped sources. Worker threads (each
 * attached to the stack, draining its own sockets) and a stack closed from inside a listener run in
 * child programs (test/stack/node-app.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack } from '../../index.js';
import dgram, { type DatagramBatch, type RemoteInfo, type Socket } from '../../shim/dgram.js';
import { describeApp, runApp } from '../stack/node-app.js';

/** Bytes of datagram `seed`: byte j = (seed * 7 + j) & 0xff. */
function pattern(seed: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let j = 0; j < len; j++) b[j] = (seed * 7 + j) & 0xff;
  return b;
}

function bound(s: Socket, address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve(s.address().port));
  });
}

const closed = (s: Socket): Promise<void> => new Promise((resolve) => s.close(() => resolve()));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `payloads` to port in order, 32 at a time, each group once the last has been sent and
 * `received()` counts it delivered (so the stack's loopback queue and SO_RCVBUF never overflow).
 */
async function sendAll(s: Socket, port: number, payloads: Buffer[], received: () => number, to = '127.0.0.1'): Promise<void> {
  for (let i = 0; i < payloads.length; i += 32) {
    await Promise.all(payloads.slice(i, i + 32).map((p) => new Promise<void>((resolve, reject) => {
      s.send(p, port, to, (err) => (err ? reject(err) : resolve()));
    })));
    const want = Math.min(i + 32, payloads.length);
    for (const end = Date.now() + 3000; received() < want && Date.now() < end;) await sleep(1);
  }
}

/** Polls until the pool's in-use count is `want` (at most 3 s); returns the last count seen. */
async function poolSettlesAt(want: number): Promise<number> {
  let now = -1;
  for (const end = Date.now() + 3000; (now = Stack.current()!.stats().mempool.inUse) !== want && Date.now() < end;) await sleep(5);
  return now;
}

describe('ffnet/dgram zero-copy receive (dpdk backend, inline)', () => {
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'ffnet-zc-'));
    const ini = join(dir, 'ffnet.ini');
    writeFileSync(ini, `[dpdk]\nfile_prefix = dgram-zc-${process.pid}\nlcore_mask = 0x1\n`);
    process.env.FFNET_CONFIG = ini;
  });
  afterAll(() => {
    Stack.current()?.closeNow();
    delete process.env.FFNET_CONFIG;
  });

  it("hands 'messages' views into the packet pool with the right bytes and sources", async () => {
    const r = dgram.createSocket('udp4');
    const s = dgram.createSocket('udp4');
    expect(r.backend).toBe('dpdk');
    const port = await bound(r);
    const from = await bound(s);
    const N = 300;
    const seen: Array<{ text: string; address: string; port: number; rinfo: RemoteInfo; pool: ArrayBufferLike }> = [];
    r.on('messages', (b: DatagramBatch) => {
      for (let i = 0; i < b.count; i++) {
        const v = b.data(i);
        seen.push({ text: v.toString('hex'), address: b.address(i), port: b.port(i), rinfo: b.rinfo(i), pool: v.buffer });
      }
    });
    const payloads = Array.from({ length: N }, (_, i) => pattern(i, 1 + (i % 200)));
    await sendAll(s, port, payloads, () => seen.length);
    expect(seen.map((x) => x.text)).toEqual(payloads.map((p) => p.toString('hex')));
    for (const [i, x] of seen.entries()) {
      expect([x.address, x.port]).toEqual(['127.0.0.1', from]);
      expect(x.rinfo).toEqual({ address: '127.0.0.1', family: 'IPv4', port: from, size: payloads[i]!.length });
    }
    // In place: every view shares one buffer, the pool's memory (megabytes, no scratch buffer).
    expect(new Set(seen.map((x) => x.pool)).size).toBe(1);
    expect(seen[0]!.pool.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    await Promise.all([closed(r), closed(s)]);
  });

  it("hands a udp6 socket's 'messages' views in place with IPv6 and v4-mapped sources, several-segment ones whole", async () => {
    const r = dgram.createSocket('udp6');
    const s6 = dgram.createSocket('udp6');
    const s4 = dgram.createSocket('udp4');
    const port = await bound(r, '::');
    const from6 = await bound(s6, '::1');
    const from4 = await bound(s4);
    const seen: Array<{ text: string; rinfo: RemoteInfo; address: string; pool: ArrayBufferLike }> = [];
    r.on('messages', (b: DatagramBatch) => {
      for (let i = 0; i < b.count; i++) {
        const v = b.data(i);
        seen.push({ text: v.toString('hex'), rinfo: b.rinfo(i), address: b.address(i), pool: v.buffer });
      }
    });
    const six = Array.from({ length: 100 }, (_, i) => pattern(i, 1 + (i % 150)));
    await sendAll(s6, port, six, () => seen.length, '::1');
    const four = Array.from({ length: 40 }, (_, i) => pattern(i + 7, 1 + i));
    await sendAll(s4, port, four, () => seen.length - six.length);
    const big = [pattern(1, 4000), pattern(2, 65527)];
    await sendAll(s6, port, big, () => seen.length - six.length - four.length, '::1');
    const all = [...six, ...four, ...big];
    expect(seen.map((x) => x.text)).toEqual(all.map((p) => p.toString('hex')));
    for (const [i, x] of seen.entries()) {
      const v6 = i < six.length || i >= six.length + four.length;
      const rinfo = { address: v6 ? '::1' : '::ffff:127.0.0.1', family: 'IPv6', port: v6 ? from6 : from4, size: all[i]!.length };
      expect(x.rinfo).toEqual(rinfo);
      expect(x.address).toBe(rinfo.address);
    }
    // One-segment datagrams in place, in the pool's memory.
    expect(new Set(seen.slice(0, six.length + four.length).map((x) => x.pool)).size).toBe(1);
    expect(seen[0]!.pool.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    await Promise.all([closed(r), closed(s6), closed(s4)]);
  });

  it("gives 'message' listeners Buffers of their own, exactly sized, that stay unchanged", async () => {
    const r = dgram.createSocket('udp4');
    const s = dgram.createSocket('udp4');
    const port = await bound(r);
    const N = 500;
    const msgs: Buffer[] = [];
    r.on('message', (m: Buffer) => msgs.push(m));
    const payloads = Array.from({ length: N }, (_, i) => pattern(i + 11, 1 + (i % 300)));
    await sendAll(s, port, payloads, () => msgs.length);
    expect(msgs.length).toBe(N);
    for (const [i, m] of msgs.entries()) {
      expect(m.byteOffset).toBe(0);
      expect(m.buffer.byteLength).toBe(payloads[i]!.length);
      expect(m.equals(payloads[i]!)).toBe(true);
    }
    expect(new Set(msgs.map((m) => m.buffer)).size).toBe(N);
    await Promise.all([closed(r), closed(s)]);
  });

  it('ends a batch with its callback: a view kept past it still points into the pool, the batch refuses access', async () => {
    const r = dgram.createSocket('udp4');
    const s = dgram.createSocket('udp4');
    const port = await bound(r);
    let batch: DatagramBatch | undefined;
    let view: Buffer | undefined;
    const got = new Promise<void>((resolve) => r.once('messages', (b: DatagramBatch) => {
      batch = b;
      view = b.data(0);
      resolve();
    }));
    await sendAll(s, port, [pattern(1, 64)], () => (batch ? 1 : 0));
    await got;
    expect(batch!.count).toBe(0);
    expect(() => batch!.data(0)).toThrow(RangeError);
    // The view is the packet buffer the datagram arrived in, back in the pool now: the stack puts
    // whatever packet it receives or sends next in there. It is not a copy that outlives the batch.
    expect(view!.byteLength).toBe(64);
    expect(view!.buffer.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    await Promise.all([closed(r), closed(s)]);
  });

  it('delivers 4000- and 65507-byte datagrams (several segments) whole, to both events', async () => {
    const r = dgram.createSocket('udp4');
    const s = dgram.createSocket('udp4');
    const port = await bound(r);
    const payloads = [pattern(3, 4000), pattern(4, 65507), pattern(5, 100), pattern(6, 4000)];
    const views: string[] = [];
    const msgs: Buffer[] = [];
    r.on('messages', (b: DatagramBatch) => {
      for (let i = 0; i < b.count; i++) views.push(b.data(i).toString('hex'));
    });
    r.on('message', (m: Buffer) => msgs.push(m));
    await sendAll(s, port, payloads, () => msgs.length);
    expect(views).toEqual(payloads.map((p) => p.toString('hex')));
    expect(msgs.map((m) => [m.length, m.buffer.byteLength, m.equals(payloads[msgs.indexOf(m)]!)])).toEqual(
      payloads.map((p) => [p.length, p.length, true]));
    await Promise.all([closed(r), closed(s)]);
  });

  it('gives every lent packet buffer back: the pool returns to its baseline after many batches', async () => {
    const r = dgram.createSocket('udp4');
    const s = dgram.createSocket('udp4');
    const port = await bound(r);
    await sleep(20);
    const baseline = Stack.current()!.stats().mempool.inUse;
    let count = 0;
    let sum = 0;
    r.on('messages', (b: DatagramBatch) => {
      for (let i = 0; i < b.count; i++) sum += b.data(i)[0]!;
      count += b.count;
    });
    let msgCount = 0;
    r.on('message', () => msgCount++);
    const N = 4000;
    await sendAll(s, port, Array.from({ length: N }, (_, i) => pattern(i, 64 + (i % 3) * 1000)), () => count);
    expect([count, msgCount]).toEqual([N, N]);
    expect(sum).toBeGreaterThan(0);
    expect(await poolSettlesAt(baseline)).toBe(baseline);
    await Promise.all([closed(r), closed(s)]);
  });

  it('survives a socket closed from its own listener, the rest of the batch given back', async () => {
    const r = dgram.createSocket('udp4');
    const s = dgram.createSocket('udp4');
    const port = await bound(r);
    await sleep(20);
    const baseline = Stack.current()!.stats().mempool.inUse;
    let batches = 0;
    r.on('messages', () => {
      batches++;
      r.close();
    });
    await sendAll(s, port, Array.from({ length: 30 }, (_, i) => pattern(i, 64)), () => batches * 30);
    expect(batches).toBe(1);
    expect(await poolSettlesAt(baseline)).toBe(baseline);
    await closed(s);
  });

  it('detaches the pool when the stack closes: a view kept past it reads as empty', async () => {
    const r = dgram.createSocket('udp4');
    const s = dgram.createSocket('udp4');
    const port = await bound(r);
    let view: Buffer | undefined;
    const got = new Promise<void>((resolve) => r.once('messages', (b: DatagramBatch) => {
      view = b.data(0);
      resolve();
    }));
    await sendAll(s, port, [pattern(9, 200)], () => (view ? 1 : 0));
    await got;
    expect(view!.byteLength).toBe(200);
    Stack.current()!.closeNow();
    expect(view!.byteLength).toBe(0);
    expect(view!.buffer.byteLength).toBe(0);
    expect(view!.toString('hex')).toBe('');
  });
});

const KEYS_TWO_INLINE = { lcore_mask: '0x3', loop: 'inline', lcores: '0@(0-1),1@(0-1)' };

describe('ffnet/dgram zero-copy receive in child programs', () => {
  it('serves worker threads, each attached to the stack and draining its own sockets', async () => {
    const app = String.raw`
import { Worker } from 'node:worker_threads';
const dgram = (await import('@DGRAM@')).default;
const { Stack } = await import('@FFNET@');
const stack = Stack.startSync();
const WORKER = ` + '`' + String.raw`
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const dgram = (await import(workerData.dgram)).default;
  const progress = new Int32Array(workerData.progress);
  const r = dgram.createSocket('udp4');
  r.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: r.address().port }));
  const views = [], msgs = [], pools = new Set();
  r.on('messages', (b) => { for (let i = 0; i < b.count; i++) { views.push(b.data(i).toString('latin1')); pools.add(b.data(i).buffer.byteLength); } });
  r.on('message', (m, rinfo) => {
    msgs.push([m.toString('latin1'), m.buffer.byteLength, rinfo.address]);
    Atomics.store(progress, 0, msgs.length);
  });
  parentPort.once('message', () => r.close(() => parentPort.postMessage({ views, msgs, pools: [...pools] })));
})();
` + '`' + String.raw`;
const progress = new SharedArrayBuffer(4);
const w = new Worker(WORKER, { eval: true, workerData: { dgram: '@DGRAM@', progress } });
const { port } = await new Promise((res) => w.once('message', res));
const s = dgram.createSocket('udp4');
const sent = [];
for (let i = 0; i < 200; i++) {
  const text = 'datagram ' + i + ' ' + 'x'.repeat(i % 3 === 0 ? 3000 : i);
  sent.push(text);
  await new Promise((res) => s.send(text, port, '127.0.0.1', res));
  // Ten at a time, each lot once the worker has it: its socket's buffer never overflows.
  if (i % 10 === 9) for (const end = Date.now() + 3000; Atomics.load(new Int32Array(progress), 0) <= i && Date.now() < end;) await new Promise((res) => setTimeout(res, 1));
}
w.postMessage('done');
const rep = await new Promise((res) => w.once('message', res));
await w.terminate();
s.close();
await new Promise((res) => setTimeout(res, 50));
report({
  viewsOk: JSON.stringify(rep.views) === JSON.stringify(sent),
  msgsOk: rep.msgs.every((m, i) => m[0] === sent[i] && m[1] === sent[i].length && m[2] === '127.0.0.1'),
  received: rep.msgs.length,
  pools: rep.pools,
});
stack.closeNow();
`;
    const r = await runApp('zc-worker', app, { dpdk: KEYS_TWO_INLINE, timeoutMs: 30_000 });
    expect(r.code, describeApp(r)).toBe(0);
    const rep = r.reports[0] as { viewsOk: boolean; msgsOk: boolean; received: number; pools: number[] };
    expect(rep).toMatchObject({ viewsOk: true, msgsOk: true, received: 200 });
    // Views of the worker's own external buffer over the pool, and the scratch copy for 3000-byte ones.
    expect(rep.pools.some((n) => n > 4 * 1024 * 1024)).toBe(true);
  });

  it('gives back the batch of a worker terminated inside its listener: the pool returns to its baseline', async () => {
    const app = String.raw`
import { Worker } from 'node:worker_threads';
const dgram = (await import('@DGRAM@')).default;
const { Stack } = await import('@FFNET@');
const stack = Stack.startSync();
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const settle = async () => { let last = -1, now; while ((now = stack.stats().mempool.inUse) !== last) { last = now; await sleep(50); } return now; };
const baseline = await settle();
const WORKER = ` + '`' + String.raw`
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const dgram = (await import(workerData.dgram)).default;
  const r = dgram.createSocket('udp4');
  r.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: r.address().port }));
  r.on('messages', (b) => { parentPort.postMessage({ count: b.count }); for (;;); });
})();
` + '`' + String.raw`;
const w = new Worker(WORKER, { eval: true, workerData: { dgram: '@DGRAM@' } });
const { port } = await new Promise((res) => w.once('message', res));
const s = dgram.createSocket('udp4');
for (let i = 0; i < 20; i++) s.send('y'.repeat(200), port, '127.0.0.1');
const { count } = await new Promise((res) => w.once('message', res));
await w.terminate();
s.close();
report({ count, baseline, after: await settle() });
stack.closeNow();
`;
    const r = await runApp('zc-terminate', app, { dpdk: KEYS_TWO_INLINE, timeoutMs: 30_000 });
    expect(r.code, describeApp(r)).toBe(0);
    const rep = r.reports[0] as { count: number; baseline: number; after: number };
    expect(rep.count).toBeGreaterThan(0);
    expect(rep.after).toBe(rep.baseline);
  });

  it('keeps running when a listener closes the stack mid-batch', async () => {
    const app = String.raw`
const dgram = (await import('@DGRAM@')).default;
const { Stack } = await import('@FFNET@');
const stack = Stack.startSync();
const r = dgram.createSocket('udp4');
const s = dgram.createSocket('udp4');
await new Promise((res) => r.bind(0, '127.0.0.1', res));
let view, closedEvents = 0;
r.on('close', () => closedEvents++);
r.on('messages', (b) => {
  view = b.data(b.count - 1);
  stack.closeNow();
  report({ count: b.count, afterClose: view.byteLength });
});
for (let i = 0; i < 20; i++) s.send('x'.repeat(100), r.address().port, '127.0.0.1');
await new Promise((res) => setTimeout(res, 300));
report({ end: true, closedEvents, viewLength: view?.byteLength });
`;
    const r = await runApp('zc-stack-close', app, { timeoutMs: 20_000 });
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports[0]).toMatchObject({ afterClose: 0 });
    expect(r.reports[1]).toEqual({ end: true, closedEvents: 1, viewLength: 0 });
  });
});
