/**
 * The bench's kernel-side plumbing without a stack: a private namespace with a veth pair, frames
 * built by frames.ts sent by inject-frame on one end and captured by tcpdump on the other, compared
 * byte for byte; inject-frame's error reporting; Netns's timeouts, cleanup and exit hook.
 *
 * Needs root, iproute2, tcpdump and build/bin/inject-frame (or FFNET_INJECT_FRAME).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { echoRequestFrame, malformedFrames, readPcap, toHex, udpFrame, pattern } from '../../testbed/frames.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const injectPath = process.env.FFNET_INJECT_FRAME ?? join(repo, 'build/bin/inject-frame');
const A_MAC = '02:00:00:00:00:01';
const B_MAC = '02:00:00:00:00:02';
const ends = { srcMac: A_MAC, dstMac: B_MAC, srcIp: '10.77.0.1', dstIp: '10.77.0.2' };

function namespacesNamed(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

describe('Netns and inject-frame over a veth pair', () => {
  let ns: Netns;
  let dir: string;

  beforeAll(async () => {
    requireRoot();
    if (!existsSync(injectPath)) {
      throw new Error(`${injectPath} not found: build it (npm run build, or cmake --build <dir> --target inject-frame) or set FFNET_INJECT_FRAME`);
    }
    dir = mkdtempSync(join(tmpdir(), 'ffnet-tb-'));
    ns = await Netns.create('inject');
    // No IPv6 in the namespace, so the kernel sends nothing of its own (router solicitations, MLD).
    await ns.execOk('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
    await ns.execOk('ip', ['link', 'add', 'veth-a', 'type', 'veth', 'peer', 'name', 'veth-b']);
    await ns.execOk('ip', ['link', 'set', 'veth-a', 'address', A_MAC, 'up']);
    await ns.execOk('ip', ['link', 'set', 'veth-b', 'address', B_MAC, 'up']);
    await ns.waitFor(
      async () => (await ns.execOk('ip', ['-br', 'link', 'show', 'veth-b'])).includes('UP'),
      'veth-b to come up',
      5_000,
    );
  });

  afterAll(async () => {
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Captures `count` frames on veth-b while `send` runs; resolves to the frames. */
  async function capture(count: number, send: () => Promise<void>): Promise<Buffer[]> {
    const file = join(dir, `cap-${Date.now()}.pcap`);
    const tcpdump = ns.spawn('tcpdump', ['-Z', 'root', '-U', '-n', '-i', 'veth-b', '-c', String(count), '-w', file]);
    let stderr = '';
    tcpdump.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((res) => tcpdump.once('exit', () => res()));
    await ns.waitFor(async () => stderr.includes('listening on'), 'tcpdump to listen', 10_000);
    await send();
    const timer = setTimeout(() => tcpdump.kill('SIGINT'), 5_000);
    await exited;
    clearTimeout(timer);
    return readPcap(readFileSync(file));
  }

  it('delivers frames given as arguments byte for byte', async () => {
    const frames = [echoRequestFrame(ends, 0x1234, 1, pattern(56)), udpFrame(ends, 40000, 7, Buffer.from('ffnet'))];
    const got = await capture(frames.length, async () => {
      const r = await ns.exec(injectPath, ['veth-a', ...frames.map(toHex)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('sent 2 frame(s) on veth-a');
    });
    expect(got.map(toHex)).toEqual(frames.map(toHex));
  });

  it('delivers the kernel-injectable malformed frames unchanged, from stdin', async () => {
    const frames = malformedFrames(B_MAC, '10.77.0.2', A_MAC, '10.77.0.1')
      .filter((m) => m.kernelInjectable)
      .map((m) => m.frame);
    const input = `# malformed catalogue\n\n${frames.map(toHex).join('\n')}\n`;
    const got = await capture(frames.length, async () => {
      const r = await ns.exec(injectPath, ['veth-a', '-'], { input });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
    expect(got.map(toHex)).toEqual(frames.map(toHex));
  });

  it('reports errors clearly and exits non-zero', async () => {
    const noIf = await ns.exec(injectPath, ['veth-nope', 'ffffffffffff']);
    expect(noIf.code).toBe(1);
    expect(noIf.stderr).toMatch(/no such interface 'veth-nope'/);

    const badHex = await ns.exec(injectPath, ['veth-a', '0102zz']);
    expect(badHex.code).toBe(2);
    expect(badHex.stderr).toMatch(/bad hex character 'z'/);

    const odd = await ns.exec(injectPath, ['veth-a', '-'], { input: '010\n' });
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/stdin line 1: odd number of hex digits/);

    const runt = await ns.exec(injectPath, ['veth-a', toHex(Buffer.alloc(10, 0xaa))]);
    expect(runt.code).toBe(1);
    expect(runt.stderr).toMatch(/shorter than the 14-byte Ethernet header/);

    const usage = await ns.exec(injectPath, ['veth-a']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage/);
  });

  it('bounds exec with a timeout and waitFor with a clear message', async () => {
    const t0 = Date.now();
    const r = await ns.exec('sleep', ['30'], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBeNull();
    expect(Date.now() - t0).toBeLessThan(5_000);
    await expect(ns.waitFor(async () => false, 'something that never happens', 200)).rejects.toThrow(
      /timed out after 200 ms waiting for something that never happens/,
    );
  });
});

describe('Netns lifecycle', () => {
  beforeAll(() => requireRoot());

  it('isolates, kills its children and deletes itself on destroy (idempotent)', async () => {
    const ns = await Netns.create('life');
    expect(namespacesNamed(ns.name)).toEqual([ns.name]);
    const links = await ns.execOk('ip', ['-br', 'link']);
    expect(links.trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['lo']);
    const child = ns.spawn('sleep', ['60']);
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    await Promise.all([ns.destroy(), ns.destroy()]);
    await exited;
    expect(namespacesNamed(ns.name)).toEqual([]);
    await ns.destroy();
    await expect(ns.exec('true')).rejects.toThrow(/destroyed/);
  });

  it('rejects labels that are not plain names', async () => {
    await expect(Netns.create('bad label')).rejects.toThrow(TypeError);
  });

  const compiled = join(repo, 'dist/testbed/netns.js');
  it.skipIf(!existsSync(compiled))('deletes namespaces a crashed process left behind', () => {
    const script = `
      const { Netns } = await import(${JSON.stringify(compiled)});
      const ns = await Netns.create('crash');
      ns.spawn('sleep', ['60']);
      console.log(ns.name);
      setTimeout(() => { throw new Error('simulated crash'); }, 50);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    const name = r.stdout.trim();
    expect(name).toMatch(/^ffnet-crash-\d+-0$/);
    expect(r.status).not.toBe(0);
    expect(namespacesNamed(name)).toEqual([]);
  });
});
