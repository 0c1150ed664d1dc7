/**
 * The tools on a multi-process stack (node:cluster, F-Stack's process per core; the cluster of
 * test/stack/cluster-fixture.ts): the primary and each secondary worker answer on a control socket of
 * their own in the shared runtime dir, `ffnet ps` lists all three with their queues, and DPDK's
 * telemetry socket stays the primary's (secondaries run with --no-telemetry).
 *
 * Runs in a private namespace, with 2 MiB hugepages reserved for the test (DPDK secondaries cannot
 * map --no-huge memory).
 */
import { describe, expect, it } from 'vitest';
import { clusterSuite } from '../stack/cluster-fixture.js';
import { cli, cliJson } from './harness.js';

interface Info { pid: number; proc_type: string; proc_queue: number; runtime_dir: string; program: string }

const cluster = clusterSuite('tools-cluster');
const { call } = cluster;

describe('ffnet on a multi-process stack', () => {
  it('lists the primary and each secondary with its queue, and reaches each one', async () => {
    const workers = [await call<{ pid: number; queue: number }>('fork'), await call<{ pid: number; queue: number }>('fork')];
    const list = await cliJson<Info[]>(cluster.ns, ['-p', cluster.prefix, 'ps']);
    expect(list.map((s) => [s.pid, s.proc_type, s.proc_queue]).sort()).toEqual(
      [[cluster.primaryPid, 'primary', -1], ...workers.map((w) => [w.pid, 'secondary', w.queue])].sort());
    expect(new Set(list.map((s) => s.runtime_dir)).size).toBe(1);
    for (const w of workers) {
      const ttl = await cli(cluster.ns, ['-p', String(w.pid), 'sysctl', 'net.inet.ip.ttl']);
      expect(ttl).toMatchObject({ code: 0, stdout: 'net.inet.ip.ttl: 64\n' });
      const stats = await cliJson<{ counters: Record<string, number> }>(cluster.ns, ['-p', String(w.pid), 'netstat', '-s']);
      expect(stats.counters['loop.turns']).toBeGreaterThan(0);
    }
    // Several stacks share the prefix: a command names one.
    const which = await cli(cluster.ns, ['-p', cluster.prefix, 'netstat', '-s']);
    expect(which.code).toBe(1);
    expect(which.stderr).toMatch(/^ffnet netstat: several stacks run \(.*\): choose one with -p\n$/);

    // DPDK's telemetry socket is still the primary's after the secondaries started.
    const hello = await cluster.ns.execOk('python3', ['-c', `
import json, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect('${list[0]!.runtime_dir}/dpdk_telemetry.v2')
print(json.dumps(json.loads(s.recv(16384))))
s.send(b'/ffnet/info')
print(json.dumps(json.loads(s.recv(16384))))`], { timeoutMs: 10_000 });
    const [greeting, info] = hello.trim().split('\n').map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    expect(greeting).toMatchObject({ pid: cluster.primaryPid });
    expect(info!['/ffnet/info']).toMatchObject({ pid: cluster.primaryPid, proc_type: 'primary' });
  }, 120_000);
});
