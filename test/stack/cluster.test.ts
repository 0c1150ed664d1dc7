/**
 * ffnet under Node's cluster module, F-Stack's process-per-core model: a DPDK primary owns the
 * 2-queue net_tap and the packet pool; two workers are secondaries that ffnet/dgram starts from the
 * same FFNET_CONFIG, each serving one queue with its own sockets, neighbour cache and counters. The
 * kernel's tun automq spreads the kernel's flows over the queues and returns each flow to the
 * queue it was last answered from. A worker killed with SIGKILL leaves its queue to the primary
 * until a new worker takes it. Only the thread that started a process's stack uses it: DPDK registers
 * no other thread while processes share its memory, and a worker_thread is refused, in the primary
 * before any worker started (a registration there would lock the workers out) as in a worker.
 *
 * Runs in a private namespace, with 2 MiB hugepages reserved for the test (testbed/hugepages.ts):
 * DPDK secondaries cannot map --no-huge memory.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../shim/scenarios.js';
import { clusterSuite } from './cluster-fixture.js';
import { IFACE, KERNEL_IP, NETMASK, STACK_IP, linkLocalOf, linkMac, parsePing } from './kernel-peer.js';

const WORKER_PORT = 7000;
const PRIMARY_PORT = 7001;
/** Where a C program's udp_echo answers. */
const ECHO_PORT = 7;
/** Where both workers hold an ff_* socket that is never read. */
const HOLD_PORT = 7002;
/** 64 MB of EAL memory for the primary, and room for what the workers allocate from the shared heap. */
const PAGES = 64;
/** mbufs a killed worker may strand: what its sockets had queued, its TX and ARP hold queues (idle: none). */
const LEAK_BOUND = 64;

interface SendResult {
  replies: string[][];
  rx: Record<string, string[]>;
  primaryRx: number;
}
interface Neighbour { addr: string; mac: string; state: string }

const cluster = clusterSuite('cluster', PAGES);
const { call } = cluster;

/** Every payload the kernel sent in a `send` of `flows` × `perFlow`. */
function sent(flows: number, perFlow: number): string[] {
  const all: string[] = [];
  for (let f = 0; f < flows; f++) for (let j = 0; j < perFlow; j++) all.push(`f${f}-${j}`);
  return all.sort();
}

/** Checks that each datagram reached exactly one worker and that each flow was answered by one worker. */
function checkDelivery(r: SendResult, flows: number, perFlow: number, workerIds: number[]): void {
  const received = Object.values(r.rx).flat().sort();
  expect(received).toEqual(sent(flows, perFlow));
  for (const id of workerIds) expect(r.rx[id]?.length ?? 0, `worker ${id} received nothing`).toBeGreaterThan(0);
  r.replies.forEach((replies, f) => {
    expect(replies.length, `flow ${f}: replies`).toBe(perFlow);
    const from = new Set(replies.map((m) => m.split(':')[0]));
    expect(from.size, `flow ${f} answered by ${[...from].join(', ')}`).toBe(1);
    expect(replies.map((m) => m.slice(m.indexOf(':') + 1)).sort()).toEqual(
      Array.from({ length: perFlow }, (_, j) => `f${f}-${j}`).sort());
  });
}

describe('ffnet under node:cluster: a DPDK primary and secondary workers on a 2-queue net_tap', () => {
  const workers: Array<{ workerId: number; pid: number; queue: number }> = [];
  let baseline = 0;

  it('a worker_thread of the primary is refused the stack, saying why, and the workers still start', async () => {
    const { report } = await call<{ report: { attached: boolean; error?: string } }>('thread');
    expect(report.attached, JSON.stringify(report)).toBe(false);
    expect(report.error).toMatch(/multi-process stack is used only by the thread that started it/);
  }, 30_000);

  it('each worker claims a queue of its own', async () => {
    workers.push(await call('fork'));
    workers.push(await call('fork'));
    expect(workers.map((w) => w.queue).sort()).toEqual([0, 1]);
  }, 60_000);

  it('a worker with no free queue left fails to start, saying why', async () => {
    const before = cluster.output().length;
    await expect(call('fork')).rejects.toThrow(/did not start: .*"code":1/);
    expect(cluster.output().slice(before)).toContain('every queue is served by a live worker process');
  }, 60_000);

  it('kernel flows to the port every worker binds reach exactly one worker each, both workers, and every reply returns', async () => {
    const r = await call<SendResult>('send', { port: WORKER_PORT, flows: 32, perFlow: 4, waitMs: 10_000 });
    checkDelivery(r, 32, 4, workers.map((w) => w.workerId));
  }, 60_000);

  it('every process learned the kernel\'s MAC (ARP frames are cloned to every process)', async () => {
    const mac = await linkMac(cluster.ns, IFACE);
    const { tables } = await call<{ tables: Record<string, Neighbour[]> }>('neighbours');
    expect(Object.keys(tables).sort()).toEqual(['primary', ...workers.map((w) => String(w.workerId))].sort());
    for (const [who, table] of Object.entries(tables)) {
      expect(table.find((n) => n.addr === KERNEL_IP)?.mac, `${who}'s neighbours: ${JSON.stringify(table)}`).toBe(mac);
    }
  }, 30_000);

  it('every process learned the kernel\'s IPv6 link-local address and MAC (Neighbor Discovery is cloned to every process)', async () => {
    const kernelMac = await linkMac(cluster.ns, IFACE);
    const kernelLL = linkLocalOf(kernelMac);
    const { ports } = await call<{ ports: Array<{ mac: string }> }>('stats');
    // IPv6 on the kernel's side for this test alone (the namespace is quiet otherwise), its link-local
    // address past its own DAD.
    await cluster.ns.execOk('sysctl', ['-qw', `net.ipv6.conf.${IFACE}.disable_ipv6=0`]);
    try {
      await cluster.ns.waitFor(async () => {
        const out = (await cluster.ns.execOk('ip', ['-6', 'addr', 'show', 'dev', IFACE, 'scope', 'link']));
        return out.includes(kernelLL) && !out.includes('tentative');
      }, 'the kernel\'s link-local address', 5_000);
      // The kernel resolves the stack's link-local address: its solicitation (with its MAC) reaches one queue.
      await cluster.ns.exec('ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', `${linkLocalOf(ports[0]!.mac)}%${IFACE}`], { timeoutMs: 10_000 });
      const { tables } = await call<{ tables: Record<string, Neighbour[]> }>('neighbours');
      expect(Object.keys(tables).sort()).toEqual(['primary', ...workers.map((w) => String(w.workerId))].sort());
      const learnt = Object.entries(tables).filter(([, table]) => table.find((n) => n.addr === kernelLL)?.mac === kernelMac);
      expect(learnt.map(([who]) => who).sort(), JSON.stringify(tables)).toEqual(Object.keys(tables).sort());
    } finally {
      await cluster.ns.execOk('sysctl', ['-qw', `net.ipv6.conf.${IFACE}.disable_ipv6=1`]);
    }
  }, 30_000);

  it('a SIGKILLed worker\'s queue is served by the primary: it answers ping and its own socket', async () => {
    const before = await call<{ mempool: { inUse: number; size: number } }>('stats');
    baseline = before.mempool.inUse;
    const victim = workers.find((w) => w.queue === 1)!;
    expect((await call('kill', { workerId: victim.workerId })).signal).toBe('SIGKILL');
    workers.splice(workers.indexOf(victim), 1);
    const ping = parsePing((await cluster.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', STACK_IP])).stdout);
    expect(ping.received).toBe(3);
    // Flows spread over both queues: those on the dead worker's queue now reach the primary's socket.
    const r = await call<SendResult>('send', { port: PRIMARY_PORT, flows: 32, perFlow: 2, waitMs: 3_000 });
    expect(r.primaryRx).toBeGreaterThan(0);
    const answered = r.replies.flat().filter((m) => m.startsWith('P:'));
    expect(answered.length).toBe(r.primaryRx);
  }, 60_000);

  it('a new worker takes the freed queue, knows the neighbours already, and receives again', async () => {
    const replacement = await call<{ workerId: number; pid: number; queue: number }>('fork');
    expect(replacement.queue).toBe(1);
    workers.push(replacement);
    // The kernel knows the stack's MAC and sends at once: the new worker must not need to ARP first.
    const { tables } = await call<{ tables: Record<string, Neighbour[]> }>('neighbours');
    const known = tables[replacement.workerId] ?? [];
    const kernelMac = await linkMac(cluster.ns, IFACE);
    expect(known.find((n) => n.addr === KERNEL_IP)?.mac, JSON.stringify(known)).toBe(kernelMac);
    // What Neighbor Discovery taught the primary too (the kernel's IPv6 is off again by now).
    expect(known.find((n) => n.addr === linkLocalOf(kernelMac))?.mac, JSON.stringify(known)).toBe(kernelMac);
    const r = await call<SendResult>('send', { port: WORKER_PORT, flows: 32, perFlow: 4, waitMs: 10_000 });
    checkDelivery(r, 32, 4, workers.map((w) => w.workerId));
  }, 60_000);

  it('a worker that ends normally gives its queue back and leaves the primary\'s runtime files to the next one', async () => {
    const leaving = workers.find((w) => w.queue === 0)!;
    expect(await call('exit', { workerId: leaving.workerId })).toMatchObject({ code: 0 });
    workers.splice(workers.indexOf(leaving), 1);
    expect(existsSync(join('/var/run/dpdk', cluster.prefix, 'mp_socket'))).toBe(true);
    const r = await call<SendResult>('send', { port: PRIMARY_PORT, flows: 32, perFlow: 2, waitMs: 3_000 });
    expect(r.primaryRx).toBeGreaterThan(0);
    const next = await call<{ workerId: number; pid: number; queue: number }>('fork');
    expect(next.queue).toBe(0);
    workers.push(next);
  }, 60_000);

  it('the primary\'s view of the shared pool stays sane: a killed idle worker strands at most a few mbufs', async () => {
    const s = await call<{ mempool: { inUse: number; size: number } }>('stats');
    expect(s.mempool.inUse).toBeGreaterThanOrEqual(0);
    expect(s.mempool.inUse).toBeLessThanOrEqual(baseline + LEAK_BOUND);
  }, 30_000);

  it('a SIGKILLed worker leaks exactly the datagrams its sockets had queued, and the primary\'s view counts them', async () => {
    const delivered = async (workerId: number): Promise<number> =>
      (await call<{ answer: { counters: Record<string, number> } }>('worker', { workerId, request: { cmd: 'counters' }, reply: 'counters' }))
        .answer.counters['udp.delivered'] ?? 0;
    const poolInUse = async (): Promise<number> => (await call<{ mempool: { inUse: number } }>('stats')).mempool.inUse;
    const [kept, victim] = workers as [typeof workers[number], typeof workers[number]];
    for (const w of workers) await call('worker', { workerId: w.workerId, request: { cmd: 'hold', port: HOLD_PORT }, reply: 'held' });
    // At rest: no ARP clone or replayed neighbour left in a ring.
    let rest = -1;
    await cluster.ns.waitFor(async () => {
      const [a, b] = [await poolInUse(), (await new Promise((r) => setTimeout(r, 300)), await poolInUse())];
      rest = b;
      return a === b;
    }, 'the pool to settle', 5_000);
    const before = await delivered(victim.workerId);
    const r = await call<SendResult>('send', { port: HOLD_PORT, flows: 20, perFlow: 2, waitMs: 1_000 });
    expect(r.replies.flat()).toEqual([]);
    await cluster.ns.waitFor(async () => (await poolInUse()) === rest + 40, 'the 40 datagrams to be queued', 5_000);
    const queuedOnVictim = (await delivered(victim.workerId)) - before;
    expect(queuedOnVictim).toBeGreaterThan(0);
    await call('kill', { workerId: victim.workerId });
    workers.splice(workers.indexOf(victim), 1);
    // The survivor's queued datagrams return to the pool when its socket closes; the victim's never do.
    await call('worker', { workerId: kept.workerId, request: { cmd: 'release' }, reply: 'released' });
    await cluster.ns.waitFor(async () => (await poolInUse()) === rest + queuedOnVictim,
      `the pool to hold the ${queuedOnVictim} datagrams the killed worker had queued`, 5_000);
  }, 60_000);

  it('a C program on the ff_* API joins as a secondary (proc_id 1) and serves the free queue', async () => {
    const secondary = join(cluster.dir, 'secondary.ini');
    writeFileSync(secondary, [
      '[dpdk]', 'no_huge = false', `huge_dir = ${cluster.hugeDir}`, `file_prefix = ${cluster.prefix}`, 'proc_type = secondary', 'proc_id = 1',
      '[port0]', `addr = ${STACK_IP}`, `netmask = ${NETMASK}`, '',
    ].join('\n'));
    const echo = cluster.ns.spawn(join(REPO, 'build/bin/udp_echo'), ['--conf', secondary, '--port', String(ECHO_PORT), '--seconds', '8']);
    let output = '';
    echo.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
    echo.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
    const ended = new Promise<number | null>((resolve) => echo.on('exit', (code) => resolve(code)));
    // Until it has claimed queue 0, that queue's flows reach the primary, which has no socket there.
    let echoed = 0;
    for (let round = 0; round < 12 && echoed === 0; round++) {
      const r = await call<SendResult>('send', { port: ECHO_PORT, flows: 16, perFlow: 1, waitMs: 500 });
      echoed += r.replies.flat().filter((m) => /^f\d+-0$/.test(m)).length;
    }
    expect(await ended, output).toBe(0);
    const summary = JSON.parse(output.trim().split('\n').pop() ?? '{}') as { echoed?: number };
    expect(echoed).toBeGreaterThan(0);
    expect(summary.echoed, output).toBe(echoed);
  }, 60_000);

  it('a worker_thread of a worker is refused the stack, saying why, and the worker serves on', async () => {
    const [w] = workers;
    const { answer } = await call<{ answer: { report: { attached: boolean; error?: string } } }>('worker',
      { workerId: w!.workerId, request: { cmd: 'thread' }, reply: 'thread' });
    expect(answer.report.attached, JSON.stringify(answer.report)).toBe(false);
    expect(answer.report.error).toMatch(/multi-process stack is used only by the thread that started it/);
    const r = await call<SendResult>('send', { port: WORKER_PORT, flows: 32, perFlow: 2, waitMs: 3_000 });
    expect(r.rx[w!.workerId]?.length ?? 0).toBeGreaterThan(0);
    expect(r.replies.flat().filter((m) => m.startsWith(`W${w!.workerId}:`)).length).toBe(r.rx[w!.workerId]!.length);
  }, 60_000);
});
