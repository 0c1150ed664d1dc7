/**
 * `ffnet run`: unmodified node:dgram programs — an ES module (`import dgram from 'node:dgram'`) and a
 * CommonJS one (`require('dgram')`), neither naming ffnet — run on the stack. Each serves UDP echo on a
 * DPDK net_tap port (10.77.0.2/24, kernel interface ff0) in a namespace the test makes, and the kernel
 * there (10.77.0.1, node:dgram) exchanges datagrams with it: the replies come from 10.77.0.2, an
 * address no kernel interface has, so the program's socket was the stack's. Also: arguments after the
 * program are its own (options included), its exit code is ffnet run's, a SIGTERM sent to ffnet run
 * reaches the program (which then ends by it, its stack cleaned up, and so does ffnet run), and the
 * one-line usage errors (no program, no configuration). `ffnet ps` names the program, not node or ffnet/register.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Netns } from '../../testbed/netns.js';
import { REPO } from '../stack/child-stack.js';
import { IFACE, KERNEL_IP, STACK_IP, quietNamespace, uniquePrefix } from '../stack/kernel-peer.js';

const CLI = join(REPO, 'dist', 'tools', 'cli.js');
const PORT = 7007;

/** Echoes `count` datagrams, printing "listening" first; `--exit N` sets its exit code. Knows nothing of ffnet. */
const APP_MJS = `import dgram from 'node:dgram';
const args = process.argv.slice(2);
const count = Number(args[0]);
const exitCode = args[1] === '--exit' ? Number(args[2]) : 0;
const s = dgram.createSocket('udp4');
let n = 0;
s.on('message', (m, r) => s.send('echo:' + m, r.port, r.address, () => {
  if (++n === count) { s.close(); process.exitCode = exitCode; }
}));
s.bind(${PORT}, () => console.log('listening ' + JSON.stringify(args)));
`;

/** Echoes until it is killed. */
const APP_CJS = `const dgram = require('dgram');
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => s.send('echo:' + m, r.port, r.address));
s.bind(${PORT}, () => console.log('listening'));
`;

/** The kernel's side: sends `n` datagrams to the stack and prints each reply with its source. */
const KERNEL_CLIENT = `const dgram = require('node:dgram');
const c = dgram.createSocket('udp4');
const replies = [];
const t = setTimeout(() => { console.log(JSON.stringify(replies)); process.exit(1); }, 10000);
c.on('message', (m, r) => {
  replies.push({ from: r.address + ':' + r.port, text: String(m) });
  if (replies.length === N) { clearTimeout(t); console.log(JSON.stringify(replies)); c.close(); }
});
c.bind(0, '${KERNEL_IP}', () => { for (let i = 0; i < N; i++) c.send('d' + i, ${PORT}, '${STACK_IP}'); });
`;

let ns: Netns;
let dir: string;
let child: ChildProcess | undefined;

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FFNET_CONFIG;
  delete env.NODE_OPTIONS;
  return env;
}

/** Writes a net_tap stack's configuration with a fresh EAL file prefix; returns [path, prefix]. */
function tapConfig(label: string): [string, string] {
  const prefix = uniquePrefix(label);
  const path = join(dir, `${prefix}.ini`);
  writeFileSync(path, `[dpdk]\nlcore_mask = 0x1\nfile_prefix = ${prefix}\nvdev[] = net_tap0,iface=${IFACE}\n\n[port0]\naddr = ${STACK_IP}\nnetmask = 255.255.255.0\n`);
  return [path, prefix];
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `ffnet run ...args` in the namespace and waits until the program prints "listening". */
async function startRun(args: string[]): Promise<Started> {
  const c = ns.spawn(process.execPath, [CLI, 'run', ...args], { cwd: dir, env: cleanEnv() });
  child = c;
  let out = '';
  c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  c.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
  await ns.waitFor(async () => out.includes('listening') || c.exitCode !== null, 'the program to listen', 30_000);
  if (!out.includes('listening')) throw new Error(`ffnet run ended early:\n${out}`);
  // net_tap made ff0 when the stack started: the kernel's side gets its address.
  await ns.execOk('ip', ['addr', 'replace', `${KERNEL_IP}/24`, 'dev', IFACE]);
  await ns.execOk('ip', ['link', 'set', IFACE, 'up']);
  return { child: c, output: () => out, exited };
}

/** The kernel sends `n` datagrams to the program; resolves to the replies it got. */
async function kernelExchange(n: number): Promise<Array<{ from: string; text: string }>> {
  const r = await ns.exec(process.execPath, ['-e', `const N = ${n};\n${KERNEL_CLIENT}`], { timeoutMs: 20_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim()) as Array<{ from: string; text: string }>;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))]);

beforeAll(async () => {
  ns = await quietNamespace('run');
  dir = mkdtempSync(join(tmpdir(), 'ffnet-run-'));
  writeFileSync(join(dir, 'app.mjs'), APP_MJS);
  writeFileSync(join(dir, 'app.cjs'), APP_CJS);
});

/** A run left by a failed test: SIGTERM (ffnet run passes it on to the program), SIGKILL after 5 s. */
afterEach(async () => {
  const c = child;
  child = undefined;
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise((resolve) => c.once('exit', resolve));
  c.kill('SIGTERM');
  const killer = setTimeout(() => c.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(killer);
});

afterAll(async () => {
  await ns?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ffnet run', () => {
  it('runs an ES module importing node:dgram on the stack, with its arguments, and exits with its code', async () => {
    const [config, prefix] = tapConfig('run-esm');
    const run = await startRun(['--config', config, 'app.mjs', '3', '--exit', '7']);
    expect(run.output()).toContain('listening ["3","--exit","7"]');
    const replies = await kernelExchange(3);
    expect(replies).toEqual([0, 1, 2].map((i) => ({ from: `${STACK_IP}:${PORT}`, text: `echo:d${i}` })));
    const end = await withTimeout(run.exited, 15_000, 'ffnet run to exit');
    expect(end, run.output()).toEqual({ code: 7, signal: null });
    expect(existsSync(join('/var/run/dpdk', prefix))).toBe(false);
  });

  it('runs a CommonJS program requiring dgram on the stack; a SIGTERM to ffnet run ends the program and then ffnet run by it', async () => {
    const [config, prefix] = tapConfig('run-cjs');
    const run = await startRun(['-c', config, 'app.cjs']);
    const replies = await kernelExchange(2);
    expect(replies).toEqual([0, 1].map((i) => ({ from: `${STACK_IP}:${PORT}`, text: `echo:d${i}` })));
    // The program's command line is its own (ffnet/register comes through NODE_OPTIONS).
    const ps = spawnSync(process.execPath, [CLI, 'ps', '--json'], { env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
    expect(ps.status, ps.stderr).toBe(0);
    const entry = (JSON.parse(ps.stdout) as Array<{ file_prefix: string; program: string; argv: string[] }>).find((s) => s.file_prefix === prefix);
    expect(entry, ps.stdout).toMatchObject({ program: 'app.cjs', argv: [process.execPath, 'app.cjs'] });
    run.child.kill('SIGTERM');
    const end = await withTimeout(run.exited, 15_000, 'ffnet run to end on SIGTERM');
    expect(end, run.output()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(existsSync(join('/var/run/dpdk', prefix))).toBe(false);
  });

  it('usage errors are one line with exit 2', () => {
    const ffnet = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
    const none = ffnet('run');
    expect([none.status, none.stderr]).toEqual([2, 'ffnet run: no program given (ffnet run [--config FILE] app.js [args...])\n']);
    const noConfig = ffnet('run', 'app.mjs');
    expect([noConfig.status, noConfig.stderr])
      .toEqual([2, 'ffnet run: no configuration: give --config FILE, set FFNET_CONFIG or put an ffnet.ini here (see ffnet.example.ini)\n']);
    const bad = join(dir, 'bad.ini');
    writeFileSync(bad, '[dpdk]\nlcore_mask = lots\n');
    const badConfig = ffnet('run', '--config', bad, 'app.mjs');
    expect(badConfig.status).toBe(1);
    expect(badConfig.stderr).toMatch(/^ffnet run: .*lcore_mask.*\n$/);
  });
});
