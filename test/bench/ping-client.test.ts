/**
 * bench:dgram's round-trip client measures one ping in flight at a time. A reply that answers no
 * outstanding ping (a start-up probe's, one the watchdog resent, a duplicate) must not start another:
 * with two pings in flight every later round trip reads short. Checked against a node:dgram server on
 * the host's loopback that answers every ping twice: the client counts the duplicates as stale and
 * keeps one ping in flight, so the server sees one ping per round trip.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DGRAM = join(ROOT, 'dist', 'bench', 'dgram.js');

/** Runs the ping client role against 127.0.0.1:port; its JSON report (last stdout line). */
function pingClient(port: number, count: number): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [DGRAM, '--role', 'pingcli', '--impl', 'node', '--dst', '127.0.0.1', '--port', String(port),
      '--count', String(count), '--seconds', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return rej(new Error(`ping client exited ${code}: ${err}${out}`));
      res(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

describe("bench:dgram's ping client", () => {
  it('keeps one ping in flight when every reply comes twice', async () => {
    const server = dgram.createSocket('udp4');
    let pings = 0;
    server.on('message', (msg, rinfo) => {
      pings++;
      server.send(msg, rinfo.port, rinfo.address);
      server.send(msg, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    try {
      const count = 2000;
      const report = await pingClient((server.address() as AddressInfo).port, count);
      expect(report.n).toBe(count);
      // One ping per round trip counted (after the first reply and 1000 warm-up round trips): with two
      // pings in flight each reply would be counted and the server would see about half as many.
      expect(pings).toBeGreaterThanOrEqual(count + 1000);
      expect(pings).toBeLessThanOrEqual(count + 1000 + 1 + Number(report.timeouts));
      expect(Number(report.stale)).toBeGreaterThanOrEqual(count);
    } finally {
      server.close();
    }
  }, 60_000);
});
