/**
 * Rounds of a ping after a second of silence, for the tests that an idle stack wakes for the next frame
 * (idle-wake.test.ts on net_tap, af-ports.test.ts on net_af_packet and net_af_xdp): the round trips and
 * the bounds they are held to.
 */
import { expect } from 'vitest';
import type { Netns } from '../../testbed/netns.js';
import { sleep } from './kernel-peer.js';

export const ROUNDS = 10;
export const IDLE_MS = 1_200;
/** Median round trip after idling: a woken stack answers in ~0.1–0.3 ms. */
const MEDIAN_MS = 3;
/** The worst round: one late wake-up under load, not a tick every round. */
const MAX_MS = 50;
/** Rounds allowed above MEDIAN_MS * 2 (scheduler noise while other suites load both cores). */
const SLOW_ROUNDS = 4;

/** Checks the round trips (ms) of the rounds against the bounds. */
export function expectPrompt(rtts: number[]): void {
  const s = [...rtts].sort((a, b) => a - b);
  const seen = `round trips (ms): ${rtts.map((x) => x.toFixed(3)).join(' ')}`;
  expect(s[s.length >> 1], seen).toBeLessThan(MEDIAN_MS);
  expect(s.filter((x) => x > MEDIAN_MS * 2).length, seen).toBeLessThanOrEqual(SLOW_ROUNDS);
  expect(s.at(-1), seen).toBeLessThan(MAX_MS);
}

/** The kernel pings the stack once per round, after IDLE_MS of silence; the round trips in ms. */
export async function kernelPingRounds(ns: Netns, stackIp: string, rounds = ROUNDS): Promise<number[]> {
  const rtts: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await sleep(IDLE_MS);
    const r = await ns.exec('ping', ['-c', '1', '-W', '2', stackIp], { timeoutMs: 10_000 });
    const m = /time=([\d.]+) ms/.exec(r.stdout);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    rtts.push(Number(m?.[1]));
  }
  return rtts;
}

/** Two pings that both sides answer: each has learned the other's MAC, so rounds measure wake-ups, not ARP. */
export async function warmUp(ns: Netns, stackIp: string): Promise<void> {
  const r = await ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '2', stackIp], { timeoutMs: 10_000 });
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

