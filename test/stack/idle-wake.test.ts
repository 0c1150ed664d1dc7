/**
 * Waking an idle stack: in each lcore mode, and a C program in ff_run, a stack on a net_tap port (RX
 * interrupts) that has been idle for over a second answers the kernel's next ping, and gets the reply
 * to its own next ping, within a bound well under its 10 ms idle tick — the frame wakes it, not the
 * tick. Ten rounds each; the median and the worst round are bounded (loosely enough for a loaded
 * 2-CPU machine: a wake that waited for the tick costs 2–10 ms nearly every round, a late scheduler
 * now and then).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../../testbed/netns.js';
import { kernelSide, startUdpEcho, type StackProgram } from '../tools/harness.js';
import { KERNEL_IP, LCORE_MODES, STACK_IP, kernelPeer, quietNamespace, sleep, type KernelPeer } from './kernel-peer.js';
import { IDLE_MS, ROUNDS, expectPrompt, kernelPingRounds, warmUp } from './wake-rounds.js';

describe.each(LCORE_MODES)('an idle stack wakes for the next frame ($name)', (mode) => {
  let peer: KernelPeer;

  beforeAll(async () => {
    peer = await kernelPeer('idle-wake', { dpdk: mode.dpdk });
    await warmUp(peer.ns, STACK_IP);
  });
  afterAll(async () => {
    await peer?.close();
  });

  it(`answers the kernel's ping after ${IDLE_MS} ms idle promptly, ${ROUNDS} rounds`, async () => {
    expectPrompt(await kernelPingRounds(peer.ns, STACK_IP));
  });

  it(`gets the reply to its own ping after ${IDLE_MS} ms idle promptly, ${ROUNDS} rounds`, async () => {
    const rtts: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await sleep(IDLE_MS);
      const [reply] = await peer.stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
      expect(reply?.rttUs, JSON.stringify(reply)).toBeGreaterThanOrEqual(0);
      rtts.push((reply?.rttUs ?? -1) / 1000);
    }
    expectPrompt(rtts);
  });
});

describe('an idle C program in ff_run wakes for the next frame', () => {
  let ns: Netns;
  let echo: StackProgram;

  beforeAll(async () => {
    ns = await quietNamespace('idle-wake-c');
    echo = startUdpEcho(ns, 'idle-wake-c', 120);
    await kernelSide(ns);
    await ns.waitFor(async () => (await ns.exec('ping', ['-c', '1', '-W', '1', STACK_IP])).code === 0, 'udp_echo to answer ping', 30_000, 200);
    await warmUp(ns, STACK_IP);
  }, 60_000);
  afterAll(async () => {
    await echo?.stop();
    await ns?.destroy();
  });

  it(`answers the kernel's ping after ${IDLE_MS} ms idle promptly, ${ROUNDS} rounds`, async () => {
    expectPrompt(await kernelPingRounds(ns, STACK_IP));
  });
});
