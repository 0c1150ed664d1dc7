/**
 * `ffnet/register` runs unmodified node:dgram programs on ffnet: tiny apps started with
 * `node --import ffnet/register app.mjs` (import dgram from 'node:dgram', import { createSocket }
 * from 'dgram', import('dgram')) and `node --require ffnet/register app.cjs` (require('dgram'),
 * require('node:dgram')) must get ffnet's sockets (`'backend' in socket`) and do a loopback round
 * trip with them; so must a Worker thread, a child_process.fork() and a plain spawn of `node` from
 * such an app (the spawn inherits ffnet only through NODE_OPTIONS). Without the flag the same app
 * gets node:dgram. One run uses the dpdk backend (FFNET_CONFIG naming a loopback-only stack).
 *
 * How `ffnet/register` resolves: the apps live in a temporary directory whose node_modules/ffnet is
 * a symlink to this package, exactly as an installed dependency would be found; `--import` and
 * `--require` resolve from the working directory. (NODE_PATH is not used: ES module resolution,
 * and therefore `--import`, ignores it.) One run also starts from the package directory itself,
 * where the name resolves by self-reference through package.json "name" and "exports".
 *
 * Every app runs in a private network namespace with a bounded timeout (killed when exceeded).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { REPO, loopbackConfig, removeEalRuntime } from './scenarios.js';

const TIMEOUT_MS = 30_000;

/** Shared by every app: a round trip over 127.0.0.1 with sockets from `create`, then a report. */
const ROUND_TRIP = `
async function roundTrip(create) {
  const a = create('udp4');
  const b = create('udp4');
  const isFfnet = 'backend' in a && 'backend' in b;
  const backend = isFfnet ? String(a.backend?.kind ?? a.backend) : null;
  await new Promise((r) => a.bind(0, '127.0.0.1', r));
  a.on('message', (m, rinfo) => a.send(Buffer.concat([Buffer.from('echo:'), m]), rinfo.port, rinfo.address));
  const reply = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no reply within 5 s')), 5000);
    b.on('message', (m) => { clearTimeout(t); resolve(m.toString()); });
    b.send('ping', a.address().port, '127.0.0.1');
  });
  a.close();
  b.close();
  return { isFfnet, backend, reply };
}
`;

const APP_MJS = `
import dgram from 'node:dgram';
import { createSocket } from 'dgram';
import * as nsDgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
${ROUND_TRIP}
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const out = {};
out.defaultImport = await roundTrip((t) => dgram.createSocket(t));
out.namedImportBare = await roundTrip((t) => createSocket(t));
out.namespaceImport = await roundTrip((t) => nsDgram.createSocket(t));
const dyn = await import('dgram');
out.dynamicImport = await roundTrip((t) => (dyn.default ?? dyn).createSocket(t));
if (process.argv.includes('--children')) {
  out.worker = await new Promise((resolve) => {
    const w = new Worker(here('./worker.mjs'));
    const t = setTimeout(() => { w.terminate(); resolve({ error: 'worker timed out' }); }, 10000);
    w.once('message', (m) => { clearTimeout(t); resolve(m); });
    w.once('error', (e) => { clearTimeout(t); resolve({ error: String(e) }); });
  });
  out.fork = await new Promise((resolve) => {
    const c = fork(here('./child.cjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const t = setTimeout(() => { c.kill('SIGKILL'); resolve({ error: 'fork timed out' }); }, 10000);
    c.once('message', (m) => { clearTimeout(t); resolve(m); c.disconnect(); });
  });
  out.spawn = await new Promise((resolve) => {
    const c = spawn(process.execPath, [here('./child.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    c.stdout.on('data', (d) => (text += d));
    const t = setTimeout(() => { c.kill('SIGKILL'); resolve({ error: 'spawned child timed out' }); }, 10000);
    c.once('close', () => {
      clearTimeout(t);
      const line = text.split('\\n').find((l) => l.startsWith('RESULT '));
      resolve(line ? JSON.parse(line.slice(7)) : { error: 'no result', text });
    });
  });
  out.nodeOptionsMentionsRegister = /register/.test(process.env.NODE_OPTIONS ?? '');
}
console.log('RESULT ' + JSON.stringify(out));
`;

const APP_CJS = `
${ROUND_TRIP}
(async () => {
  const out = {};
  out.requireBare = await roundTrip((t) => require('dgram').createSocket(t));
  out.requireNode = await roundTrip((t) => require('node:dgram').createSocket(t));
  out.sameModule = require('dgram') === require('node:dgram');
  console.log('RESULT ' + JSON.stringify(out));
})().catch((e) => { console.log('RESULT ' + JSON.stringify({ error: String(e && e.stack || e) })); process.exitCode = 1; });
`;

const WORKER_MJS = `
import { parentPort } from 'node:worker_threads';
import dgram from 'node:dgram';
${ROUND_TRIP}
parentPort.postMessage(await roundTrip((t) => dgram.createSocket(t)));
`;

const CHILD_CJS = `
${ROUND_TRIP}
roundTrip((t) => require('node:dgram').createSocket(t)).then((r) => process.send(r), (e) => process.send({ error: String(e) }));
`;

const CHILD_MJS = `
import dgram from 'node:dgram';
${ROUND_TRIP}
console.log('RESULT ' + JSON.stringify(await roundTrip((t) => dgram.createSocket(t))));
`;

let dir: string;
let ns: Netns;

interface AppRun {
  code: number | null;
  result: Record<string, unknown> | undefined;
  stderr: string;
  stdout: string;
}

/** Runs `node <args>` in the namespace from `cwd`, bounded; parses the RESULT line. */
async function runApp(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<AppRun> {
  // The app starts without the suite's NODE_OPTIONS/FFNET_CONFIG, with opts.env on top, in `cwd`.
  const envArgs = ['-u', 'NODE_OPTIONS', '-u', 'FFNET_CONFIG', ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  const r = await ns.exec('env', ['-C', opts.cwd ?? dir, ...envArgs, process.execPath, ...args], { timeoutMs: TIMEOUT_MS });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  return { code: r.code, result: line ? (JSON.parse(line.slice(7)) as Record<string, unknown>) : undefined, stderr: r.stderr, stdout: r.stdout };
}

function explain(r: AppRun): string {
  return `exit ${r.code}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`;
}

const ffnetKernel = { isFfnet: true, backend: 'kernel', reply: 'echo:ping' };
const ffnetDpdk = { isFfnet: true, backend: 'dpdk', reply: 'echo:ping' };
const plainNode = { isFfnet: false, backend: null, reply: 'echo:ping' };

describe('ffnet/register', () => {
  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create('dgram-register');
    dir = mkdtempSync(join(tmpdir(), 'ffnet-register-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(REPO, join(dir, 'node_modules', 'ffnet'), 'dir');
    writeFileSync(join(dir, 'app.mjs'), APP_MJS);
    writeFileSync(join(dir, 'app.cjs'), APP_CJS);
    writeFileSync(join(dir, 'worker.mjs'), WORKER_MJS);
    writeFileSync(join(dir, 'child.cjs'), CHILD_CJS);
    writeFileSync(join(dir, 'child.mjs'), CHILD_MJS);
  });

  afterAll(async () => {
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('without the flag, the apps get node:dgram (the control)', async () => {
    const esm = await runApp(['app.mjs']);
    expect(esm.result, explain(esm)).toEqual({ defaultImport: plainNode, namedImportBare: plainNode, namespaceImport: plainNode, dynamicImport: plainNode });
    const cjs = await runApp(['app.cjs']);
    expect(cjs.result, explain(cjs)).toEqual({ requireBare: plainNode, requireNode: plainNode, sameModule: true });
  });

  it('node --import ffnet/register app.mjs: node:dgram and dgram imports give ffnet/dgram', async () => {
    const r = await runApp(['--import', 'ffnet/register', 'app.mjs']);
    expect(r.result, explain(r)).toEqual({ defaultImport: ffnetKernel, namedImportBare: ffnetKernel, namespaceImport: ffnetKernel, dynamicImport: ffnetKernel });
  });

  it('node --require ffnet/register app.cjs: require(\'dgram\') and require(\'node:dgram\') give ffnet/dgram', async () => {
    const r = await runApp(['--require', 'ffnet/register', 'app.cjs']);
    expect(r.result, explain(r)).toEqual({ requireBare: ffnetKernel, requireNode: ffnetKernel, sameModule: true });
  });

  it('node --require ffnet/register app.mjs: the ES module imports are redirected too', async () => {
    const r = await runApp(['--require', 'ffnet/register', 'app.mjs']);
    expect(r.result, explain(r)).toEqual({ defaultImport: ffnetKernel, namedImportBare: ffnetKernel, namespaceImport: ffnetKernel, dynamicImport: ffnetKernel });
  });

  it('a Worker thread, a fork() and a spawned node (NODE_OPTIONS only) inherit it', async () => {
    const r = await runApp(['--import', 'ffnet/register', 'app.mjs', '--children']);
    expect(r.result, explain(r)).toMatchObject({ worker: ffnetKernel, fork: ffnetKernel, spawn: ffnetKernel, nodeOptionsMentionsRegister: true });
  });

  it('children inherit it from an app started with --require too', async () => {
    const r = await runApp(['--require', 'ffnet/register', 'app.mjs', '--children']);
    expect(r.result, explain(r)).toMatchObject({ worker: ffnetKernel, fork: ffnetKernel, spawn: ffnetKernel });
  });

  it('resolves by self-reference when started from the package directory', async () => {
    const r = await runApp(['--import', 'ffnet/register', join(dir, 'app.mjs')], { cwd: REPO });
    expect(r.result, explain(r)).toMatchObject({ defaultImport: ffnetKernel, namedImportBare: ffnetKernel });
  });

  it('with FFNET_CONFIG the redirected sockets run on the dpdk backend (loopback-only stack)', async () => {
    const cfg = loopbackConfig(dir, 'register');
    const r = await runApp(['--import', 'ffnet/register', 'app.mjs'], { env: { FFNET_CONFIG: cfg } });
    removeEalRuntime(cfg);
    expect(r.result, explain(r)).toEqual({ defaultImport: ffnetDpdk, namedImportBare: ffnetDpdk, namespaceImport: ffnetDpdk, dynamicImport: ffnetDpdk });
    const cfgCjs = loopbackConfig(dir, 'register-cjs');
    const c = await runApp(['--require', 'ffnet/register', 'app.cjs'], { env: { FFNET_CONFIG: cfgCjs } });
    removeEalRuntime(cfgCjs);
    expect(c.result, explain(c)).toEqual({ requireBare: ffnetDpdk, requireNode: ffnetDpdk, sameModule: true });
  });
});
