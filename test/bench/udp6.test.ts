/**
 * bench:dgram and bench:echo measure every case in both families: each udp4 case has a udp6 twin in
 * the same tables and JSON, with its ratio to the udp4 twin and the "IPv6 within 10% of IPv4" targets.
 * Both runners run whole, at one short run per case (the figures mean nothing here: the machine is
 * shared), writing their JSON to a scratch file; every case must give a figure in both families.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../../testbed/netns.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ffnet-bench-udp6-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a bench runner to completion (killed after 280 s); its JSON document. */
async function runBench(file: string, args: string[], results: string): Promise<Record<string, unknown>> {
  requireRoot();
  const p = spawn(process.execPath, [join(ROOT, 'dist', 'bench', file), ...args, '--quiet-wait', '0', '--results', results], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const kill = setTimeout(() => p.kill('SIGKILL'), 280_000);
  const code = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
  clearTimeout(kill);
  expect(code, out).toBe(0);
  return JSON.parse(readFileSync(results, 'utf8')) as Record<string, unknown>;
}

interface Row { setup: string; api: string; family: string; size: number; pps: { median: number } | null; failures: string[]; udp6_to_udp4: number | null }
interface Target { met: boolean | null; median: number | null; target: string }

describe('udp6 beside udp4 in the benches', () => {
  it('bench:dgram: every receive and round-trip case has a udp6 twin with its ratio and target', async () => {
    const doc = await runBench('dgram.js', ['--families', 'udp4,udp6', '--only', 'rx,rtt', '--repeats', '1', '--seconds', '1', '--warmup', '0.5', '--sizes', '64',
      '--rtt-count', '100', '--rtt-seconds', '1'], join(dir, 'dgram.json'));
    const rx = doc.rx as Row[];
    const cases = ['node message', 'kernel recvmmsg', 'ffnet-kernel message', 'ffnet-kernel messages', 'ffnet-dpdk message', 'ffnet-dpdk messages'];
    for (const c of cases) {
      for (const family of ['udp4', 'udp6']) {
        const r = rx.find((x) => `${x.setup} ${x.api}` === c && x.family === family);
        expect(r, `${c} ${family}`).toBeDefined();
        expect(r?.failures, `${c} ${family}`).toEqual([]);
        expect(r?.pps?.median, `${c} ${family}`).toBeGreaterThan(0);
        if (family === 'udp6') expect(r?.udp6_to_udp4, c).toBeCloseTo((r?.pps?.median ?? 0) / (rx.find((x) => `${x.setup} ${x.api}` === c && x.family === 'udp4')?.pps?.median ?? 1), 2);
        else expect(r?.udp6_to_udp4).toBeNull();
      }
    }
    const rtt = doc.rtt as Array<{ setup: string; family: string; p50_us: { median: number } | null; failures: string[] }>;
    for (const setup of ['node', 'ffnet-kernel', 'ffnet-dpdk']) {
      for (const family of ['udp4', 'udp6']) {
        const r = rtt.find((x) => x.setup === setup && x.family === family);
        expect(r?.failures, `${setup} ${family}`).toEqual([]);
        expect(r?.p50_us?.median, `${setup} ${family}`).toBeGreaterThan(0);
      }
    }
    const targets = doc.targets as Record<string, Target>;
    for (const k of ['udp6_message_64B', 'udp6_messages_64B', 'udp6_rtt_p50', 'udp6_rtt_p99']) {
      expect(targets[k]?.met, k).not.toBeNull();
      expect(targets[k]?.median, k).toBeGreaterThan(0);
    }
    expect(targets.udp6_message_64B?.target).toBe('udp6 ≥ 0.9× udp4 (ratio of medians)');
    expect(targets.udp6_rtt_p50?.target).toBe('udp6 ≤ 1.1× udp4 (ratio of medians)');
  }, 300_000);

  it('bench:echo: the echo per lcore and ffnet ↔ ffnet have udp6 twins with their ratios and targets', async () => {
    const doc = await runBench('echo-memif.js', ['--families', 'udp4,udp6', '--repeats', '1', '--seconds', '1', '--sizes', '64'], join(dir, 'echo.json'));
    const results = doc.results as Array<{ family: string; size: number; echo_pps_per_lcore: { median: number } | null; ffnet_to_ffnet_pps: { median: number } | null;
      echo_udp6_to_udp4: number | null; ffnet_to_ffnet_udp6_to_udp4: number | null; echo_bad_frames: number }>;
    const failed = JSON.stringify((doc.runs as Array<{ failed?: string; detail?: string }>).filter((x) => x.failed !== undefined));
    for (const family of ['udp4', 'udp6']) {
      const r = results.find((x) => x.family === family && x.size === 64);
      expect(r?.echo_pps_per_lcore?.median, `${family}: ${failed}`).toBeGreaterThan(0);
      expect(r?.ffnet_to_ffnet_pps?.median, `${family}: ${failed}`).toBeGreaterThan(0);
      expect(r?.echo_bad_frames, family).toBe(0);
    }
    const v6 = results.find((x) => x.family === 'udp6');
    expect(v6?.echo_udp6_to_udp4).toBeGreaterThan(0);
    expect(v6?.ffnet_to_ffnet_udp6_to_udp4).toBeGreaterThan(0);
    const t = doc.targets_udp6 as Record<string, Target>;
    expect(t.udp6_echo_64B?.met).not.toBeNull();
    expect(t.udp6_ffnet_64B?.met).not.toBeNull();
  }, 300_000);
});
