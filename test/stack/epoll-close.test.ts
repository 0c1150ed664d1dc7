/**
 * ff_epoll_wait_async when what it waits on goes away, in child processes on a loopback-only stack
 * (inline, and with a data-path lcore): `stack.close()` and `ff_close(ep)` during the wait reject
 * its promise with EBADF and a message saying why (with and without a timeout), nothing is thrown
 * outside the promise, and the program then exits with code 0.
 */
import { describe, expect, it } from 'vitest';
import { LCORE_MODES } from './kernel-peer.js';
import { describeApp, runApp } from './node-app.js';

/** An app that waits on an epoll set of one bound socket, then runs `closer` (source) 100 ms later. */
function waitThenClose(timeoutMs: number, closer: string): string {
  return `
    import { Stack } from '@FFNET@';
    import * as P from '@POSIX@';
    const K = P.constants;
    const stack = await Stack.start();
    const fd = P.ff_socket(K.AF_INET, K.SOCK_DGRAM, 0);
    P.ff_bind(fd, { address: '127.0.0.1', port: 0 });
    const ep = P.ff_epoll_create();
    P.ff_epoll_ctl(ep, K.EPOLL_CTL_ADD, fd, { events: K.EPOLLIN, data: fd });
    const outcome = P.ff_epoll_wait_async(ep, 8, ${timeoutMs}).then(
      (events) => ({ resolved: events }),
      (err) => ({ rejected: { name: err.name, code: err.code, syscall: err.syscall, message: err.message } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    ${closer}
    report(await outcome);
    // Past the wait's own timeout: nothing fires late.
    await new Promise((resolve) => setTimeout(resolve, ${Math.max(timeoutMs, 0) + 200}));
    await stack.close();
    report({ done: true });
  `;
}

describe.each(LCORE_MODES)('ff_epoll_wait_async and closing ($name)', (mode) => {
  it.each([-1, 500])('stack.close() during the wait rejects it (timeout %i)', async (timeoutMs) => {
    const r = await runApp('epoll-stack', waitThenClose(timeoutMs, 'await stack.close();'), { dpdk: mode.dpdk });
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports).toEqual([
      { rejected: { name: 'FfError', code: 'EBADF', syscall: 'ff_epoll_wait', message: 'ff_epoll_wait EBADF: the stack closed while waiting' } },
      { done: true },
    ]);
  });

  it.each([-1, 500])('ff_close(ep) during the wait rejects it (timeout %i)', async (timeoutMs) => {
    const r = await runApp('epoll-close', waitThenClose(timeoutMs, 'P.ff_close(ep);'), { dpdk: mode.dpdk });
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports).toEqual([
      { rejected: { name: 'FfError', code: 'EBADF', syscall: 'ff_epoll_wait', message: 'ff_epoll_wait EBADF: the epoll set was closed while waiting' } },
      { done: true },
    ]);
  });
});
