/**
 * The tools on a multi-process stack (node:cluster, F-Stack's process per core; the fixture of
 * test/stack/cluster.test.ts): the primary and each secondary worker answer on a control socket of
 * their own in the shared runtime dir, `ffnet ps` lists all three with their queues, and DPDK's
 * telemetry socket stays the primary's (secondaries run with --no-telemetry).
 *
 * Runs in a private namespace, with 2 MiB hugepages reserved for the test (DPDK secondaries cannot
 * map --no-huge memory).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hugepages } from '../../testbed/hugepages.js';
import { stopChild, type Netns } from '../../testbed/netns.js';
import { IFACE, NETMASK, STACK_IP, quietNamespace } from '../stack/kernel-peer.js';
import { REPO, cli, cliJson } from './harness.js';

interface Info { pid: number; proc_type: string; proc_queue: number; runtime_dir: string; program: string }

let huge: Hugepages | undefined;
let ns: Netns;
let app: ChildProcess | undefined;
let dir = '';
let prefix = '';
let primaryPid = 0;
let output = '';
const answers = new Map<number, (v: Record<string, unknown>) => void>();
let nextId = 1;

function call<T>(cmd: string): Promise<T> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd}: no answer in 30 s; output:\n${output.slice(-4000)}`)), 30_000);
    answers.set(id, (v) => {
      clearTimeout(timer);
      if (typeof v.error === 'string') reject(new Error(`${cmd}: ${v.error}`));
      else resolve(v as T);
    });
    app?.stdin?.write(`${JSON.stringify({ id, cmd })}\n`);
  });
}

beforeAll(async () => {
  huge = Hugepages.reserve(64);
  ns = await quietNamespace('tools-cluster');
  dir = mkdtempSync(join(tmpdir(), 'ffnet-tools-cluster-'));
  const config = join(dir, 'ffnet.ini');
  writeFileSync(config, [
    '[dpdk]', 'no_huge = false', `huge_dir = ${huge.dir}`, 'memory = 64', 'nb_mbuf = 4095',
    'proc_type = auto', 'nb_procs = 2', `vdev[] = net_tap0,iface=${IFACE}`, 'log_level = warning',
    '[port0]', `addr = ${STACK_IP}`, `netmask = ${NETMASK}`, '',
  ].join('\n'));
  app = ns.spawn(process.execPath, [join(REPO, 'test/stack/fixtures/cluster-app.mjs')], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, FFNET_CONFIG: config, FFNET_DIST: pathToFileURL(join(REPO, 'dist')).href },
  });
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => (ready = resolve));
  let partial = '';
  app.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    partial += chunk;
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!line.startsWith('@ ')) continue;
      const msg = JSON.parse(line.slice(2)) as Record<string, unknown>;
      if (msg.ready) {
        primaryPid = msg.pid as number;
        prefix = `ffnet-${primaryPid}`;
        ready();
      } else answers.get(msg.id as number)?.(msg);
    }
  });
  app.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  await Promise.race([started, new Promise((_, reject) => setTimeout(() => reject(new Error(`no start in 30 s:\n${output}`)), 30_000))]);
}, 60_000);

afterAll(async () => {
  if (app) {
    app.stdin?.end();
    await stopChild(app, 5_000);
  }
  await ns?.destroy();
  if (prefix) rmSync(join('/var/run/dpdk', prefix), { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
  huge?.release();
}, 30_000);

describe('ffnet on a multi-process stack', () => {
  it('lists the primary and each secondary with its queue, and reaches each one', async () => {
    const workers = [await call<{ pid: number; queue: number }>('fork'), await call<{ pid: number; queue: number }>('fork')];
    const list = await cliJson<Info[]>(ns, ['-p', prefix, 'ps']);
    expect(list.map((s) => [s.pid, s.proc_type, s.proc_queue]).sort()).toEqual(
      [[primaryPid, 'primary', -1], ...workers.map((w) => [w.pid, 'secondary', w.queue])].sort());
    expect(new Set(list.map((s) => s.runtime_dir)).size).toBe(1);
    for (const w of workers) {
      const ttl = await cli(ns, ['-p', String(w.pid), 'sysctl', 'net.inet.ip.ttl']);
      expect(ttl).toMatchObject({ code: 0, stdout: 'net.inet.ip.ttl: 64\n' });
      const stats = await cliJson<{ counters: Record<string, number> }>(ns, ['-p', String(w.pid), 'netstat', '-s']);
      expect(stats.counters['loop.turns']).toBeGreaterThan(0);
    }
    // Several stacks share the prefix: a command names one.
    const which = await cli(ns, ['-p', prefix, 'netstat', '-s']);
    expect(which.code).toBe(1);
    expect(which.stderr).toMatch(/^ffnet netstat: several stacks run \(.*\): choose one with -p\n$/);

    // DPDK's telemetry socket is still the primary's after the secondaries started.
    const hello = await ns.execOk('python3', ['-c', `
import json, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect('${list[0]!.runtime_dir}/dpdk_telemetry.v2')
print(json.dumps(json.loads(s.recv(16384))))
s.send(b'/ffnet/info')
print(json.dumps(json.loads(s.recv(16384))))`], { timeoutMs: 10_000 });
    const [greeting, info] = hello.trim().split('\n').map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    expect(greeting).toMatchObject({ pid: primaryPid });
    expect(info!['/ffnet/info']).toMatchObject({ pid: primaryPid, proc_type: 'primary' });
  }, 120_000);
});
