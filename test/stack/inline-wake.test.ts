/**
 * Wake-ups in inline mode: a datagram that the JS thread's own turn of the stack delivers to one of
 * that thread's sockets wakes it without the application's eventfd (udp.wakeups_inline: no write,
 * epoll_wait and read per datagram); a socket of another thread (a worker, on a stack whose one
 * lcore the main thread turns) still gets its eventfd written (udp.wakeups). Loopback ping-pongs
 * over 127.0.0.1 between ffnet/dgram sockets, on a loopback-only stack in a child process.
 */
import { describe, expect, it } from 'vitest';
import { describeApp, runApp } from './node-app.js';

const ROUNDS = 300;

const PING_PONG = `
  import { Stack } from '@FFNET@';
  import dgram from '@DGRAM@';
  const stack = await Stack.start();
  const bind = (s) => new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  await bind(a);
  await bind(b);
  b.on('message', (m, r) => b.send(m, r.port, r.address));
  const before = stack.stats().counters;
  let n = 0;
  await new Promise((resolve) => {
    a.on('message', (m) => {
      if (++n === ${ROUNDS}) return resolve();
      a.send(m, b.address().port, '127.0.0.1');
    });
    a.send('ping', b.address().port, '127.0.0.1');
  });
  const after = stack.stats().counters;
  const d = (k) => after[k] - before[k];
  report({ rounds: n, delivered: d('udp.delivered'), wakeups: d('udp.wakeups'), inline: d('udp.wakeups_inline') });
  a.close();
  b.close();
  await stack.close();
`;

const WORKER_ECHO = `
  import { Worker, isMainThread, parentPort } from 'node:worker_threads';
  import { Stack } from '@FFNET@';
  import dgram from '@DGRAM@';
  const bind = (s) => new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  if (!isMainThread) {
    const e = dgram.createSocket('udp4');
    await bind(e);
    e.on('message', (m, r) => e.send(m, r.port, r.address));
    parentPort.postMessage(e.address().port);
  } else {
    const stack = await Stack.start();
    const w = new Worker(new URL(import.meta.url));
    const port = await new Promise((resolve) => w.once('message', resolve));
    const a = dgram.createSocket('udp4');
    await bind(a);
    const before = stack.stats().counters;
    let n = 0;
    await new Promise((resolve) => {
      a.on('message', (m) => {
        if (++n === ${ROUNDS}) return resolve();
        a.send(m, port, '127.0.0.1');
      });
      a.send('ping', port, '127.0.0.1');
    });
    const after = stack.stats().counters;
    const d = (k) => after[k] - before[k];
    report({ rounds: n, delivered: d('udp.delivered'), wakeups: d('udp.wakeups'), inline: d('udp.wakeups_inline') });
    await w.terminate();
    a.close();
    await stack.close();
  }
`;

describe('wake-ups of the JS thread that turns the stack (inline)', () => {
  it(`a ping-pong between its own sockets writes no eventfd (${ROUNDS} round trips)`, async () => {
    const r = await runApp('inline-wake', PING_PONG, { dpdk: { lcore_mask: '0x1' } });
    expect(r.code, describeApp(r)).toBe(0);
    const [rep] = r.reports as Array<{ rounds: number; delivered: number; wakeups: number; inline: number }>;
    expect(rep?.rounds).toBe(ROUNDS);
    expect(rep?.delivered).toBe(2 * ROUNDS);
    // A ping-pong has one datagram in flight: nearly every delivery finds its thread drained, a wake-up each.
    expect(rep?.inline).toBeGreaterThanOrEqual(ROUNDS);
    expect(rep?.wakeups).toBe(0);
  });

  it(`a worker's socket, on the lcore the main thread turns, is still woken through its eventfd (${ROUNDS} round trips)`, async () => {
    const r = await runApp('inline-wake-worker', WORKER_ECHO, { dpdk: { lcore_mask: '0x1' } });
    expect(r.code, describeApp(r)).toBe(0);
    const [rep] = r.reports as Array<{ rounds: number; delivered: number; wakeups: number; inline: number }>;
    expect(rep?.rounds).toBe(ROUNDS);
    expect(rep?.delivered).toBe(2 * ROUNDS);
    // The worker's datagrams (ROUNDS of them) wake it through the eventfd; the main thread's, inline.
    expect(rep?.wakeups).toBeGreaterThanOrEqual(ROUNDS / 2);
    expect(rep?.inline).toBeGreaterThanOrEqual(ROUNDS / 2);
  });
});
