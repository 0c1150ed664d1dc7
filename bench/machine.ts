/**
 * The machine's state for benchmark runners: how busy it is, and waiting for it to be quiet before a
 * measurement, so every figure is taken on an otherwise idle machine (and says so).
 */
import { readFileSync } from 'node:fs';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU time counters from /proc/stat: [busy, total] jiffies, of the whole machine or of CPU `cpu`. */
export function cpuTimes(cpu?: number): [number, number] {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const line = (cpu === undefined ? lines[0] : lines.find((l) => l.startsWith(`cpu${cpu} `))) ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return [total - idle, total];
}

/** Busy fraction of the whole machine over `ms`. */
export async function busyOver(ms: number): Promise<number> {
  const [b0, t0] = cpuTimes();
  await sleep(ms);
  const [b1, t1] = cpuTimes();
  return t1 > t0 ? (b1 - b0) / (t1 - t0) : 0;
}

/**
 * How long {@link waitQuiet} waits, at most, for an idle machine: 30 s, or the runners' `--quiet-wait`
 * (0 measures at once, for checking a bench on a shared machine; its figures then say how busy it was).
 */
let quietWaitMs = 30_000;
export function setQuietWait(seconds: number): void {
  quietWaitMs = seconds * 1000;
}

/** Whether runners wait for an idle machine at all (`--quiet-wait` above 0). */
export const waitsForQuiet = (): boolean => quietWaitMs > 0;

/** Waits (bounded, see {@link setQuietWait}) for the machine to be at most 10% busy; returns the last busy fraction seen. */
export async function waitQuiet(): Promise<number> {
  let busy = await busyOver(500);
  for (let i = 1; i < quietWaitMs / 500 && busy > 0.1; i++) busy = await busyOver(500);
  return Math.round(busy * 1000) / 1000;
}

/** CPU seconds processes have run on the whole machine (user + nice + system; interrupts excluded), at USER_HZ 100. */
export function processCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0)) / 100;
}
