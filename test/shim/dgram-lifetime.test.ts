/**
 * How ffnet/dgram's dpdk sockets end with their stack, in child processes on a loopback-only stack
 * (inline, and with a data-path lcore): a program that closes its socket in 'listening' ends by
 * itself with code 0; after `stack.close()` and `Stack.start()` again, new sockets receive; and
 * `stack.close()` closes every socket as node:dgram closes one — one 'close' each, no 'error', later
 * calls throw ERR_SOCKET_DGRAM_NOT_RUNNING, sends still waiting for a lookup or a bind get an error —
 * after which the program exits with 0.
 */
import { describe, expect, it } from 'vitest';
import { LCORE_MODES } from '../stack/kernel-peer.js';
import { describeApp, runApp } from '../stack/node-app.js';

describe.each(LCORE_MODES)('ffnet/dgram sockets and the end of their stack ($name)', (mode) => {
  it('a socket closed in its listening handler lets the process end with code 0', async () => {
    const r = await runApp('listen-close', `
      import dgram from '@DGRAM@';
      const s = dgram.createSocket('udp4');
      s.on('listening', () => {
        report({ backend: s.backend, port: s.address().port });
        s.close(() => report({ closed: true }));
      });
      s.bind(0, '127.0.0.1');
    `, { dpdk: mode.dpdk });
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports).toEqual([{ backend: 'dpdk', port: expect.any(Number) }, { closed: true }]);
    expect(r.runtimeDirLeft).toBe(false);
  });

  it('sockets receive over 127.0.0.1 again after stack.close() and Stack.start()', async () => {
    const r = await runApp('restart', `
      import { Stack } from '@FFNET@';
      import dgram from '@DGRAM@';
      async function roundTrip(label) {
        const a = dgram.createSocket('udp4');
        const b = dgram.createSocket('udp4');
        await new Promise((resolve) => a.bind(0, '127.0.0.1', resolve));
        const got = await new Promise((resolve) => {
          const t = setTimeout(() => resolve(null), 3000);
          a.on('message', (m) => { clearTimeout(t); resolve(m.toString()); });
          b.send(label, a.address().port, '127.0.0.1');
        });
        a.close();
        b.close();
        return got;
      }
      for (const round of ['first', 'second', 'third']) {
        const stack = await Stack.start();
        report({ round, got: await roundTrip(round) });
        await stack.close();
      }
    `, { dpdk: mode.dpdk });
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports).toEqual([{ round: 'first', got: 'first' }, { round: 'second', got: 'second' }, { round: 'third', got: 'third' }]);
  });

  it('stack.close() closes every socket once, settles its sends, and the program exits with 0', async () => {
    const r = await runApp('stack-close', `
      import { Stack } from '@FFNET@';
      import dgram from '@DGRAM@';
      const stack = await Stack.start();
      const labels = ['bound1', 'bound2', 'binding', 'unbound'];
      const sockets = Object.fromEntries(labels.map((l) => [l, dgram.createSocket('udp4')]));
      const events = [];
      for (const [label, s] of Object.entries(sockets)) {
        s.on('close', () => events.push(label + ' close'));
        s.on('error', (e) => events.push(label + ' error ' + e.message));
      }
      await new Promise((resolve) => sockets.bound1.bind(0, '127.0.0.1', resolve));
      await new Promise((resolve) => sockets.bound2.bind(0, '127.0.0.1', resolve));
      const port = sockets.bound1.address().port;
      // One send completed before the close; then one waiting for its lookup, and one queued
      // behind the implicit bind of a socket that is still binding.
      await new Promise((resolve) => sockets.bound2.send('before', port, '127.0.0.1', (err, n) => {
        events.push('sent before ' + (err ? err.code : n));
        resolve();
      }));
      sockets.bound2.send('lookup', port, 'localhost', (err) => events.push('sent lookup ' + (err ? err.code : 'ok')));
      sockets.binding.send('queued', port, '127.0.0.1', (err) => events.push('sent queued ' + (err ? err.code : 'ok')));
      await stack.close();
      report({ closed: stack.closed });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = {};
      for (const [label, s] of Object.entries(sockets)) {
        const codes = [];
        for (const call of [() => s.send('x', port, '127.0.0.1'), () => s.address(), () => s.close(), () => s.bind(0)]) {
          try { call(); codes.push('no error'); } catch (e) { codes.push(e.code); }
        }
        after[label] = codes;
      }
      report({ events: events.sort(), after });
    `, { dpdk: mode.dpdk });
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/EBADF/);
    expect(r.reports[0]).toEqual({ closed: true });
    const NOT_RUNNING = 'ERR_SOCKET_DGRAM_NOT_RUNNING';
    expect(r.reports[1]).toEqual({
      events: [
        'binding close',
        'bound1 close',
        'bound2 close',
        `sent before 6`,
        `sent lookup ${NOT_RUNNING}`,
        `sent queued ${NOT_RUNNING}`,
        'unbound close',
      ],
      after: Object.fromEntries(['bound1', 'bound2', 'binding', 'unbound'].map((l) => [l, [NOT_RUNNING, NOT_RUNNING, NOT_RUNNING, NOT_RUNNING]])),
    });
  });
});
