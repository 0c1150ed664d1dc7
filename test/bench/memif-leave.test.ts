/**
 * The benches' memif links end without crashing either end. DPDK's memif PMD handles a peer's disconnect
 * on its interrupt thread and unmaps the shared rings while this process's data path may still be
 * polling them: a SIGSEGV inside the PMD (bench:transport's raw receiver died so when its sender left).
 * So the end that finishes first stops polling, says so (`<link>.a-idle`, bench/common.ts), and leaves
 * only after the other end; the other end leaves only once it has seen that. Checked, in a private
 * namespace, on bench:dgram's receive stage (udp_blast → an ffnet/dgram receiver) and on bench:transport's
 * raw stage (an ffnet/dgram sender → an ffnet/dgram receiver): both ends exit 0, the finishing end went
 * idle before the other left, and it left after the other; and on bench:echo's ffnet↔ffnet stage
 * (udp_load ⇄ udp_echo): udp_load, done first, leaves only after udp_echo.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot, type ExecResult } from '../../testbed/netns.js';
import { childCommand, linkFiles, memifListening, writeMemifIni, RECV_ADDR, RECV_CPU, RECV_MAC, SEND_ADDR, SEND_CPU, SEND_MAC, type BenchRun } from '../../bench/common.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DGRAM = join(ROOT, 'dist', 'bench', 'dgram.js');
const TRANSPORT = join(ROOT, 'dist', 'bench', 'transport.js');
const UDP_BLAST = join(ROOT, 'build', 'bin', 'udp_blast');
const UDP_ECHO = join(ROOT, 'build', 'bin', 'udp_echo');
const UDP_LOAD = join(ROOT, 'build', 'bin', 'udp_load');

/** A command's result and when the test saw it end. */
async function timed(p: Promise<ExecResult>): Promise<ExecResult & { endedAt: number }> {
  const r = await p;
  return { ...r, endedAt: Date.now() };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The finishing end said it no longer polls before the other end left (which it marks right before its
 * exit, so before it disconnects), and the finishing end ended after that mark.
 */
function expectLeftInTurn(link: string, firstEndedAt: number): void {
  const { aIdle, bGone } = linkFiles(link);
  expect(existsSync(aIdle), 'the finishing end said it no longer polls').toBe(true);
  expect(existsSync(bGone), 'the other end marked its leaving').toBe(true);
  expect(statSync(aIdle).mtimeMs, 'idle before the other end left').toBeLessThanOrEqual(statSync(bGone).mtimeMs);
  expect(statSync(bGone).mtimeMs, 'the finishing end left after the other').toBeLessThanOrEqual(firstEndedAt);
}

describe('memif links in the benches', () => {
  let run: BenchRun;

  beforeAll(async () => {
    requireRoot();
    for (const f of [DGRAM, TRANSPORT, UDP_BLAST, UDP_ECHO, UDP_LOAD]) if (!existsSync(f)) throw new Error(`${f} not found: run npm run build`);
    run = { label: 'leave', dir: mkdtempSync(join(tmpdir(), 'ffnet-memif-leave-')), ns: await Netns.create('memif-leave'), serial: 0, prefixes: [] };
  });
  afterAll(async () => {
    await run?.ns.destroy();
    if (run) rmSync(run.dir, { recursive: true, force: true });
    for (const p of run?.prefixes ?? []) rmSync(join('/var/run/dpdk', p), { recursive: true, force: true });
  });

  it('udp_blast goes idle, the ffnet receiver leaves, then udp_blast leaves', async () => {
    const sock = join(run.dir, 'rx.sock');
    const link = join(run.dir, 'rx-link');
    const ini = writeMemifIni(run, 'rx', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock });
    const [rc, ra] = childCommand(DGRAM, RECV_CPU, ini, 'recv', ['--impl', 'ffnet', '--api', 'message', '--port', '7', '--warmup', '0.5', '--window', '1', '--echo', '8', '--link', link]);
    const recv = timed(run.ns.exec(rc, ra, { timeoutMs: 90_000 }));
    await sleep(500);
    const blast = await timed(run.ns.exec(UDP_BLAST, ['--socket', sock, '--cpu', String(SEND_CPU), '--mac', SEND_MAC, '--peer-mac', RECV_MAC, '--size', '64', '--seconds', '2',
      '--idle-file', linkFiles(link).aIdle], { timeoutMs: 90_000 }));
    const r = await recv;
    expect(r.code, r.stderr).toBe(0);
    expect(blast.code, blast.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop() as string).delivered).toBeGreaterThan(0);
    expectLeftInTurn(link, blast.endedAt);
  });

  it('the ffnet sender goes idle, the ffnet receiver leaves, then the sender leaves', async () => {
    const sock = join(run.dir, 'raw.sock');
    const link = join(run.dir, 'raw-link');
    const tuning = { rsize: 12, sysctl: { 'kern.ipc.maxsockbuf': 16 * 1024 * 1024 } };
    const recvIni = writeMemifIni(run, 'rawrecv', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock, ...tuning });
    const sendIni = writeMemifIni(run, 'rawsend', { cpu: SEND_CPU, role: 'client', addr: SEND_ADDR, mac: SEND_MAC, peer: [RECV_ADDR, RECV_MAC], sock, ...tuning });
    const [rc, ra] = childCommand(TRANSPORT, RECV_CPU, recvIni, 'rawrecv', ['--backend', 'dpdk', '--api', 'message', '--port', '40126', '--warmup', '0.5', '--window', '1', '--link', link]);
    const recv = timed(run.ns.exec(rc, ra, { timeoutMs: 90_000 }));
    await sleep(500);
    const [sc, sa] = childCommand(TRANSPORT, SEND_CPU, sendIni, 'rawsend', ['--backend', 'dpdk', '--api', 'message', '--dst', RECV_ADDR, '--port', '40126', '--size', '64', '--seconds', '2', '--link', link]);
    const send = await timed(run.ns.exec(sc, sa, { timeoutMs: 90_000 }));
    const r = await recv;
    expect(r.code, r.stderr).toBe(0);
    expect(send.code, send.stderr).toBe(0);
    expectLeftInTurn(link, send.endedAt);
  });

  it('udp_load, done first, holds its port until udp_echo has left', async () => {
    const sock = join(run.dir, 'echo.sock');
    const hold = join(run.dir, 'load-hold');
    const echoIni = writeMemifIni(run, 'echo', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock });
    const loadIni = writeMemifIni(run, 'load', { cpu: SEND_CPU, role: 'client', addr: SEND_ADDR, mac: SEND_MAC, peer: [RECV_ADDR, RECV_MAC], sock });
    const echo = timed(run.ns.exec(UDP_ECHO, ['--conf', echoIni, '--port', '7', '--seconds', '4'], { timeoutMs: 60_000 }));
    await memifListening(run.ns, sock);
    const load = timed(run.ns.exec(UDP_LOAD, ['--conf', loadIni, '--dst', RECV_ADDR, '--port', '7', '--size', '64', '--seconds', '1', '--hold-file', hold], { timeoutMs: 90_000 }));
    const e = await echo;
    writeFileSync(hold, '');
    const l = await load;
    expect(e.code, e.stderr).toBe(0);
    expect(l.code, l.stderr).toBe(0);
    expect(JSON.parse(l.stdout.trim().split('\n').pop() as string).echoed).toBeGreaterThan(0);
    expect(l.endedAt, 'udp_load left after udp_echo').toBeGreaterThanOrEqual(e.endedAt);
  });
});
