/**
 * Localhost shared with the kernel (`[dpdk] localhost`, shim/localhost.ts): node:dgram programs on
 * the dpdk backend reach local kernel processes on 127.0.0.1 and ::1, and are reached by them.
 *
 * Every program runs in a private network namespace (its own lo): a loopback-only stack process
 * (FFNET_CONFIG) under `node --import ffnet/register`, and beside it kernel processes — plain
 * node:dgram, no hook, no FFNET_CONFIG — that the stack program spawns in the same namespace, so
 * both sides share 127.0.0.1. Each run prints one RESULT line: what arrived where, and the stack's
 * localhost.* and udp.noport counters, which must match exactly what crossed.
 *
 * - hot-shots (the real package, unmodified) sends N metrics to a kernel agent on 127.0.0.1:8125: all
 *   arrive under `both` and `kernel`, none under `stack` (counted in udp.noport);
 * - a kernel client reaches stack sockets bound to 0.0.0.0, 127.0.0.1 and (udp6) `::` over IPv4 and
 *   IPv6 loopback, with the right rinfo, and the replies come back from the same port;
 * - stack to stack on localhost stays on the stack under `both`, goes through the kernel under `kernel`;
 * - a port a kernel process holds: an ephemeral companion port, a warning and a counter;
 * - connect() to a kernel peer, and to nobody (ECONNREFUSED as node:dgram reports it);
 * - sendBatch() splits a batch between the kernel and the stack; receiveBlockList holds for both;
 * - close frees the kernel port, recvStop leaves datagrams unread, an unref'd socket lets the process exit.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { SUPPORTS_BLOCK_LISTS } from '../../shim/validators.js';
import { REPO, loopbackConfig, removeEalRuntime } from './scenarios.js';

const TIMEOUT_MS = 30_000;
const METRICS = 50;

/** The kernel side: plain node:dgram (started without ffnet's hook or configuration). */
const KERNEL_MJS = `
import dgram from 'node:dgram';
const [mode, arg] = process.argv.slice(2);
const out = (o) => console.log('RESULT ' + JSON.stringify(o));
if (mode === 'listen') {
  // listen PORT COUNT WAIT_MS: counts datagrams on 127.0.0.1:PORT until COUNT or WAIT_MS.
  const [port, count, waitMs] = JSON.parse(arg);
  const s = dgram.createSocket('udp4');
  const lines = [];
  const done = () => { out({ count: lines.length, lines }); s.close(); };
  const t = setTimeout(done, waitMs);
  s.on('message', (m) => { lines.push(m.toString()); if (lines.length === count) { clearTimeout(t); done(); } });
  s.bind(port, '127.0.0.1', () => console.log('READY'));
} else if (mode === 'hold') {
  // hold PORT: keeps 127.0.0.1:PORT until stdin ends.
  const s = dgram.createSocket('udp4');
  s.bind(JSON.parse(arg), '127.0.0.1', () => console.log('READY'));
  process.stdin.on('end', () => s.close()).resume();
} else if (mode === 'client') {
  // client TARGETS: sends n datagrams to each target and collects the replies.
  const targets = JSON.parse(arg);
  const results = [];
  for (const t of targets) {
    const s = dgram.createSocket(t.family === 6 ? 'udp6' : 'udp4');
    await new Promise((r) => s.bind(0, t.family === 6 ? '::1' : '127.0.0.1', r));
    const replies = [];
    const got = new Promise((resolve) => {
      const timer = setTimeout(resolve, t.waitMs ?? 3000);
      s.on('message', (m, rinfo) => { replies.push({ text: m.toString(), address: rinfo.address, port: rinfo.port }); if (replies.length === t.n) { clearTimeout(timer); resolve(); } });
    });
    for (let i = 0; i < t.n; i++) s.send(t.label + ':' + i, t.port, t.address);
    await got;
    results.push({ label: t.label, localPort: s.address().port, replies });
    s.close();
  }
  out(results);
}
`;

/** The stack side: ffnet/dgram through the register hook; one scenario per run. */
const APP_MJS = `
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Stack } from 'ffnet';
const require = createRequire(import.meta.url);
const [scenario, arg] = process.argv.slice(2);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const warnings = [];
process.on('warning', (w) => warnings.push(w.code ?? w.name));

/** A kernel process in this namespace, without ffnet. */
function kernel(mode, a) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.FFNET_CONFIG;
  const c = spawn(process.execPath, [here('./kernel.mjs'), mode, JSON.stringify(a)], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  let text = '';
  const ready = new Promise((resolve) => c.stdout.on('data', (d) => { text += d; if (text.includes('READY')) resolve(); }));
  const result = new Promise((resolve) => c.once('close', () => {
    const line = text.split('\\n').find((l) => l.startsWith('RESULT '));
    resolve(line ? JSON.parse(line.slice(7)) : { error: 'no result', text });
  }));
  return { child: c, ready, result };
}

function counters() {
  const c = Stack.current().stats().counters;
  const pick = {};
  for (const k of ['localhost.to_kernel', 'localhost.from_kernel', 'localhost.send_errors', 'localhost.port_elsewhere', 'udp.noport', 'udp.delivered']) pick[k] = c[k];
  return pick;
}

const bound = (s, port, address) => new Promise((r) => s.bind(port, address, r));
const out = {};

if (scenario === 'statsd') {
  const n = Number(arg);
  const agent = kernel('listen', [8125, n, 2500]);
  await agent.ready;
  const { StatsD } = require('hot-shots');
  const client = new StatsD({ port: 8125, errorHandler: (e) => { out.clientError = String(e); } });
  for (let i = 0; i < n; i++) client.increment('ffnet.metric' + i);
  await new Promise((r) => client.close(r));
  const got = await agent.result;
  out.received = got.count;
  out.first = got.lines?.[0];
} else if (scenario === 'server') {
  const echo = (s) => s.on('message', (m, rinfo) => {
    (out.seen ??= []).push({ text: m.toString(), address: rinfo.address, family: rinfo.family, port: rinfo.port, size: rinfo.size });
    s.send('echo:' + m, rinfo.port, rinfo.address);
  });
  const any4 = dgram.createSocket('udp4');
  const lo4 = dgram.createSocket('udp4');
  const any6 = dgram.createSocket('udp6');
  const batch = [];
  any4.on('messages', (b) => { for (let i = 0; i < b.count; i++) batch.push(b.rinfo(i).port); });
  [any4, lo4, any6].forEach(echo);
  await bound(any4, 0, '0.0.0.0');
  await bound(lo4, 0, '127.0.0.1');
  await bound(any6, 0, '::');
  out.ports = { any4: any4.address().port, lo4: lo4.address().port, any6: any6.address().port };
  const n = 5;
  const client = kernel('client', [
    { label: 'any4', family: 4, address: '127.0.0.1', port: out.ports.any4, n },
    { label: 'lo4', family: 4, address: '127.0.0.1', port: out.ports.lo4, n },
    { label: 'any6v6', family: 6, address: '::1', port: out.ports.any6, n },
    { label: 'any6v4', family: 4, address: '127.0.0.1', port: out.ports.any6, n },
  ]);
  out.client = await client.result;
  out.batchPorts = batch;
  for (const s of [any4, lo4, any6]) s.close();
} else if (scenario === 'stack-to-stack') {
  // arg: [socket type, the receiver's bind address, the destination the sender writes]
  const [type, bindAddress, dest] = JSON.parse(arg);
  const a = dgram.createSocket(type);
  const b = dgram.createSocket(type);
  const got = [];
  const n = 10;
  const all = new Promise((resolve) => { const t = setTimeout(resolve, 3000); a.on('message', (m, rinfo) => { got.push(rinfo.port); if (got.length === n) { clearTimeout(t); resolve(); } }); });
  await bound(a, 0, bindAddress);
  await bound(b, 0, type === 'udp6' ? '::' : '0.0.0.0');
  for (let i = 0; i < n; i++) b.send('x' + i, a.address().port, dest);
  await all;
  out.received = got.length;
  out.fromSenderPort = got.every((p) => p === b.address().port);
  a.close(); b.close();
} else if (scenario === 'port-taken') {
  const port = 47001;
  const holder = kernel('hold', port);
  await holder.ready;
  const s = dgram.createSocket('udp4');
  await bound(s, port, '0.0.0.0');
  out.stackPort = s.address().port;
  await sleep(50);
  s.close();
  holder.child.stdin.end();
  await holder.result;
} else if (scenario === 'connect') {
  const agent = kernel('listen', [47002, 3, 2500]);
  await agent.ready;
  const c = dgram.createSocket('udp4');
  await new Promise((r) => c.connect(47002, '127.0.0.1', r));
  out.remote = c.remoteAddress();
  for (let i = 0; i < 3; i++) c.send('c' + i);
  out.received = (await agent.result).count;
  const lonely = dgram.createSocket('udp4');
  await new Promise((r) => lonely.connect(47003, '127.0.0.1', r));
  out.error = await new Promise((resolve) => {
    const t = setTimeout(() => resolve('none'), 2000);
    lonely.once('error', (e) => { clearTimeout(t); resolve(e.message); });
    lonely.send('anyone?');
  });
  c.close(); lonely.close();
} else if (scenario === 'lifecycle') {
  // close: 'close' once, the kernel port free again.
  const s = dgram.createSocket('udp4');
  let closes = 0;
  s.on('close', () => closes++);
  await bound(s, 47004, '0.0.0.0');
  s.close();
  await sleep(50);
  out.closes = closes;
  const k = dgram.createSocket('udp4');
  out.kernelPortFree = await new Promise((resolve) => {
    k.once('error', () => resolve(false));
    k.bind(47004, '127.0.0.1', () => resolve(true));
  });
  k.close();
  // recvStop: what a kernel process sends waits unread.
  const quiet = dgram.createSocket('udp4');
  let heard = 0;
  quiet.on('message', () => heard++);
  await bound(quiet, 47005, '0.0.0.0');
  quiet._stopReceiving();
  const client = kernel('client', [{ label: 'quiet', family: 4, address: '127.0.0.1', port: 47005, n: 2, waitMs: 300 }]);
  out.repliesAfterStop = (await client.result)[0]?.replies.length;
  out.heardAfterStop = heard;
  quiet.close();
} else if (scenario === 'batch') {
  // One sendBatch() to a kernel agent and to a stack socket: each datagram goes its own way.
  const agent = kernel('listen', [47010, 3, 2500]);
  await agent.ready;
  const a = dgram.createSocket('udp4');
  const got = [];
  a.on('message', (m) => got.push(m.toString()));
  await bound(a, 0, '0.0.0.0');
  const port = a.address().port;
  const s = dgram.createSocket('udp4');
  out.callback = await new Promise((resolve) => s.sendBatch([
    { msg: 'k0', port: 47010, address: '127.0.0.1' }, { msg: 's0', port, address: '127.0.0.1' },
    { msg: 'k1', port: 47010, address: '127.0.0.1' }, { msg: 's1', port, address: '127.0.0.1' },
    { msg: 'k2', port: 47010, address: '127.0.0.1' },
  ], (err, sent) => resolve({ err: err && err.message, sent })));
  out.kernelGot = (await agent.result).lines.sort();
  await sleep(100);
  out.stackGot = got.sort();
  a.close(); s.close();
} else if (scenario === 'blocklist') {
  // receiveBlockList applies to the kernel's datagrams as to the stack's (Node 22.13+; older ones ignore the option).
  const { BlockList } = await import('node:net');
  const blocked = new BlockList();
  blocked.addAddress('::1', 'ipv6');
  const s = dgram.createSocket({ type: 'udp6', receiveBlockList: blocked });
  s.on('message', (m, rinfo) => { (out.seen ??= []).push(rinfo.address); s.send('echo', rinfo.port, rinfo.address); });
  await bound(s, 0, '::');
  const port = s.address().port;
  const client = kernel('client', [
    { label: 'v6', family: 6, address: '::1', port, n: 2, waitMs: 500 },
    { label: 'v4', family: 4, address: '127.0.0.1', port, n: 2, waitMs: 1500 },
  ]);
  out.replies = (await client.result).map((c) => c.replies.length);
  s.close();
} else if (scenario === 'unref') {
  // An unref'd socket bound on 0.0.0.0 (so with a kernel companion) must let the process end.
  const s = dgram.createSocket('udp4');
  let heard = 0;
  s.on('message', (m, rinfo) => { heard++; s.send('echo', rinfo.port, rinfo.address); });
  await bound(s, 47006, '0.0.0.0');
  const client = kernel('client', [{ label: 'unref', family: 4, address: '127.0.0.1', port: 47006, n: 1 }]);
  const replies = (await client.result)[0]?.replies.length;
  const before = counters();
  s.unref();
  process.on('exit', () => console.log('RESULT ' + JSON.stringify({ exited: true, heard, replies, ...before })));
}
if (scenario !== 'unref') {
  await sleep(100);
  console.log('RESULT ' + JSON.stringify({ ...out, warnings, ...counters() }));
  process.exit(0);
}
`;

let dir: string;
let ns: Netns;

interface AppRun {
  code: number | null;
  result: Record<string, any> | undefined;
  text: string;
}

/** Runs one scenario of app.mjs on a loopback-only stack with `[dpdk] localhost = policy`. */
async function runApp(policy: string | undefined, scenario: string, arg = ''): Promise<AppRun> {
  const cfg = loopbackConfig(dir, `lh-${scenario}`, policy ? `localhost = ${policy}\n` : '');
  try {
    const r = await ns.exec('env', ['-C', dir, '-u', 'NODE_OPTIONS', `FFNET_CONFIG=${cfg}`, process.execPath,
      '--import', 'ffnet/register', 'app.mjs', scenario, arg], { timeoutMs: TIMEOUT_MS });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    return { code: r.code, result: line ? JSON.parse(line.slice(7)) : undefined, text: `exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}` };
  } finally {
    removeEalRuntime(cfg);
  }
}

describe('[dpdk] localhost: loopback shared with the kernel', () => {
  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create('localhost');
    dir = mkdtempSync(join(tmpdir(), 'ffnet-localhost-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(REPO, join(dir, 'node_modules', 'ffnet'), 'dir');
    symlinkSync(join(REPO, 'node_modules', 'hot-shots'), join(dir, 'node_modules', 'hot-shots'), 'dir');
    writeFileSync(join(dir, 'app.mjs'), APP_MJS);
    writeFileSync(join(dir, 'kernel.mjs'), KERNEL_MJS);
  });

  afterAll(async () => {
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const policy of [undefined, 'kernel']) {
    it(`hot-shots on the stack reaches a kernel agent on 127.0.0.1:8125 (${policy ?? 'default: both'})`, async () => {
      const r = await runApp(policy, 'statsd', String(METRICS));
      expect(r.result, r.text).toMatchObject({ received: METRICS, first: 'ffnet.metric0:1|c', 'localhost.to_kernel': METRICS,
        'localhost.send_errors': 0, 'udp.noport': 0 });
      expect(r.result?.clientError, r.text).toBeUndefined();
    });
  }

  it('hot-shots under localhost = stack: nothing reaches the kernel, every metric counted in udp.noport', async () => {
    const r = await runApp('stack', 'statsd', String(METRICS));
    expect(r.result, r.text).toMatchObject({ received: 0, 'localhost.to_kernel': 0, 'udp.noport': METRICS });
  });

  it('kernel clients reach sockets bound to 0.0.0.0, 127.0.0.1 and ::, with their rinfo, and hear the replies from the same port', async () => {
    const r = await runApp(undefined, 'server');
    const res = r.result!;
    expect(res, r.text).toBeDefined();
    const clients = res.client as Array<{ label: string; localPort: number; replies: Array<{ text: string; address: string; port: number }> }>;
    const portOf: Record<string, number> = { any4: res.ports.any4, lo4: res.ports.lo4, any6v6: res.ports.any6, any6v4: res.ports.any6 };
    const peerOf: Record<string, string> = { any4: '127.0.0.1', lo4: '127.0.0.1', any6v6: '::1', any6v4: '127.0.0.1' };
    expect(clients.map((c) => c.label), r.text).toEqual(['any4', 'lo4', 'any6v6', 'any6v4']);
    for (const c of clients) {
      expect(c.replies.map((x) => x.text).sort(), `${c.label}\n${r.text}`).toEqual([0, 1, 2, 3, 4].map((i) => `echo:${c.label}:${i}`));
      for (const x of c.replies) expect(x, c.label).toMatchObject({ address: peerOf[c.label], port: portOf[c.label] });
    }
    // What the stack sockets saw: the client's own address and port, as node:dgram reports them.
    const seen = res.seen as Array<{ text: string; address: string; family: string; port: number; size: number }>;
    const byLabel = (label: string) => seen.filter((s) => s.text.startsWith(`${label}:`));
    const client = (label: string) => clients.find((c) => c.label === label)!.localPort;
    for (const s of byLabel('any4')) expect(s).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: client('any4'), size: 6 });
    for (const s of byLabel('lo4')) expect(s).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: client('lo4') });
    for (const s of byLabel('any6v6')) expect(s).toMatchObject({ address: '::1', family: 'IPv6', port: client('any6v6') });
    for (const s of byLabel('any6v4')) expect(s).toMatchObject({ address: '::ffff:127.0.0.1', family: 'IPv6', port: client('any6v4') });
    expect(seen.length).toBe(20);
    // 'messages' batches carry the kernel's datagrams too.
    expect(res.batchPorts).toEqual(Array(5).fill(client('any4')));
    // Every datagram crossed once each way, and was counted so.
    expect(res).toMatchObject({ 'localhost.from_kernel': 20, 'localhost.to_kernel': 20, 'localhost.send_errors': 0, 'localhost.port_elsewhere': 0 });
  });

  const STACK_PAIRS = [
    ['udp4', '0.0.0.0', '127.0.0.1'],
    ['udp4', '127.0.0.1', '127.0.0.1'],
    ['udp4', '127.0.0.5', '127.0.0.5'],
    ['udp6', '::', '::1'],
    ['udp6', '::1', '::1'],
    ['udp6', '::', '::ffff:127.0.0.1'],
  ];

  for (const pair of STACK_PAIRS) {
    it(`stack to stack on localhost stays on the stack under both (${pair.join(' ')})`, async () => {
      const r = await runApp('both', 'stack-to-stack', JSON.stringify(pair));
      expect(r.result, r.text).toMatchObject({ received: 10, fromSenderPort: true, 'localhost.to_kernel': 0, 'localhost.from_kernel': 0, 'udp.delivered': 10 });
    });
  }

  it('stack to stack on localhost goes through the kernel under kernel, from the sender\'s port', async () => {
    const r = await runApp('kernel', 'stack-to-stack', JSON.stringify(STACK_PAIRS[0]));
    expect(r.result, r.text).toMatchObject({ received: 10, fromSenderPort: true, 'localhost.to_kernel': 10, 'localhost.from_kernel': 10, 'udp.delivered': 0 });
  });

  it('a loopback address no stack socket is bound to goes to the kernel under both (127.0.0.5 vs a socket on 127.0.0.1)', async () => {
    const r = await runApp('both', 'stack-to-stack', JSON.stringify(['udp4', '127.0.0.1', '127.0.0.5']));
    // The kernel has nobody on 127.0.0.5 either: nothing arrives, and what left is counted as sent to the kernel.
    expect(r.result, r.text).toMatchObject({ received: 0, 'localhost.to_kernel': 10, 'localhost.from_kernel': 0, 'udp.delivered': 0 });
  });

  it('a port a kernel process holds: the companion takes an ephemeral one, warns once and counts it', async () => {
    const r = await runApp(undefined, 'port-taken');
    expect(r.result, r.text).toMatchObject({ stackPort: 47001, 'localhost.port_elsewhere': 1 });
    expect(r.result!.warnings, r.text).toEqual(['FFNET_LOCALHOST_PORT']);
  });

  it('connect() to a kernel peer sends through the kernel; to nobody, ECONNREFUSED as node:dgram reports it', async () => {
    const r = await runApp(undefined, 'connect');
    expect(r.result, r.text).toMatchObject({ remote: { address: '127.0.0.1', family: 'IPv4', port: 47002 }, received: 3,
      error: 'recvmsg ECONNREFUSED', 'localhost.to_kernel': 4 });
  });

  it('close frees the kernel port and emits close once; recvStop leaves datagrams unread', async () => {
    const r = await runApp(undefined, 'lifecycle');
    expect(r.result, r.text).toMatchObject({ closes: 1, kernelPortFree: true, heardAfterStop: 0, repliesAfterStop: 0 });
  });

  it('sendBatch() sends each datagram its own way: to the kernel agent or over the stack', async () => {
    const r = await runApp(undefined, 'batch');
    expect(r.result, r.text).toMatchObject({ callback: { err: null, sent: 5 }, kernelGot: ['k0', 'k1', 'k2'], stackGot: ['s0', 's1'],
      'localhost.to_kernel': 3, 'localhost.send_errors': 0 });
  });

  it('receiveBlockList drops blocked kernel sources as it drops the stack\'s', async () => {
    const r = await runApp(undefined, 'blocklist');
    const blocks = SUPPORTS_BLOCK_LISTS;
    expect(r.result, r.text).toMatchObject({ replies: blocks ? [0, 2] : [2, 2], 'localhost.from_kernel': 4 });
    expect(r.result!.seen, r.text).toEqual(blocks ? ['::ffff:127.0.0.1', '::ffff:127.0.0.1'] : ['::1', '::1', '::ffff:127.0.0.1', '::ffff:127.0.0.1']);
  });

  it('under localhost = stack a wildcard socket has no kernel side: kernel clients get no answer', async () => {
    const r = await runApp('stack', 'blocklist');
    expect(r.result, r.text).toMatchObject({ replies: [0, 0], 'localhost.from_kernel': 0, 'localhost.to_kernel': 0 });
  });

  it('an unref\'d socket with a kernel companion lets the process exit', async () => {
    const started = Date.now();
    const r = await runApp(undefined, 'unref');
    expect(r.result, r.text).toMatchObject({ exited: true, heard: 1, replies: 1, 'localhost.from_kernel': 1, 'localhost.to_kernel': 1 });
    expect(r.code, r.text).toBe(0);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
  });
});
