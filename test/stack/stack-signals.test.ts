/**
 * SIGINT/SIGTERM and a running stack, in child processes on a loopback-only stack (inline, and with
 * a data-path lcore): the program's own handler runs with the stack still up and can send a last
 * datagram (which arrives), also when it was registered with `process.once` before the stack
 * started; the stack is released when the process exits. A program with no handler of its own is
 * killed by the signal, as node kills it, and leaves no EAL runtime directory behind, also while a
 * worker_thread is attached to the stack.
 */
import { describe, expect, it } from 'vitest';
import { LCORE_MODES } from './kernel-peer.js';
import { describeApp, runApp } from './node-app.js';

/** Two sockets on 127.0.0.1; on `signal`, `tx` says goodbye to `rx`, which ends the program. */
function goodbyeApp(signal: string, register: 'on' | 'once-before-start'): string {
  const handler = `() => {
    report({ handler: true, stackOpen: Stack.current() !== undefined });
    tx.send('goodbye', rx.address().port, '127.0.0.1', (err, n) => report({ sent: err ? err.code : n }));
  }`;
  return `
    import { Stack } from '@FFNET@';
    import dgram from '@DGRAM@';
    let tx, rx;
    ${register === 'once-before-start' ? `process.once('${signal}', ${handler});` : ''}
    rx = dgram.createSocket('udp4');
    tx = dgram.createSocket('udp4');
    rx.on('message', (m) => {
      report({ received: m.toString() });
      rx.close();
      tx.close();
    });
    await new Promise((resolve) => rx.bind(0, '127.0.0.1', resolve));
    await new Promise((resolve) => tx.bind(0, '127.0.0.1', resolve));
    ${register === 'on' ? `process.on('${signal}', ${handler});` : ''}
    report({ ready: true });
  `;
}

const CASES = LCORE_MODES.flatMap((mode) => (['SIGTERM', 'SIGINT'] as const).map((signal) => ({ mode, signal, name: `${signal}, ${mode.name}` })));

describe.each(CASES)('$name', ({ mode, signal }) => {
  it.each(['on', 'once-before-start'] as const)('the program\'s handler (%s) runs first and its goodbye datagram arrives', async (register) => {
    const r = await runApp('sig-goodbye', goodbyeApp(signal, register), { signal, dpdk: mode.dpdk });
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports).toEqual([{ ready: true }, { handler: true, stackOpen: true }, { sent: 7 }, { received: 'goodbye' }]);
    expect(r.runtimeDirLeft).toBe(false);
  });

  it('without a handler of the program\'s own, kills the process and releases the stack', async () => {
    const r = await runApp('sig-default', `
      import dgram from '@DGRAM@';
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => report({ ready: true }));
    `, { signal, dpdk: mode.dpdk });
    expect(r.signal, describeApp(r)).toBe(signal);
    expect(r.timedOut).toBe(false);
    expect(r.runtimeDirLeft).toBe(false);
  });
});

/** Two lcores: JS threads turn them (inline), or a data-path thread does. */
const THREAD_MODES = [
  { name: 'inline', dpdk: { lcore_mask: '0x3', loop: 'inline', lcores: '0@(0-1),1@(0-1)' } },
  { name: 'dedicated', dpdk: { lcore_mask: '0x3', loop: 'dedicated', lcores: '0@(0-1),1@(0-1)' } },
];

describe.each(THREAD_MODES.flatMap((mode) => (['SIGTERM', 'SIGINT'] as const).map((signal) => ({ mode, signal }))))(
  '$signal with a worker attached to the stack ($mode.name)', ({ mode, signal }) => {
    it('without a handler of the program\'s own, kills the process and leaves no runtime directory', async () => {
      const r = await runApp('sig-worker', `
        import { Worker, isMainThread, parentPort } from 'node:worker_threads';
        import dgram from '@DGRAM@';
        const s = dgram.createSocket('udp4');
        s.bind(0, '127.0.0.1', () => {
          if (!isMainThread) return parentPort.postMessage('bound');
          const w = new Worker(new URL(import.meta.url));
          w.once('message', () => report({ ready: true }));
        });
      `, { signal, dpdk: mode.dpdk });
      expect(r.reports, describeApp(r)).toEqual([{ ready: true }]);
      expect(r.signal, describeApp(r)).toBe(signal);
      expect(r.timedOut).toBe(false);
      expect(r.runtimeDirLeft).toBe(false);
    });
  });
