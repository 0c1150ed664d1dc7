/**
 * The multi-process stack of the cluster suites (test/stack/cluster.test.ts and the tools' own,
 * test/tools/cluster.test.ts): fixtures/cluster-app.mjs, a node:cluster primary whose workers are
 * DPDK secondaries on a 2-queue net_tap (proc_type auto, nb_procs 2), in a namespace of its own with
 * the kernel side of the tap up at 10.77.0.1/24, driven by JSON commands on its stdin ("@ " lines
 * answer). It runs on 2 MiB hugepages reserved for it (testbed/hugepages.ts): DPDK secondaries cannot
 * map --no-huge memory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { Hugepages } from '../../testbed/hugepages.js';
import { stopChild, type Netns } from '../../testbed/netns.js';
import { REPO } from '../shim/scenarios.js';
import { IFACE, KERNEL_IP, NETMASK, STACK_IP, quietNamespace } from './kernel-peer.js';

/** The running cluster; its fields are set once the suite's beforeAll has run. */
export interface Cluster {
  ns: Netns;
  /** The primary's pid. */
  primaryPid: number;
  /** The EAL file prefix every process of the cluster shares (the primary's default, ffnet-<pid>). */
  prefix: string;
  /** The temporary directory of its ffnet.ini, removed with the cluster. */
  dir: string;
  /** The hugetlbfs mount of its reserved pages. */
  hugeDir: string;
  /** What the primary and its workers printed so far. */
  output(): string;
  /** Sends a command to the primary and waits (bounded) for its answer; its "error" rejects. */
  call<T = Record<string, unknown>>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
}

/**
 * Declares the cluster for the tests of the file (or describe block) it is called in: `pages`
 * hugepages reserved and the primary started in namespace `label` before them; all of it removed
 * after them.
 */
export function clusterSuite(label: string, pages = 64): Cluster {
  let huge: Hugepages | undefined;
  let app: ChildProcess | undefined;
  let output = '';
  const answers = new Map<number, (v: Record<string, unknown>) => void>();
  let nextId = 1;

  const cluster: Cluster = {
    ns: undefined as unknown as Netns,
    primaryPid: 0,
    prefix: '',
    dir: '',
    hugeDir: '',
    output: () => output,
    call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${cmd}: no answer in ${timeoutMs} ms; output:\n${output.slice(-4000)}`)), timeoutMs);
        answers.set(id, (v) => {
          clearTimeout(timer);
          if (typeof v.error === 'string') reject(new Error(`${cmd}: ${v.error}\noutput:\n${output.slice(-4000)}`));
          else resolve(v as T);
        });
        app?.stdin?.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
      });
    },
  };

  beforeAll(async () => {
    huge = Hugepages.reserve(pages);
    cluster.hugeDir = huge.dir;
    const ns = (cluster.ns = await quietNamespace(label));
    const dir = (cluster.dir = mkdtempSync(join(tmpdir(), `ffnet-${label}-`)));
    const config = join(dir, 'ffnet.ini');
    // No file_prefix: the primary's default names its pid, and a worker's default its parent's (the primary).
    writeFileSync(config, [
      '[dpdk]', 'no_huge = false', `huge_dir = ${huge.dir}`, 'memory = 64', 'nb_mbuf = 4095',
      'proc_type = auto', 'nb_procs = 2', `vdev[] = net_tap0,iface=${IFACE}`, 'log_level = warning',
      '[port0]', `addr = ${STACK_IP}`, `netmask = ${NETMASK}`, '',
    ].join('\n'));
    const child = (app = ns.spawn(process.execPath, [join(REPO, 'test/stack/fixtures/cluster-app.mjs')], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, FFNET_CONFIG: config, FFNET_DIST: pathToFileURL(join(REPO, 'dist')).href },
    }));
    let ready: () => void = () => {};
    const started = new Promise<void>((resolve) => (ready = resolve));
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      partial += chunk;
      for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        if (!line.startsWith('@ ')) continue;
        const msg = JSON.parse(line.slice(2)) as Record<string, unknown>;
        if (msg.ready) {
          cluster.primaryPid = msg.pid as number;
          cluster.prefix = `ffnet-${cluster.primaryPid}`;
          ready();
        } else answers.get(msg.id as number)?.(msg);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<never>((_, reject) => child.on('exit', (code, signal) =>
      reject(new Error(`the cluster primary exited (${code ?? signal}):\n${output.slice(-4000)}`))));
    await Promise.race([started, exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`no start in 30 s:\n${output}`)), 30_000))]);
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', IFACE]);
    await ns.execOk('ip', ['link', 'set', IFACE, 'up']);
  }, 60_000);

  afterAll(async () => {
    if (app) {
      app.stdin?.end();
      await stopChild(app, 5_000);
    }
    await cluster.ns?.destroy();
    if (cluster.prefix) rmSync(join('/var/run/dpdk', cluster.prefix), { recursive: true, force: true });
    if (cluster.dir) rmSync(cluster.dir, { recursive: true, force: true });
    huge?.release();
  }, 30_000);

  return cluster;
}
