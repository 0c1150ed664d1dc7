/**
 * Reaching stacks: with none running the tools say so; another user is refused at once with
 * "permission denied"; a stack killed with SIGKILL leaves a socket `ffnet ps` skips; a stack whose
 * JavaScript thread is blocked still answers (the control server has threads of its own); and the
 * tools work on a C program built on ff_init (the udp_echo example).
 */
import { statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns } from '../../testbed/netns.js';
import { quietNamespace } from '../stack/kernel-peer.js';
import { cli, cliJson, kernelSend, kernelSide, startNodeApp, startUdpEcho, waitForStack, type StackProgram } from './harness.js';

interface Stats { counters: Record<string, number> }

describe('ffnet reaching stacks', () => {
  let ns: Netns;

  beforeAll(async () => {
    ns = await quietNamespace('tools-access');
  });

  afterAll(async () => {
    await ns?.destroy();
  });

  it('with no stack running, every command says so in one line and exits 1', async () => {
    for (const args of [['ps'], ['netstat', '-s'], ['sysctl', '-a'], ['top', '-n', '1']]) {
      const r = await cli(ns, args, { noStacks: true });
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr })
        .toEqual({ args, code: 1, stdout: '', stderr: `ffnet ${args[0]}: no ffnet stack is running (looked in /var/run/dpdk)\n` });
    }
  });

  describe('a Node stack', () => {
    let app: StackProgram;

    beforeAll(async () => {
      app = startNodeApp(ns, 'tools-access', 9400);
      await app.waitForLine(/ready/);
      await kernelSide(ns);
      await waitForStack(ns, app.pid);
    }, 60_000);

    afterAll(async () => {
      await app?.stop();
    });

    it('refuses another user with "permission denied", at once', async () => {
      const info = await cliJson<Array<{ pid: number; runtime_dir: string }>>(ns, ['-p', String(app.pid), 'ps']);
      const sock = join(info[0]!.runtime_dir, `ffnet.${app.pid}.sock`);
      expect(statSync(sock).mode & 0o777).toBe(0o600);
      expect(statSync(info[0]!.runtime_dir).mode & 0o777).toBe(0o700);
      for (const args of [['ps'], ['-p', String(app.pid), 'netstat', '-s'], ['sysctl', '-a']]) {
        const r = await cli(ns, args, { asNobody: true, timeoutMs: 10_000 });
        expect({ args, code: r.code, timedOut: r.timedOut, stdout: r.stdout }).toEqual({ args, code: 1, timedOut: false, stdout: '' });
        expect(r.stderr).toMatch(/^ffnet \w+: permission denied: \/var\/run\/dpdk\S* belongs to uid 0 \(run as that user or root\)\n$/);
        expect(r.ms).toBeLessThan(5_000);
      }
    });

    it('answers netstat -s and sysctl while its JavaScript thread is blocked', async () => {
      const p = ['-p', String(app.pid)];
      app.send('block 6000');
      await app.waitForLine(/blocking/);
      const t0 = Date.now();
      const stats = await cli(ns, [...p, 'netstat', '-s', '--json']);
      const read = await cli(ns, [...p, 'sysctl', 'net.inet.ip.ttl']);
      const write = await cli(ns, [...p, 'sysctl', '-w', 'net.link.ether.inet.maxhold=20']);
      const elapsed = Date.now() - t0;
      // All three answered while the thread was still blocked (it unblocks 6 s after "blocking").
      expect(app.stdout()).not.toMatch(/unblocked/);
      expect(elapsed).toBeLessThan(5_500);
      expect(stats.code).toBe(0);
      expect((JSON.parse(stats.stdout) as Stats).counters['loop.turns']).toBeGreaterThan(0);
      expect(read).toMatchObject({ code: 0, stdout: 'net.inet.ip.ttl: 64\n' });
      expect(write).toMatchObject({ code: 0, stdout: 'net.link.ether.inet.maxhold: 0 -> 20\n' });
      await app.waitForLine(/unblocked/, 15_000);
      expect((await cli(ns, [...p, 'sysctl', 'net.link.ether.inet.maxhold'])).stdout).toBe('net.link.ether.inet.maxhold: 20\n');
    }, 30_000);
  });

  it('works on a C program on ff_init, and skips its socket once it was killed with SIGKILL', async () => {
    const echo = startUdpEcho(ns, 'tools-access-c');
    try {
      await waitForStack(ns, echo.pid);
      await kernelSide(ns).catch(() => undefined); // ff0 is new: the Node stack's went with it
      const p = ['-p', String(echo.pid)];
      const [info] = await cliJson<Array<{ pid: number; program: string; runtime_dir: string }>>(ns, [...p, 'ps']);
      expect(info).toMatchObject({ pid: echo.pid, program: 'udp_echo' });
      expect((await cli(ns, ['-p', 'udp_echo', 'sysctl', 'net.inet.ip.ttl'])).stdout).toBe('net.inet.ip.ttl: 64\n');
      const before = await cliJson<Stats>(ns, [...p, 'netstat', '-s']);
      await kernelSend(ns, 7, 5);
      await ns.waitFor(async () => (await cliJson<Stats>(ns, [...p, 'netstat', '-s'])).counters['udp.tx']! - before.counters['udp.tx']! >= 5,
        'udp_echo to echo 5 datagrams', 10_000, 200);
      const after = await cliJson<Stats>(ns, [...p, 'netstat', '-s']);
      expect(after.counters['udp.delivered']! - before.counters['udp.delivered']!).toBe(5);

      const sock = join(info!.runtime_dir, `ffnet.${echo.pid}.sock`);
      echo.child.kill('SIGKILL');
      await ns.waitFor(async () => echo.child.exitCode !== null || echo.child.signalCode !== null, 'udp_echo to die', 5_000);
      // The crash left its socket behind; nobody listens on it, and ps does not list it.
      expect(existsSync(sock)).toBe(true);
      const list = await cliJson<Array<{ pid: number }>>(ns, ['ps']);
      expect(list.map((s) => s.pid)).not.toContain(echo.pid);
      const gone = await cli(ns, ['-p', String(echo.pid), 'netstat', '-s']);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(new RegExp(`^ffnet netstat: (no stack matches '${echo.pid}' \\(running: .*\\)|no ffnet stack is running .*)\\n$`));
    } finally {
      await echo.stop();
    }
  }, 60_000);
});
