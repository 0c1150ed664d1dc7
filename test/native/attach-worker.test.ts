/**
 * Worker threads attached to the process's one stack (native/addon.cc attachStack): a stack with two
 * inline lcores and no port, started by the main thread of a child program; a worker attaches, takes
 * lcore 1 and turns it from its own event loop, and keeps its sockets to itself. The same with one
 * data-path lcore, where the worker only gets its own context.
 *
 * Cases: the worker's socket used from the main thread throws ERR_FFNET_WRONG_THREAD while datagrams
 * flow both ways between the threads; a second worker asking for the taken lcore gets
 * ERR_FFNET_LCORE_BUSY; a worker that ends (naturally, by process.exit, or terminated by the main
 * thread) with a datagram unread
 * leaves no socket behind (its fd is gone), the packet pool returns to its baseline and the stack keeps serving the main
 * thread; the main thread closing its handle while a worker is attached leaves the stack running
 * for the worker until the worker closes the last handle.
 */
import { describe, expect, it } from 'vitest';
import { describeApp, runApp } from '../stack/node-app.js';

/** The child's shared part: the addon and a stack of two inline lcores started from the loopback-only ffnet.ini. */
const PRELUDE = String.raw`
import { Worker } from 'node:worker_threads';
const NATIVE = new URL('./native/index.js', '@FFNET@').href;
const { loadConfigFile, toNativeConfig } = await import(new URL('./config/index.js', '@FFNET@').href);
const { loadAddon } = await import(NATIVE);
const addon = loadAddon();
const P = addon.posix;
const K = P.constants;
const native = { ...toNativeConfig(loadConfigFile(process.env.FFNET_CONFIG), { processName: 'ffnet' }), inlineLcores: 2, configJson: '{"loop":"inline"}' };
const stack = addon.startStack(native, () => {});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const udp = (port) => {
  const fd = P.socket(K.AF_INET, K.SOCK_DGRAM, 0);
  if (fd < 0 || P.bind(fd, '127.0.0.1', port) < 0) throw new Error('socket/bind failed');
  return fd;
};
const send = (fd, text, port) => P.sendto(fd, Buffer.from(text), 0, '127.0.0.1', port);
async function recvOne(fd, ms = 3000) {
  const buf = new Uint8Array(2048);
  for (const end = Date.now() + ms; Date.now() < end; await sleep(1)) {
    const r = P.recvfrom(fd, buf, K.MSG_DONTWAIT);
    if (Array.isArray(r)) return Buffer.from(buf.subarray(0, r[0])).toString();
  }
  return null;
}
async function poolSettlesAt(want) {
  let now;
  for (const end = Date.now() + 3000; (now = stack.mempoolInUse()) !== want && Date.now() < end; ) await sleep(5);
  return now;
}
/** The worker's program (CommonJS, eval): one of the modes below, by workerData.mode. */
const WORKER = ` + '`' + String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const { loadAddon } = await import(workerData.native);
  const addon = loadAddon();
  const P = addon.posix;
  const K = P.constants;
  const post = (o) => parentPort.postMessage(o);
  const next = () => new Promise((r) => parentPort.once('message', r));
  let stack;
  try {
    stack = addon.attachStack(workerData.lcore === undefined ? {} : { lcore: workerData.lcore }, () => {});
  } catch (e) {
    post({ attachError: e.code ?? e.message });
    return;
  }
  const udp = (port) => {
    const fd = P.socket(K.AF_INET, K.SOCK_DGRAM, 0);
    if (fd < 0 || P.bind(fd, '127.0.0.1', port) < 0) throw new Error('socket/bind failed');
    return fd;
  };
  const recvOne = async (fd) => {
    const buf = new Uint8Array(2048);
    for (const end = Date.now() + 3000; Date.now() < end; await sleep(1)) {
      const r = P.recvfrom(fd, buf, K.MSG_DONTWAIT);
      if (Array.isArray(r)) return [Buffer.from(buf.subarray(0, r[0])).toString(), r[2]];
    }
    return [null, 0];
  };
  if (workerData.mode === 'echo') {
    const fd = udp(workerData.port);
    post({ fd, lcore: stack.lcore(), config: addon.runningConfig() });
    const [text, from] = await recvOne(fd);
    P.sendto(fd, Buffer.from('echo ' + text), 0, '127.0.0.1', from);
    post({ echoed: text });
    const how = await next();
    if (how === 'exit') process.exit(0);
    stack.unref(); /* the socket stays open: the thread's end closes it */
    parentPort.unref();
  } else if (workerData.mode === 'outlive') {
    const a = udp(workerData.port), b = udp(workerData.port + 1);
    post({ lcore: stack.lcore() });
    await next();
    const before = addon.runningConfig();
    P.sendto(a, Buffer.from('a to b'), 0, '127.0.0.1', workerData.port + 1);
    P.sendto(b, Buffer.from('b to a'), 0, '127.0.0.1', workerData.port);
    const got = [(await recvOne(b))[0], (await recvOne(a))[0]];
    stack.close();
    post({ before, got, after: addon.runningConfig() });
  }
})();
` + '`' + String.raw`;
const worker = (data) => {
  const w = new Worker(WORKER, { eval: true, workerData: { native: NATIVE, ...data } });
  const inbox = [];
  let wake = null;
  w.on('message', (m) => { inbox.push(m); wake?.(); });
  w.on('error', (e) => { inbox.push({ error: String(e) }); wake?.(); });
  const exited = new Promise((r) => w.once('exit', r));
  const next = async () => {
    for (const end = Date.now() + 5000; !inbox.length && Date.now() < end; ) await new Promise((r) => { wake = r; setTimeout(r, 50); });
    return inbox.shift() ?? { error: 'no message from the worker' };
  };
  return { w, next, exited };
};
`;

const MODES = [
  { name: '2 inline lcores', dpdk: { lcore_mask: '0x1' }, inline: true },
  { name: 'one data-path lcore', dpdk: { lcore_mask: '0x3', lcores: '0@(0-1),1@(0-1)' }, inline: false },
];
const CASES = MODES.flatMap((mode) => ['natural', 'exit', 'terminate'].map((how) => ({ mode, how })));

describe('attachStack and runningConfig', () => {
  it('answer null without a stack, refuse a second handle in one thread and a lcore the stack lacks', async () => {
    const r = await runApp('attach-args', String.raw`
const { loadConfigFile, toNativeConfig } = await import(new URL('./config/index.js', '@FFNET@').href);
const { loadAddon } = await import(new URL('./native/index.js', '@FFNET@').href);
const addon = loadAddon();
const before = { attach: addon.attachStack({}, () => {}), config: addon.runningConfig() };
const native = { ...toNativeConfig(loadConfigFile(process.env.FFNET_CONFIG), { processName: 'ffnet' }), inlineLcores: 2 };
const stack = addon.startStack(native, () => {});
const thrown = (f) => { try { f(); return null; } catch (e) { return { name: e.name, code: e.code, message: e.message }; } };
const again = thrown(() => addon.attachStack({}, () => {}));
// The configJson the stack was started with (toNativeConfig's).
const config = addon.runningConfig() === native.configJson;
stack.close();
const afterClose = { attach: addon.attachStack({}, () => {}), config: addon.runningConfig() };
const { Worker } = await import('node:worker_threads');
const stack2 = addon.startStack(native, () => {});
const range = await new Promise((resolve) => {
  const w = new Worker(String.raw` + '`' + String.raw`
const { parentPort, workerData } = require('node:worker_threads');
import(workerData).then(({ loadAddon }) => {
  try { loadAddon().attachStack({ lcore: 2 }, () => {}); parentPort.postMessage(null); }
  catch (e) { parentPort.postMessage({ name: e.name, message: e.message }); }
});` + '`' + String.raw`, { eval: true, workerData: new URL('./native/index.js', '@FFNET@').href });
  w.once('message', resolve);
});
stack2.close();
report({ before, again, config, afterClose, range });
addon.ealCleanup();
`);
    expect(r.code, describeApp(r)).toBe(0);
    expect(r.reports[0]).toEqual({
      before: { attach: null, config: null },
      again: { name: 'Error', message: 'this thread already has a handle on the stack (close it first)' },
      config: true,
      afterClose: { attach: null, config: null },
      range: { name: 'RangeError', message: 'lcore 2 is out of range (the stack has 2 lcores)' },
    });
  });
});

describe('a worker thread attached to the stack', () => {
  it.each(CASES)('($mode.name) keeps its socket to itself; its end ($how) closes the socket and the stack serves on', async ({ mode, how }) => {
    const r = await runApp(`attach-${how}`, PRELUDE + String.raw`
await sleep(50);
const baseline = stack.mempoolInUse();
const A = worker({ mode: 'echo', port: 7001 });
const ready = await A.next();
let wrong;
try {
  P.getsockname(ready.fd);
  wrong = { code: 'none' };
} catch (e) {
  wrong = { code: e.code, message: e.message };
}
const m = udp(7100);
send(m, 'ping', 7001);
const echo = await recvOne(m);
const echoed = await A.next();
const B = worker({ mode: 'echo', port: 7002, lcore: 1 });
const busy = await B.next();
await B.exited;
send(m, 'left unread', 7001);
const held = await poolSettlesAt(baseline + 1);
if ('${how}' === 'terminate') A.w.terminate();
else A.w.postMessage('${how}');
const code = await A.exited;
const fdAfter = P.getsockname(ready.fd);
P.close(m);
const pool = await poolSettlesAt(baseline);
const x = udp(7200), y = udp(7201);
send(x, 'after', 7201);
const served = await recvOne(y);
P.close(x);
P.close(y);
report({ ready, wrong, echo, echoed, busy, code, fdAfter, held, pool, baseline, served, lcore: stack.lcore() });
stack.close();
addon.ealCleanup();
`, { timeoutMs: 30_000, dpdk: mode.dpdk });
    expect(r.code, describeApp(r)).toBe(0);
    const rep = r.reports[0] as Record<string, any>;
    expect(rep, describeApp(r)).toBeDefined();
    // Inline: the worker turns lcore 1; one data-path lcore: every thread's sockets live on lcore 0.
    expect(rep.ready.lcore).toBe(mode.inline ? 1 : 0);
    expect(rep.lcore).toBe(0);
    expect(rep.ready.config).toBe('{"loop":"inline"}');
    expect(rep.wrong.code).toBe('ERR_FFNET_WRONG_THREAD');
    expect(rep.wrong.message).toBe(`socket ${rep.ready.fd} belongs to another thread (a socket is used only by the thread that created it)`);
    expect(rep.echoed).toEqual({ echoed: 'ping' });
    expect(rep.echo).toBe('echo ping');
    if (mode.inline) expect(rep.busy).toEqual({ attachError: 'ERR_FFNET_LCORE_BUSY' });
    else expect(rep.busy.attachError).toBe('lcore 1 is out of range (the stack has 1 lcores)');
    expect(rep.code).toBe(how === 'terminate' ? 1 : 0);
    expect(rep.fdAfter).toBe(-9); // EBADF: the worker's end closed its socket
    expect(rep.held).toBe(rep.baseline + 1); // the datagram the worker left unread
    expect(rep.pool).toBe(rep.baseline);
    expect(rep.served).toBe('after');
  });

  it('(2 inline lcores) the main thread closing its handle leaves the stack running until the attached worker closes the last one', async () => {
    const r = await runApp('attach-outlive', PRELUDE + String.raw`
const A = worker({ mode: 'outlive', port: 7300 });
const ready = await A.next();
stack.close();
const runningAfterMainClose = addon.runningConfig();
A.w.postMessage('go');
const done = await A.next();
await A.exited;
report({ ready, runningAfterMainClose, done, runningAtEnd: addon.runningConfig() });
addon.ealCleanup();
`, { timeoutMs: 30_000 });
    expect(r.code, describeApp(r)).toBe(0);
    const rep = r.reports[0] as Record<string, any>;
    expect(rep, describeApp(r)).toBeDefined();
    expect(rep.ready.lcore).toBe(1);
    expect(rep.runningAfterMainClose).toBe('{"loop":"inline"}');
    expect(rep.done).toEqual({ before: '{"loop":"inline"}', got: ['a to b', 'b to a'], after: null });
    expect(rep.runningAtEnd).toBeNull();
  });
});
