/**
 * ffnet without its native addon (an install where libdpdk-dev was missing): ffnet/dgram, ffnet/posix
 * and ffnet itself still load; with FFNET_CONFIG naming a stack, ffnet/dgram's sockets run on the
 * kernel backend and one process warning (FFNET_NO_ADDON) says why, however many sockets are made;
 * with no configuration there is no warning; what needs the stack (Stack.start, ff_socket) throws
 * ERR_FFNET_NO_ADDON with the reason. FFNET_ADDON_PATH naming a missing file stands for the missing
 * addon (it is the only place looked at when set); naming a file that is no shared object, for an
 * addon that no longer loads (DPDK's libraries gone since the build). Each program runs in a child
 * Node, over 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../stack/child-stack.js';

const dir = mkdtempSync(join(tmpdir(), 'ffnet-no-addon-'));
const missing = join(dir, 'not-built', 'ffnet.node');
const dist = (p: string): string => pathToFileURL(join(REPO, 'dist', p)).href;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an ES module program without the addon; returns its exit code, stdout and stderr. */
function run(source: string, env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const file = join(dir, `app-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FFNET_ADDON_PATH: missing, ...env };
  delete childEnv.NODE_OPTIONS;
  if (!env.FFNET_CONFIG) delete childEnv.FFNET_CONFIG;
  const r = spawnSync(process.execPath, [file], { env: childEnv, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ROUND_TRIPS = `
import dgram from '${dist('shim/dgram.js')}';
const kinds = [];
for (let i = 0; i < 3; i++) {
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  await new Promise((r) => a.bind(0, '127.0.0.1', r));
  const got = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no datagram within 5 s')), 5000);
    a.once('message', (m) => { clearTimeout(t); resolve(String(m)); });
    b.send('hello ' + i, a.address().port, '127.0.0.1');
  });
  kinds.push([a.backend, got]);
  a.close();
  b.close();
}
console.log(JSON.stringify(kinds));
`;

describe('without the native addon', () => {
  it('ffnet/dgram asked for a stack by FFNET_CONFIG runs on the kernel and warns once, saying why', () => {
    const config = join(dir, 'stack.ini');
    writeFileSync(config, '[dpdk]\nfile_prefix = ffnet-no-addon\n');
    const r = run(ROUND_TRIPS, { FFNET_CONFIG: config });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([['kernel', 'hello 0'], ['kernel', 'hello 1'], ['kernel', 'hello 2']]);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('FFNET_NO_ADDON'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`FFNET_CONFIG names a stack, but the native addon is not built: ${missing} does not exist`);
    expect(warnings[0]).toContain("ffnet/dgram uses the kernel's node:dgram");
  });

  it('ffnet/dgram with no configuration runs on the kernel without a warning', () => {
    const r = run(ROUND_TRIPS);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(3);
    expect(r.stderr).not.toContain('FFNET_NO_ADDON');
  });

  it('an addon that does not load (not a shared object here) is reported as such, and the kernel serves', () => {
    const broken = join(dir, 'broken.node');
    writeFileSync(broken, 'not an ELF file\n');
    const config = join(dir, 'stack.ini');
    writeFileSync(config, '[dpdk]\nfile_prefix = ffnet-no-addon\n');
    const asked = run(ROUND_TRIPS, { FFNET_ADDON_PATH: broken, FFNET_CONFIG: config });
    expect(asked.code, asked.stderr).toBe(0);
    expect(JSON.parse(asked.stdout).map((k: string[]) => k[0])).toEqual(['kernel', 'kernel', 'kernel']);
    const warnings = asked.stderr.split('\n').filter((l) => l.includes('FFNET_NO_ADDON'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`FFNET_CONFIG names a stack, but the native addon does not load: ${broken}: `);
    expect(warnings[0]).toContain("(npm rebuild ffnet builds it against the DPDK installed now); ffnet/dgram uses the kernel's node:dgram");
    const plain = run(ROUND_TRIPS, { FFNET_ADDON_PATH: broken });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toBe('');
  });

  it('Stack.start and ff_socket throw ERR_FFNET_NO_ADDON naming what is missing', () => {
    const r = run(`
import { Stack } from '${dist('index.js')}';
import { ff_socket, constants } from '${dist('posix/index.js')}';
const out = {};
try { await Stack.start({ config: { dpdk: {} } }); } catch (e) { out.start = [e.code, e.message]; }
try { ff_socket(2, 2, 0); } catch (e) { out.socket = [e.code, e.message]; }
out.constants = Object.keys(constants).length;
console.log(JSON.stringify(out));
`);
    expect(r.code, r.stderr).toBe(0);
    const why = `ffnet: the native addon is not built: ${missing} does not exist (npm rebuild ffnet; in a checkout of ffnet, npm run build)`;
    expect(JSON.parse(r.stdout)).toEqual({ start: ['ERR_FFNET_NO_ADDON', why], socket: ['ERR_FFNET_NO_ADDON', why], constants: 0 });
  });
});
