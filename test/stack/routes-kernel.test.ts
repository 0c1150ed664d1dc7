/**
 * Static routes end to end, with the Linux kernel as the next hop: a stack on net_tap (10.77.0.2/24)
 * whose default gateway, 10.77.0.254, does not exist, and whose `[port0] route[]` sends 10.99.0.0/16
 * via the kernel (10.77.0.1). The kernel holds 10.99.1.1, 10.98.0.1 and 10.97.0.1 on its loopback,
 * addresses in no subnet of the stack: only a route through the kernel reaches them.
 *
 * Cases: the configured route reaches 10.99.1.1 while the default gateway reaches nothing (the
 * longest prefix wins over the default); among default routes the lowest metric wins, and deleting
 * it hands traffic to the next; routes added and deleted at run time between bursts of datagrams
 * take effect as the call returns (no datagram after a delete takes the deleted route); the table
 * lists what was configured; the errors of addRoute and deleteRoute carry Linux's codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { KERNEL_IP, LCORE_MODES, STACK_IP, kernelPeer, type KernelPeer } from './kernel-peer.js';
import { FdScope, expectFfError } from './udp-bench.js';

/** Reachable only through the configured route[] (10.99.0.0/16 via the kernel). */
const VIA_ROUTE = '10.99.1.1';
/** Reachable only through a default route via the kernel. */
const VIA_DEFAULT = '10.98.0.1';
/** Reachable only through a route the cases add at run time. */
const VIA_RUNTIME = '10.97.0.1';
const DEAD_GATEWAY = '10.77.0.254';

describe.each(LCORE_MODES)('static routes through the kernel ($name)', (mode) => {
  let peer: KernelPeer;
  let kern: KernelUdp;
  let fds: FdScope;
  let port = 7300;

  beforeAll(async () => {
    peer = await kernelPeer('routes-kernel', {
      dpdk: mode.dpdk,
      port0: { gateway: DEAD_GATEWAY, route: ['10.99.0.0/16 via 10.77.0.1 metric 5'] },
    });
    const { ns } = peer;
    for (const a of [VIA_ROUTE, VIA_DEFAULT, VIA_RUNTIME]) await ns.execOk('ip', ['addr', 'add', `${a}/32`, 'dev', 'lo']);
    kern = await KernelUdp.start(ns);
    fds = new FdScope(peer.stack);
    // The kernel learns the stack's MAC first, so its replies and our sends settle at once.
    await peer.stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await fds?.closeAll();
    kern?.close();
    await peer?.close();
  });

  /** Sends `count` datagrams from an unbound stack socket to `to` and returns how many a kernel socket there received. */
  async function delivered(to: string, count = 3, waitMs = 1_000): Promise<{ got: number; from: string[] }> {
    const p = port++;
    const { sid } = await kern.socket({ address: to, port: p });
    const fd = await fds.udp();
    const out = await peer.stack.udpSend(fd, { to: { address: to, port: p }, size: 32, count, pattern: 'seq' });
    expect(out.sent).toBe(count);
    const r = await kern.recv(sid, { count, timeoutMs: waitMs });
    await kern.closeSocket(sid);
    await peer.stack.posix('ff_close', fd);
    return { got: r.datagrams.length, from: r.datagrams.map((d) => d.address) };
  }

  it('the configured route reaches an address only the kernel holds, the dead default gateway nothing', async () => {
    expect(await delivered(VIA_ROUTE)).toEqual({ got: 3, from: [STACK_IP, STACK_IP, STACK_IP] });
    expect((await delivered(VIA_DEFAULT, 2, 400)).got).toBe(0);
    // The kernel saw none of those: the stack asked for 10.77.0.254's MAC, which nobody has.
    const neighbours = await peer.stack.neighbours();
    expect(neighbours.find((n) => n.addr === DEAD_GATEWAY)?.state).toMatch(/incomplete|failed/);
  });

  it('lists the configured routes with their metric, connected first', async () => {
    const routes = await peer.stack.routes();
    expect(routes).toEqual([
      { dest: '10.77.0.0/24', via: null, src: null, metric: 0, portId: 0, kind: 'connected' },
      { dest: '10.99.0.0/16', via: KERNEL_IP, src: null, metric: 5, portId: 0, kind: 'static' },
      { dest: '0.0.0.0/0', via: DEAD_GATEWAY, src: null, metric: 0, portId: 0, kind: 'static' },
    ]);
  });

  it('the lowest metric wins among default routes; deleting it hands traffic to the next', async () => {
    const { stack } = peer;
    await stack.addRoute({ dest: 'default', via: KERNEL_IP, metric: 100 });
    expect((await delivered(VIA_DEFAULT, 2, 400)).got).toBe(0); // metric 0 via the dead gateway still wins
    await stack.deleteRoute('default', { metric: 0 });
    expect((await delivered(VIA_DEFAULT)).got).toBe(3);
    await stack.addRoute({ dest: 'default', via: DEAD_GATEWAY });
    expect((await delivered(VIA_DEFAULT, 2, 400)).got).toBe(0);
    await stack.deleteRoute('default', { metric: 100 });
    expect((await stack.routes()).filter((r) => r.dest === '0.0.0.0/0')).toEqual([
      { dest: '0.0.0.0/0', via: DEAD_GATEWAY, src: null, metric: 0, portId: 0, kind: 'static' },
    ]);
  });

  it('routes added and deleted between bursts take effect as the call returns', async () => {
    const { stack } = peer;
    const p = port++;
    const { sid } = await kern.socket({ address: VIA_RUNTIME, port: p });
    const steady = await kern.socket({ address: VIA_ROUTE, port: p });
    const fd = await fds.udp();
    const rounds = 10;
    let expected = 0;
    for (let i = 0; i < rounds; i++) {
      await stack.addRoute({ dest: '10.97.0.0/16', via: KERNEL_IP });
      // Traffic on the configured route flows throughout; the added route carries the next burst at once.
      await stack.udpSend(fd, { to: { address: VIA_ROUTE, port: p }, size: 64, count: 20, pattern: 'seq' });
      const out = await stack.udpSend(fd, { to: { address: VIA_RUNTIME, port: p }, size: 64, count: 5, pattern: 'seq', startSeq: i * 5 });
      expect(out.sent).toBe(5);
      expected += 5;
      await stack.deleteRoute('10.97.0.0/16');
      // After the delete, these go to the dead default gateway: none may reach the kernel.
      await stack.udpSend(fd, { to: { address: VIA_RUNTIME, port: p }, size: 64, count: 5, pattern: 'seq', startSeq: 1000 + i * 5 });
    }
    const r = await kern.recv(sid, { count: expected + 1, timeoutMs: 1_500 });
    expect(r.datagrams.length).toBe(expected);
    const s = await kern.recv(steady.sid, { count: rounds * 20, timeoutMs: 3_000 });
    expect(s.datagrams.length).toBe(rounds * 20);
    await kern.closeSocket(sid);
    await kern.closeSocket(steady.sid);
    await peer.stack.posix('ff_close', fd);
    expect((await stack.routes()).some((rt) => rt.dest === '10.97.0.0/16')).toBe(false);
  });

  it('addRoute and deleteRoute refuse as Linux does, with its codes', async () => {
    const { stack } = peer;
    await expectFfError(stack.addRoute({ dest: '10.99.0.0/16', via: KERNEL_IP, metric: 5 }), 'EEXIST');
    await expectFfError(stack.addRoute({ dest: '10.96.0.0/16', via: '10.66.0.1' }), 'ENETUNREACH');
    await expectFfError(stack.addRoute({ dest: '10.96.0.0/16', via: KERNEL_IP, src: '10.77.0.3' }), 'EADDRNOTAVAIL');
    await expectFfError(stack.deleteRoute('10.96.0.0/16'), 'ESRCH');
    await expectFfError(stack.deleteRoute('10.77.0.0/24'), 'EPERM');
    await expectFfError(stack.deleteRoute('10.99.0.0/16', { metric: 6 }), 'ESRCH');
    // A src the stack has is taken.
    await stack.addRoute({ dest: '10.96.0.0/16', via: KERNEL_IP, src: STACK_IP, metric: 1 });
    await stack.deleteRoute('10.96.0.0/16');
  });
});
