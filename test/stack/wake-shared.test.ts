/**
 * One wake-up for the whole process: an ffnet/dgram socket and an ff_epoll_wait_async on an ffnet/posix
 * socket in one program, on a loopback-only stack (inline, and with a data-path lcore). The dgram
 * socket receives while the wait pends on a quiet socket (ff_epoll_wait must not swallow its
 * signal), and the wait then resolves for its own socket, in either order of first use.
 */
import { describe, expect, it } from 'vitest';
import { LCORE_MODES } from './kernel-peer.js';
import { describeApp, runApp } from './node-app.js';

function sharedApp(dgramFirst: boolean): string {
  const dgramSetup = `
    const s = dgram.createSocket('udp4');
    await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));`;
  return `
    import { Stack } from '@FFNET@';
    import dgram from '@DGRAM@';
    import * as P from '@POSIX@';
    const K = P.constants;
    const stack = await Stack.start();
    ${dgramFirst ? dgramSetup : ''}
    const fd = P.ff_socket(K.AF_INET, K.SOCK_DGRAM | K.SOCK_NONBLOCK, 0);
    P.ff_bind(fd, { address: '127.0.0.1', port: 0 });
    const ep = P.ff_epoll_create();
    P.ff_epoll_ctl(ep, K.EPOLL_CTL_ADD, fd, { events: K.EPOLLIN, data: fd });
    const wait = P.ff_epoll_wait_async(ep, 8, 5000);
    ${dgramFirst ? '' : dgramSetup}
    const tx = dgram.createSocket('udp4');
    // While the wait pends on a quiet socket, the dgram socket's datagram must still be delivered.
    const viaDgram = await new Promise((resolve) => {
      const t = setTimeout(() => resolve(null), 2000);
      s.once('message', (m) => { clearTimeout(t); resolve(m.toString()); });
      tx.send('to dgram', s.address().port, '127.0.0.1');
    });
    tx.send('to posix', P.ff_getsockname(fd).port, '127.0.0.1');
    const events = await wait;
    const buf = new Uint8Array(64);
    const r = events.length ? P.ff_recvfrom(fd, buf) : { bytes: 0 };
    report({ viaDgram, events: events.length, viaPosix: Buffer.from(buf.subarray(0, r.bytes)).toString() });
    s.close();
    tx.close();
    await stack.close();
  `;
}

describe.each(LCORE_MODES)('the stack\'s wake-up shared by ffnet/dgram and ff_epoll_wait_async ($name)', (mode) => {
  it.each([true, false])('a dgram socket receives while a wait pends, and the wait sees its socket (dgram bound first: %s)', async (dgramFirst) => {
    const r = await runApp('wake-shared', sharedApp(dgramFirst), { dpdk: mode.dpdk });
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports).toEqual([{ viaDgram: 'to dgram', events: 1, viaPosix: 'to posix' }]);
  });
});
