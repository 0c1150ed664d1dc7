/**
 * What the stack's exhaustion suites check after each flood: the kernel's pings are answered, a
 * kernel datagram reaches a fresh ff socket, and the stack process's resident memory. Every wait is
 * bounded.
 */
import { readFileSync } from 'node:fs';
import type { KernelUdp } from '../../testbed/kernel-udp.js';
import { KERNEL_IP, STACK_IP, parsePing, sleep, type KernelPeer } from './kernel-peer.js';
import type { FdScope } from './udp-bench.js';

/** Kernel pings to the stack, 0.2 s apart: how many of `count` were answered, and ping's output. */
export async function kernelPing(peer: KernelPeer, count: number): Promise<{ received: number; out: string }> {
  const r = await peer.ns.exec('ping', ['-c', String(count), '-i', '0.2', '-W', '1', STACK_IP], { timeoutMs: 5_000 + count * 1_500 });
  return { received: parsePing(r.stdout).received, out: r.stdout + r.stderr };
}

/**
 * Opens an ff socket on `port` and sends it kernel datagrams, one at a time (at most 5, one lost to a
 * busy stack is sent again), until one arrives within `timeoutMs` in all; resolves to how many arrived
 * (0 or 1).
 */
export async function datagramGetsThrough(peer: KernelPeer, kern: KernelUdp, fds: FdScope, port: number, timeoutMs = 2_000): Promise<number> {
  const fd = await fds.udp({ address: STACK_IP, port });
  const { sid } = await kern.socket({ address: KERNEL_IP });
  let got = 0;
  for (let i = 0; i < 5 && got === 0; i++) {
    await kern.send(sid, { to: { address: STACK_IP, port }, size: 32, count: 1 });
    got = (await peer.stack.udpRecv(fd, { count: 1, timeoutMs: timeoutMs / 5 })).datagrams.length;
  }
  await kern.closeSocket(sid);
  return got;
}

/** VmRSS of the stack process, in KiB. */
export function stackRssKib(peer: KernelPeer): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${peer.stack.pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for the stack process ${peer.stack.pid}`);
  return Number(m[1]);
}

/** Samples the pool every `everyMs` until stopped; resolves to the highest occupancy seen. */
export function samplePool(peer: KernelPeer, everyMs = 20): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { inUse } = await peer.stack.mempool();
      max = Math.max(max, inUse);
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

/** CPU time (user + system) of the stack process so far, in clock ticks (USER_HZ, 100 per second). */
function stackCpuTicks(peer: KernelPeer): number {
  const stat = readFileSync(`/proc/${peer.stack.pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Share of one core the stack process used over the next `ms` milliseconds (0..n_cores). */
export async function stackCpuShare(peer: KernelPeer, ms = 1_000): Promise<number> {
  const t0 = stackCpuTicks(peer);
  const w0 = Date.now();
  await sleep(ms);
  return (stackCpuTicks(peer) - t0) / 100 / ((Date.now() - w0) / 1_000);
}
