/**
 * ffnet installed the way users install it: `npm pack` of this repository, then `npm install` of the
 * tarball into fresh projects (npm's cache serves the dependencies; the registry is reachable).
 * - The tarball holds the compiled JS with its types, the C/C++ sources and CMakeLists.txt the addon
 *   build needs, the install script, LICENSE and README, and no tests, benchmarks, fuzzers, test bench,
 *   TypeScript sources or source maps.
 * - Where libdpdk-dev is present the install builds the addon (once, for the whole file): there a
 *   program importing ffnet/dgram runs on the kernel backend with no configuration and on the dpdk
 *   backend with FFNET_CONFIG (a loopback-only stack: no interface, traffic over 127.0.0.1), `npx
 *   ffnet --help` works, and `npx ffnet ps` lists the dpdk program while it runs.
 * - Where pkg-config finds no libdpdk (PKG_CONFIG_LIBDIR pointing at an empty directory) the install
 *   succeeds and says why in one line; the same program asked for a stack runs on the kernel and warns
 *   once with that reason; `npx ffnet run` refuses with it.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../stack/child-stack.js';
import { uniquePrefix } from '../stack/kernel-peer.js';

const INSTALL_TIMEOUT_MS = 600_000;

/** A round trip over 127.0.0.1 through ffnet/dgram; with --stay the sockets stay open until SIGTERM. */
const APP = `import dgram from 'ffnet/dgram';
const a = dgram.createSocket('udp4');
const b = dgram.createSocket('udp4');
a.bind(0, '127.0.0.1', () => {
  a.on('message', (m, r) => a.send('echo:' + m, r.port, r.address));
  const t = setTimeout(() => { console.log('no reply'); process.exit(1); }, 5000);
  b.once('message', (m) => {
    clearTimeout(t);
    console.log(JSON.stringify({ backend: a.backend, reply: String(m), pid: process.pid }));
    if (!process.argv.includes('--stay')) { a.close(); b.close(); }
  });
  b.send('hi', a.address().port, '127.0.0.1');
});
`;

let work: string;
let tarball: string;
let files: string[];
/** A project whose install built the addon, and one installed where pkg-config found no libdpdk. */
let withDpdk: { dir: string; install: SpawnSyncReturns<string> };
let withoutDpdk: { dir: string; install: SpawnSyncReturns<string> };

/** The environment without npm's lifecycle variables (this suite may run under `npm test`). */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'FFNET_CONFIG' && k !== 'NODE_OPTIONS') e[k] = v;
  return { ...e, ...extra };
}

function sh(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}, timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: env(extra), encoding: 'utf8', timeout });
}

/** A fresh project with `tarball` installed (install scripts in the foreground, so their line shows). */
function project(name: string, extra: Record<string, string> = {}): { dir: string; install: SpawnSyncReturns<string> } {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  writeFileSync(join(dir, 'app.mjs'), APP);
  const install = sh('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', tarball], dir, extra, INSTALL_TIMEOUT_MS);
  return { dir, install };
}

function loopbackConfig(dir: string): { path: string; prefix: string } {
  const prefix = uniquePrefix('pkg');
  const path = join(dir, `${prefix}.ini`);
  writeFileSync(path, `[dpdk]\nlcore_mask = 0x1\nfile_prefix = ${prefix}\n`);
  return { path, prefix };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ffnet-package-'));
  const pack = sh('npm', ['pack', '--json', '--pack-destination', work], REPO, {}, 300_000);
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(work, info!.filename);
  files = info!.files.map((f) => f.path);
  withDpdk = project('with-dpdk');
  const empty = join(work, 'no-pkgconfig');
  mkdirSync(empty);
  withoutDpdk = project('without-dpdk', { PKG_CONFIG_LIBDIR: empty });
}, INSTALL_TIMEOUT_MS * 2);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('packs what users need and nothing else', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CMakeLists.txt', 'scripts/install.mjs', 'dist/index.js', 'dist/index.d.ts',
      'dist/shim/dgram.js', 'dist/shim/dgram.d.ts', 'dist/shim/register.js', 'dist/tools/cli.js', 'dist/posix/index.js',
      'dist/transport/index.js', 'native/addon.cc', 'posix/ff_api.h', 'stack/stack.c', 'stack/ctl/ctl.h']) {
      expect(files, f).toContain(f);
    }
    // The README's links into docs/ resolve in the package (npm shows the README as the package's page).
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(5);
    expect(linked.filter((l) => !files.includes(l))).toEqual([]);
    const unwanted = files.filter((f) => /^(test|bench|fuzz|testbed|demo|build|dist\/(test|bench|testbed|demo))\//.test(f)
      || /\.map$/.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) || f.startsWith('posix/examples/'));
    expect(unwanted).toEqual([]);
  });
});

describe('installed where libdpdk-dev is present', () => {
  it('builds the native addon at install', () => {
    expect(withDpdk.install.status, withDpdk.install.stdout + withDpdk.install.stderr).toBe(0);
    expect(withDpdk.install.stdout).toMatch(/^ffnet: the native addon is built against libdpdk \d+\.\d+[.\d]* \(build\/Release\/ffnet\.node\)$/m);
  });

  it('runs a dgram program on the kernel backend with no configuration', () => {
    const r = sh(process.execPath, ['app.mjs'], withDpdk.dir);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'kernel', reply: 'echo:hi' });
    expect(r.stderr).toBe('');
  });

  it('runs it on the dpdk backend with FFNET_CONFIG; npx ffnet --help works and npx ffnet ps lists it while it runs', async () => {
    const help = sh('npx', ['--no-install', 'ffnet', '--help'], withDpdk.dir);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: ffnet /);
    for (const name of ['ps', 'run', 'migrate']) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));

    const { path, prefix } = loopbackConfig(withDpdk.dir);
    const app = spawn(process.execPath, ['app.mjs', '--stay'], { cwd: withDpdk.dir, env: env({ FFNET_CONFIG: path }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    app.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    app.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => app.once('exit', (c, s) => resolve([c, s])));
    const killer = setTimeout(() => app.kill('SIGKILL'), 60_000);
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes('\n') && app.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(JSON.parse(out.split('\n')[0]!), err).toEqual({ backend: 'dpdk', reply: 'echo:hi', pid: app.pid });

      const ps = sh('npx', ['--no-install', 'ffnet', 'ps', '--json'], withDpdk.dir);
      expect(ps.status, ps.stderr).toBe(0);
      const mine = (JSON.parse(ps.stdout) as Array<{ pid: number; file_prefix: string }>).find((s) => s.pid === app.pid);
      expect(mine, ps.stdout).toMatchObject({ pid: app.pid, file_prefix: prefix });
      const table = sh('npx', ['--no-install', 'ffnet', 'ps'], withDpdk.dir);
      expect(table.stdout).toMatch(new RegExp(`^\\s*${app.pid}\\s.*${prefix}\\s*$`, 'm'));
    } finally {
      app.kill('SIGTERM');
      expect(await ended).toEqual([null, 'SIGTERM']);
      clearTimeout(killer);
    }
  });
});

describe('installed where libdpdk-dev is missing', () => {
  const why = 'libdpdk-dev was not found when ffnet was installed (apt-get install libdpdk-dev, then npm rebuild ffnet)';

  it('the install succeeds and says why in one line', () => {
    expect(withoutDpdk.install.status, withoutDpdk.install.stdout + withoutDpdk.install.stderr).toBe(0);
    const lines = withoutDpdk.install.stdout.split('\n').filter((l) => l.startsWith('ffnet:'));
    expect(lines).toEqual([`ffnet: the native addon is not built: ${why}; ffnet/dgram uses the kernel's node:dgram`]);
    expect(JSON.parse(readFileSync(join(withoutDpdk.dir, 'node_modules/ffnet/build/ffnet-native.json'), 'utf8'))).toEqual({ built: false, reason: why });
  });

  it('a program asked for a stack runs on the kernel and warns once with the reason', () => {
    const { path } = loopbackConfig(withoutDpdk.dir);
    const r = sh(process.execPath, ['app.mjs'], withoutDpdk.dir, { FFNET_CONFIG: path });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'kernel', reply: 'echo:hi' });
    const warnings = r.stderr.split('\n').filter((l) => l.includes('FFNET_NO_ADDON'));
    expect(warnings).toEqual([expect.stringContaining(`FFNET_CONFIG names a stack, but the native addon is not built: ${why}; ffnet/dgram uses the kernel's node:dgram`)]);
  });

  it('npx ffnet run says what is missing', () => {
    const { path } = loopbackConfig(withoutDpdk.dir);
    const r = sh('npx', ['--no-install', 'ffnet', 'run', '--config', path, 'app.mjs'], withoutDpdk.dir);
    expect([r.status, r.stderr]).toEqual([1, `ffnet run: the native addon is not built: ${why}\n`]);
  });
});
