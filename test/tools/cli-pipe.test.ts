/**
 * `ffnet` as the left side of a pipe: a reader that goes away early (`ffnet sysctl -a | head -3`) ends
 * the command quietly, as it ends any Unix tool, never with a stack trace.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './harness.js';

/** Runs the CLI with a stdout pipe whose reader closed before the first write. */
function runClosedReader(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('ffnet writing into a closed pipe', () => {
  it('exits quietly when the reader of its output has gone', async () => {
    for (const args of [['--help'], ['netstat', '--help']]) {
      const r = await runClosedReader(args);
      expect(r.stderr, args.join(' ')).not.toMatch(/EPIPE|Unhandled|at /);
      expect(r.code, args.join(' ')).toBe(0);
    }
  });
});
