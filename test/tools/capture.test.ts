/**
 * `ffnet capture` against live stacks in a namespace of the test's own, the Linux kernel as peer over
 * net_tap (ff0): a Node program on ffnet/dgram that echoes UDP (test/tools/fixtures/capture-echo.mjs)
 * in each lcore mode, and the C echo server on ff_init (posix/examples/udp_echo.c).
 *
 * The kernel sends datagrams, the stack echoes them, and tshark decodes the file the tool wrote:
 * exactly those frames, both directions, with their addresses, ports and payloads (plus ARP, which a
 * filter admits by name); -c N stops at N; a filter passes only what it matches; no datagram is lost
 * meanwhile; a stack whose JavaScript thread is blocked is captured all the same (dedicated lcore);
 * a tool killed mid-capture leaves the stack healthy with its capture off (capture.copied stops, the
 * packet pool returns to its baseline, a new capture starts) and a C program alive (no SIGPIPE); a
 * bad filter is one clear line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Hugepages } from '../../testbed/hugepages.js';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import type { Netns } from '../../testbed/netns.js';
import { payload } from '../../testbed/payload.js';
import { REPO } from '../shim/scenarios.js';
import { IFACE, KERNEL_IP, LCORE_MODES, STACK_IP, linkMac, quietNamespace, uniquePrefix } from '../stack/kernel-peer.js';

const CLI = join(REPO, 'dist/tools/cli.js');
const ECHO_APP = join(REPO, 'test/tools/fixtures/capture-echo.mjs');
const UDP_ECHO = join(REPO, 'build/bin/udp_echo');
const ECHO_PORT = 7;
const DEDICATED = LCORE_MODES.find((m) => m.name !== 'inline')!;

/** A stack echoing UDP on port 7 in `ns`, and the kernel side of ff0 at 10.77.0.1/24. */
interface EchoStack {
  prefix: string;
  child: ChildProcess;
  /** Lines the program printed. */
  lines: string[];
  kernelMac: string;
  /** Node program only: a command on its stdin, resolving to the next line it prints. */
  command(line: string): Promise<string>;
  close(): Promise<void>;
}

function iniText(prefix: string, dpdk: Record<string, string>): string {
  const keys = { memory: '256', no_huge: 'true', log_level: 'warning', ...dpdk, file_prefix: prefix };
  return `[dpdk]\n${Object.entries(keys).map(([k, v]) => `${k} = ${v}`).join('\n')}\nvdev[] = net_tap0,iface=${IFACE}\n` +
    `[port0]\naddr = ${STACK_IP}\nnetmask = 255.255.255.0\n`;
}

function waitLine(lines: string[], child: ChildProcess, re: RegExp, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = setInterval(() => {
      const hit = lines.find((l) => re.test(l));
      if (hit) {
        clearInterval(tick);
        resolve(hit);
      } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
        clearInterval(tick);
        reject(new Error(`${what}: not seen within ${timeoutMs} ms (exit ${child.exitCode}); output:\n${lines.join('\n')}`));
      }
    }, 20);
  });
}

/** Starts the echo program (Node or C) in ns with an ffnet.ini of `dpdk` keys; waits for it to serve. */
async function startEcho(ns: Netns, dir: string, dpdk: Record<string, string>, kind: 'node' | 'c', echoArgs: string[] = ['--seconds', '120']): Promise<EchoStack> {
  const prefix = uniquePrefix('capture');
  const ini = join(dir, `${prefix}.ini`);
  writeFileSync(ini, iniText(prefix, dpdk));
  const child = kind === 'node'
    ? ns.spawn(process.execPath, [ECHO_APP], { env: { ...process.env, FFNET_CONFIG: ini }, stdio: ['pipe', 'pipe', 'pipe'] })
    : ns.spawn(UDP_ECHO, ['--conf', ini, '--port', String(ECHO_PORT), ...echoArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
  };
  try {
    // Both serve once their control socket exists (the stack started) and the kernel side is up.
    const runtime = `/var/run/dpdk/${prefix}`;
    await ns.waitFor(async () => existsSync(runtime) && readdirSync(runtime).some((f) => /^ffnet\.\d+\.sock$/.test(f)), 'the stack to serve', 30_000);
    if (kind === 'node') await waitLine(lines, child, /^ready$/, 'the echo program to bind', 10_000);
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', IFACE]);
    await ns.execOk('ip', ['link', 'set', IFACE, 'up']);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    prefix,
    child,
    lines,
    kernelMac: await linkMac(ns, IFACE),
    async command(line) {
      const from = lines.length;
      child.stdin!.write(`${line}\n`);
      await new Promise<void>((resolve, reject) => {
        const t0 = Date.now();
        const tick = setInterval(() => {
          if (lines.length > from) {
            clearInterval(tick);
            resolve();
          } else if (Date.now() - t0 > 10_000) {
            clearInterval(tick);
            reject(new Error(`no answer to '${line}'`));
          }
        }, 10);
      });
      return lines[from]!;
    },
    close: stop,
  };
}

/** Runs the ffnet CLI to its end (synchronously: for short commands). */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running `ffnet capture`, its exit and what it printed. */
interface Capture {
  child: ChildProcess;
  stderr: string[];
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `ffnet -p prefix capture ...args` and waits until it captures. */
async function startCapture(prefix: string, args: string[]): Promise<Capture> {
  const child = spawn(process.execPath, [CLI, '-p', prefix, 'capture', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void done.then(() => clearTimeout(timer));
  await waitLine(stderr, child, /^Capturing on /, 'ffnet capture to start', 10_000);
  return { child, stderr, done };
}

/** One frame of a capture file as tshark decodes it. */
interface Frame {
  direction: number; // 1 inbound, 2 outbound (pcapng epb_flags)
  ethSrc: string;
  ethDst: string;
  proto: string; // "arp" or "udp" or ...
  ipSrc: string;
  ipDst: string;
  srcPort: number;
  dstPort: number;
  payload: string; // hex
  time: number; // seconds since the epoch
}

function tsharkFrames(file: string): Frame[] {
  const fields = ['frame.packet_flags_direction', 'eth.src', 'eth.dst', 'frame.protocols', 'ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport', 'udp.payload', 'frame.time_epoch'];
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`tshark -r ${file} failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const [dir, ethSrc, ethDst, protocols, ipSrc, ipDst, sport, dport, data, time] = l.split('\t');
    const protos = (protocols ?? '').split(':');
    return {
      direction: Number(dir),
      ethSrc: ethSrc ?? '',
      ethDst: ethDst ?? '',
      proto: protos.includes('udp') ? 'udp' : protos.includes('arp') ? 'arp' : protos.join(':'),
      ipSrc: ipSrc ?? '',
      ipDst: ipDst ?? '',
      srcPort: Number(sport || 0),
      dstPort: Number(dport || 0),
      payload: (data ?? '').replaceAll(':', ''),
      time: Number(time),
    };
  });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Sends `count` datagrams of each size from the kernel socket to the echo port; their payloads, in order. */
async function sendBatch(kern: KernelUdp, sid: number, sizes: number[], count: number, startSeq: number): Promise<string[]> {
  const sent: string[] = [];
  let seq = startSeq;
  for (const size of sizes) {
    const r = await kern.send(sid, { to: { address: STACK_IP, port: ECHO_PORT }, size, count, pattern: 'seq', startSeq: seq });
    expect(r.errors).toEqual([]);
    for (let i = 0; i < count; i++) sent.push(hex(payload('seq', size, seq + i)));
    seq += count;
  }
  return sent;
}

/** Waits for `n` echoes on the kernel socket. */
async function expectEchoes(kern: KernelUdp, sid: number, n: number): Promise<void> {
  const r = await kern.recv(sid, { count: n, timeoutMs: 10_000 });
  expect(r.datagrams.length, `echoes received (timed out: ${r.timedOut})`).toBe(n);
}

async function capturedCount(c: Capture): Promise<number> {
  const line = await waitLine(c.stderr, c.child, /^\d+ packets? captured$/, 'the packet count', 15_000);
  return Number(line.split(' ')[0]);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ffnet-capture-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the tests of a describe block share: a namespace, an echo stack in it, the kernel's UDP peer. */
interface EchoSuite {
  ns: Netns;
  app: EchoStack;
  kern: KernelUdp;
}

/**
 * Declares, in the describe block it is called in, an echo stack (startEcho; `dpdk` read when it
 * starts) in a new namespace with the kernel's UDP peer: made before the block's tests, removed after.
 */
function echoSuite(label: string, dpdk: () => Record<string, string>, kind: 'node' | 'c', echoArgs?: string[]): EchoSuite {
  const suite = {} as EchoSuite;
  beforeAll(async () => {
    suite.ns = await quietNamespace(label);
    suite.app = await startEcho(suite.ns, dir, dpdk(), kind, echoArgs);
    suite.kern = await KernelUdp.start(suite.ns);
  }, 60_000);
  afterAll(async () => {
    suite.kern?.close();
    await suite.app?.close();
    await suite.ns?.destroy();
  });
  return suite;
}

describe.each(LCORE_MODES)('ffnet capture of a Node program ($name)', (mode) => {
  const suite = echoSuite('capture', () => mode.dpdk, 'node');
  let sid: number;
  let kport: number;
  let seq = 0;

  beforeAll(async () => {
    ({ sid, port: kport } = await suite.kern.socket({ address: KERNEL_IP, port: 0 }));
  });

  it('writes exactly the frames exchanged, both directions, that tshark decodes', async () => {
    const file = join(dir, `both-${mode.name.replaceAll(' ', '-')}.pcapng`);
    const t0 = Date.now() / 1000;
    const cap = await startCapture(suite.app.prefix, ['-f', 'udp port 7 or arp', '-w', file]);
    const sent = await sendBatch(suite.kern, sid, [1, 100, 1472], 10, seq);
    seq += sent.length;
    await expectEchoes(suite.kern, sid, sent.length);
    await new Promise((r) => setTimeout(r, 200));
    cap.child.kill('SIGINT');
    expect(await cap.done).toEqual({ code: 0, signal: null });
    const frames = tsharkFrames(file);
    expect(await capturedCount(cap)).toBe(frames.length);
    // Wall-clock timestamps, in order, within the test's own window.
    const t1 = Date.now() / 1000;
    for (const [i, f] of frames.entries()) {
      expect(f.time).toBeGreaterThanOrEqual(t0 - 0.5);
      expect(f.time).toBeLessThanOrEqual(t1 + 0.5);
      if (i > 0) expect(f.time).toBeGreaterThanOrEqual(frames[i - 1]!.time);
    }
    const udp = frames.filter((f) => f.proto === 'udp');
    const other = frames.filter((f) => f.proto !== 'udp');
    expect(other.every((f) => f.proto === 'arp'), JSON.stringify(other)).toBe(true);
    expect(udp.length).toBe(2 * sent.length);
    const inbound = udp.filter((f) => f.direction === 1);
    const outbound = udp.filter((f) => f.direction === 2);
    expect(inbound.map((f) => f.payload)).toEqual(sent);
    expect(outbound.map((f) => f.payload)).toEqual(sent);
    // The stack's MAC as the kernel resolved it.
    const neigh = JSON.parse(await suite.ns.execOk('ip', ['-j', 'neigh', 'show', STACK_IP, 'dev', IFACE])) as Array<{ lladdr?: string }>;
    const stackMac = neigh[0]?.lladdr?.toLowerCase();
    expect(stackMac).toMatch(/^[0-9a-f:]{17}$/);
    for (const f of inbound) {
      expect([f.ethSrc, f.ethDst, f.ipSrc, f.ipDst, f.srcPort, f.dstPort]).toEqual([suite.app.kernelMac, stackMac, KERNEL_IP, STACK_IP, kport, ECHO_PORT]);
    }
    for (const f of outbound) {
      expect([f.ethSrc, f.ethDst, f.ipSrc, f.ipDst, f.srcPort, f.dstPort]).toEqual([stackMac, suite.app.kernelMac, STACK_IP, KERNEL_IP, ECHO_PORT, kport]);
    }
    // ARP, if any, is between the two ends.
    for (const f of other) expect([suite.app.kernelMac, stackMac]).toContain(f.ethSrc);
  }, 60_000);

  it('keeps traffic flowing under load: every datagram echoed, every frame captured or counted as dropped', async () => {
    const file = join(dir, `load-${mode.name.replaceAll(' ', '-')}.pcapng`);
    type Stats = { counters: Record<string, number> };
    const before = JSON.parse(await suite.app.command('stats')) as Stats;
    const cap = await startCapture(suite.app.prefix, ['-f', 'udp port 7', '-w', file]);
    const sent = await sendBatch(suite.kern, sid, [200], 300, seq);
    seq += sent.length;
    // Judged on the stack's side: the kernel's socket overflows its own receive buffer at this rate
    // (its RcvbufErrors), capture or not.
    await suite.ns.waitFor(async () => {
      const now = JSON.parse(await suite.app.command('stats')) as Stats;
      return now.counters['udp.tx']! - before.counters['udp.tx']! === sent.length;
    }, 'the stack to echo every datagram', 10_000, 100);
    const after = JSON.parse(await suite.app.command('stats')) as Stats;
    expect(after.counters['udp.rx']! - before.counters['udp.rx']!).toBe(sent.length);
    await suite.kern.recv(sid, { count: sent.length, timeoutMs: 1_000 });
    cap.child.kill('SIGINT');
    expect(await cap.done).toEqual({ code: 0, signal: null });
    const captured = await capturedCount(cap);
    const droppedLine = cap.stderr.find((l) => / dropped by the stack/.test(l));
    const dropped = droppedLine ? Number(droppedLine.split(' ')[0]) : 0;
    expect(captured + dropped, cap.stderr.join('\n')).toBe(2 * sent.length);
    expect(after.counters['capture.dropped']! - before.counters['capture.dropped']!).toBe(dropped);
    expect(tsharkFrames(file).length).toBe(captured);
  }, 60_000);

  it('-c N stops after N frames; a filter passes only what it matches', async () => {
    const file = join(dir, `count-${mode.name.replaceAll(' ', '-')}.pcapng`);
    // Only the stack's replies: outbound, from port 7.
    const cap = await startCapture(suite.app.prefix, ['-c', '5', '-f', `udp and src host ${STACK_IP}`, '-w', file]);
    const sent = await sendBatch(suite.kern, sid, [64], 12, seq);
    seq += sent.length;
    await expectEchoes(suite.kern, sid, sent.length);
    expect(await cap.done).toEqual({ code: 0, signal: null });
    expect(cap.stderr).toContain('5 packets captured');
    const frames = tsharkFrames(file);
    expect(frames.map((f) => [f.direction, f.ipSrc, f.srcPort, f.payload])).toEqual(sent.slice(0, 5).map((p) => [2, STACK_IP, ECHO_PORT, p]));
  }, 60_000);

  it('a killed tool leaves the stack healthy and its capture off', async () => {
    const before = JSON.parse(await suite.app.command('stats')) as { counters: Record<string, number>; mempool: { inUse: number } };
    const cap = await startCapture(suite.app.prefix, ['-f', 'udp port 7', '-w', join(dir, 'killed.pcapng')]);
    let sent = await sendBatch(suite.kern, sid, [200], 10, seq);
    seq += sent.length;
    await expectEchoes(suite.kern, sid, sent.length);
    cap.child.kill('SIGKILL');
    await cap.done;
    // The stack notices the closed connection within its idle poll; then nothing is copied any more.
    let copied = 0;
    await suite.ns.waitFor(async () => {
      const s = JSON.parse(await suite.app.command('stats')) as { counters: Record<string, number> };
      const again = s.counters['capture.copied']!;
      const settled = again === copied && again >= before.counters['capture.copied']! + 20;
      copied = again;
      return settled;
    }, 'capture.copied to settle', 5_000, 200);
    sent = await sendBatch(suite.kern, sid, [200], 10, seq);
    seq += sent.length;
    await expectEchoes(suite.kern, sid, sent.length);
    await suite.ns.waitFor(async () => {
      const s = JSON.parse(await suite.app.command('stats')) as { counters: Record<string, number>; mempool: { inUse: number } };
      expect(s.counters['capture.copied']).toBe(copied);
      return s.mempool.inUse === before.mempool.inUse;
    }, 'the packet pool to return to its baseline', 5_000, 100);
    // The capture is free for the next tool.
    const next = await startCapture(suite.app.prefix, ['-c', '2', '-w', join(dir, 'next.pcapng')]);
    sent = await sendBatch(suite.kern, sid, [10], 1, seq);
    seq += sent.length;
    await expectEchoes(suite.kern, sid, 1);
    expect(await next.done).toEqual({ code: 0, signal: null });
    expect(next.stderr).toContain('2 packets captured');
  }, 60_000);

  it('-w - writes the pcapng to stdout, the count to stderr', async () => {
    const file = join(dir, `stdout-${mode.name.replaceAll(' ', '-')}.pcapng`);
    const fd = openSync(file, 'w');
    const child = spawn(process.execPath, [CLI, '-p', suite.app.prefix, 'capture', '-c', '2', '-f', 'udp port 7', '-w', '-'], { stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
    const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitLine(stderr, child, /^Capturing on /, 'ffnet capture to start', 10_000);
    const sent = await sendBatch(suite.kern, sid, [20], 1, seq);
    seq += sent.length;
    await expectEchoes(suite.kern, sid, 1);
    expect(await done).toBe(0);
    expect(stderr).toEqual(['Capturing on port0 (net_tap0), filter \'udp port 7\'', '2 packets captured']);
    expect(tsharkFrames(file).map((f) => [f.direction, f.payload])).toEqual([[1, sent[0]], [2, sent[0]]]);
  }, 30_000);

  it('a bad filter is one clear line and changes nothing', () => {
    const r = cli(['-p', suite.app.prefix, 'capture', '-f', 'udp prot 9', '-w', join(dir, 'bad.pcapng')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("ffnet capture: bad filter 'udp prot 9': syntax error\n");
    expect(existsSync(join(dir, 'bad.pcapng')), 'a refused capture leaves no file').toBe(false);
    const none = cli(['-p', suite.app.prefix, 'capture', '-i', 'port3', '-w', join(dir, 'bad.pcapng')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toBe('ffnet capture: no port3: the stack has 1 port (port0)\n');
    // A file that cannot be written is refused before the stack is asked anything.
    const nowhere = join(dir, 'no-such-dir', 'x.pcapng');
    const unwritable = cli(['-p', suite.app.prefix, 'capture', '-w', nowhere]);
    expect(unwritable.status).toBe(1);
    expect(unwritable.stderr).toBe(`ffnet capture: cannot write ${nowhere}: no such file or directory\n`);
    const usage = cli(['-p', suite.app.prefix, 'capture', '-c', '0', '-w', join(dir, 'bad.pcapng')]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe("ffnet capture: -c: '0' is not a whole number of at least 1\n");
  });
});

describe('ffnet capture of a stack whose JavaScript thread is blocked', () => {
  const suite = echoSuite('capture-blocked', () => DEDICATED.dpdk, 'node');

  it('captures what a dedicated lcore receives meanwhile, and the echoes follow once it unblocks', async () => {
    const { sid } = await suite.kern.socket({ address: KERNEL_IP, port: 0 });
    expect(await suite.app.command('block 8000')).toBe('blocking');
    const file = join(dir, 'blocked.pcapng');
    const cap = await startCapture(suite.app.prefix, ['-c', '6', '-f', `udp dst port ${ECHO_PORT}`, '-w', file]);
    const sent = await sendBatch(suite.kern, sid, [32], 6, 0);
    expect(await cap.done).toEqual({ code: 0, signal: null });
    // The capture ended while the JavaScript thread was still blocked.
    expect(suite.app.lines).not.toContain('unblocked');
    expect(tsharkFrames(file).map((f) => [f.direction, f.payload])).toEqual(sent.map((p) => [1, p]));
    await expectEchoes(suite.kern, sid, 6);
  }, 60_000);
});

describe('ffnet capture of a C program on ff_init', () => {
  const suite = echoSuite('capture-c', () => ({ lcore_mask: '0x1' }), 'c');

  it('writes the datagrams and their echoes', async () => {
    const { sid, port } = await suite.kern.socket({ address: KERNEL_IP, port: 0 });
    const file = join(dir, 'c.pcapng');
    const cap = await startCapture(suite.app.prefix, ['-c', '8', '-f', 'udp port 7', '-w', file]);
    const sent = await sendBatch(suite.kern, sid, [48], 4, 0);
    await expectEchoes(suite.kern, sid, 4);
    expect(await cap.done).toEqual({ code: 0, signal: null });
    const frames = tsharkFrames(file);
    expect(frames.filter((f) => f.direction === 1).map((f) => [f.srcPort, f.dstPort, f.payload])).toEqual(sent.map((p) => [port, ECHO_PORT, p]));
    expect(frames.filter((f) => f.direction === 2).map((f) => [f.srcPort, f.dstPort, f.payload])).toEqual(sent.map((p) => [ECHO_PORT, port, p]));
  }, 60_000);

  it('survives a tool killed while the stack writes to it (no SIGPIPE ends the program)', async () => {
    const { sid } = await suite.kern.socket({ address: KERNEL_IP, port: 0 });
    const cap = await startCapture(suite.app.prefix, ['-f', 'udp port 7', '-w', join(dir, 'c-killed.pcapng')]);
    let seq = 100;
    // Traffic before, during and after the kill: the stack is writing when the socket goes away.
    const flood = (async () => {
      for (let i = 0; i < 20; i++) {
        await sendBatch(suite.kern, sid, [1000], 20, seq);
        seq += 20;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    cap.child.kill('SIGKILL');
    await cap.done;
    await flood;
    await suite.kern.recv(sid, { count: 400, timeoutMs: 5_000 });
    expect(suite.app.child.exitCode).toBeNull();
    expect(suite.app.child.signalCode).toBeNull();
    // Still echoing, and free for the next capture.
    const next = await startCapture(suite.app.prefix, ['-c', '2', '-f', 'udp port 7', '-w', join(dir, 'c-next.pcapng')]);
    await sendBatch(suite.kern, sid, [10], 1, 1000);
    await expectEchoes(suite.kern, sid, 1);
    expect(await next.done).toEqual({ code: 0, signal: null });
  }, 60_000);
});


describe('ffnet capture of a stack that stops', () => {
  // udp_echo ends (ff_exit: the stack stops) once it has echoed 3 datagrams.
  const suite = echoSuite('capture-stop', () => ({ lcore_mask: '0x1' }), 'c', ['--count', '3', '--seconds', '60']);

  it('ends the capture with what came, and the program exits normally', async () => {
    const { sid } = await suite.kern.socket({ address: KERNEL_IP, port: 0 });
    // The kernel resolves the stack's address first: datagrams sent back to back to an unresolved
    // neighbour can leave out of order (Linux flushes its ARP queue with the neighbour lock dropped
    // while another send to the now-valid neighbour goes straight out), and this test checks order.
    await suite.ns.execOk('ping', ['-c', '1', '-W', '5', STACK_IP]);
    const file = join(dir, 'stopping.pcapng');
    const cap = await startCapture(suite.app.prefix, ['-f', 'udp port 7', '-w', file]);
    const exited = new Promise<number | null>((resolve) => {
      if (suite.app.child.exitCode !== null) resolve(suite.app.child.exitCode);
      else suite.app.child.once('exit', (code) => resolve(code));
    });
    const sent = await sendBatch(suite.kern, sid, [16], 3, 0);
    await expectEchoes(suite.kern, sid, 3);
    expect(await exited).toBe(0);
    expect(await cap.done).toEqual({ code: 0, signal: null });
    expect(cap.stderr, cap.stderr.join('\n')).toContain('6 packets captured');
    const frames = tsharkFrames(file);
    expect(frames.filter((f) => f.direction === 1).map((f) => f.payload)).toEqual(sent);
    expect(frames.filter((f) => f.direction === 2).map((f) => f.payload)).toEqual(sent);
  }, 60_000);
});

describe("DPDK's dpdk-dumpcap on a stack on hugepages", () => {
  let huge: Hugepages;
  beforeAll(() => {
    huge = Hugepages.reserve(64);
  });
  // Released last: vitest runs afterAll hooks in the reverse of their order here.
  afterAll(() => huge?.release());
  const suite = echoSuite('capture-dumpcap', () => ({ lcore_mask: '0x1', no_huge: 'false', huge_dir: huge.dir, memory: '64', nb_mbuf: '4095' }), 'node');

  it('captures the port through the pdump service the stack started', async () => {
    // Debian ships dpdk-dumpcap in dpdk-dev (scripts/setup.sh installs it).
    expect(existsSync('/usr/bin/dpdk-dumpcap'), 'dpdk-dumpcap is not installed (apt-get install dpdk-dev)').toBe(true);
    const { sid, port } = await suite.kern.socket({ address: KERNEL_IP, port: 0 });
    const file = join(dir, 'dumpcap.pcapng');
    // 'udp' rather than 'udp port 7': dumpcap filters with DPDK's eBPF conversion, which rejects every
    // frame of a filter on a transport field in 22.11 (see stack/phy/capture.h).
    // stdbuf: its 'Capturing on' line is what says it is ready, and stdout to a pipe is block-buffered.
    const dc = suite.ns.spawn('stdbuf', ['-oL', 'dpdk-dumpcap', `--file-prefix=${suite.app.prefix}`, '-i', 'net_tap0', '-p', '-c', '8', '-f', 'udp', '-w', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    createInterface({ input: dc.stdout! }).on('line', (l) => out.push(l));
    createInterface({ input: dc.stderr! }).on('line', (l) => out.push(l));
    const done = new Promise<number | null>((resolve) => dc.once('exit', (code) => resolve(code)));
    const timer = setTimeout(() => dc.kill('SIGKILL'), 30_000);
    try {
      await waitLine(out, dc, /^Capturing on 'net_tap0'/, 'dpdk-dumpcap to start', 15_000);
      const sent = await sendBatch(suite.kern, sid, [48], 4, 0);
      await expectEchoes(suite.kern, sid, 4);
      expect(await done, out.join('\n')).toBe(0);
      const frames = tsharkFrames(file);
      expect(frames.filter((f) => f.dstPort === ECHO_PORT).map((f) => [f.srcPort, f.payload])).toEqual(sent.map((p) => [port, p]));
      expect(frames.filter((f) => f.srcPort === ECHO_PORT).map((f) => [f.dstPort, f.payload])).toEqual(sent.map((p) => [port, p]));
    } finally {
      clearTimeout(timer);
    }
  }, 60_000);
});
