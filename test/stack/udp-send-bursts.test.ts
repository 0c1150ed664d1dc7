/**
 * Sends gathered per turn of the event loop, in inline mode, against the Linux kernel over net_tap:
 * a synchronous run of sends (ffnet/dgram `send`, `sendBatch`, ffnet/posix `ff_sendto`) leaves in
 * full transmit bursts (eth.tx_bursts against eth.tx) and arrives whole at a kernel socket, and a
 * lone send leaves at the microtask checkpoint of the callback that made it — before a later
 * microtask blocks the thread — rather than at the stack's next turn. Each run is a child Node
 * process in a namespace of this suite, the kernel's socket in a worker thread of the same child.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { runChild } from './child-stack.js';
import { uniquePrefix } from './kernel-peer.js';

let ns: Netns;
const dir = mkdtempSync(join(tmpdir(), 'ffnet-send-bursts-'));

beforeAll(async () => {
  requireRoot();
  ns = await Netns.create('send-bursts');
});
afterAll(async () => {
  await ns?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** An inline stack on net_tap0 (ff0) at 10.77.0.2/24; returns the ffnet.ini's path. */
function ini(prefix: string): string {
  const file = join(dir, `${prefix}.ini`);
  writeFileSync(file, `[dpdk]\nfile_prefix = ${prefix}\nlcore_mask = 0x1\nvdev[] = net_tap0,iface=ff0\n`
    + '[port0]\naddr = 10.77.0.2\nnetmask = 255.255.255.0\n');
  return file;
}

/**
 * The child's common part: the stack up, the kernel's side of ff0 at 10.77.0.1 with a permanent
 * neighbour entry for it (no ARP hold queue in the way), and `kernel`, a node:dgram socket in a
 * worker thread that reports each datagram's length and arrival time (Date.now()).
 */
const SETUP = `
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Stack } from 'ffnet';
import dgram from 'ffnet/dgram';
import { constants as K, ff_socket, ff_bind, ff_sendto, ff_close } from 'ffnet/posix';
const stack = Stack.startSync();
execFileSync('ip', ['link', 'set', 'ff0', 'up']);
execFileSync('ip', ['addr', 'add', '10.77.0.1/24', 'dev', 'ff0']);
stack.addNeighbour(0, '10.77.0.1', readFileSync('/sys/class/net/ff0/address', 'utf8').trim());
const kernel = new Worker(\`
  const { parentPort } = require('node:worker_threads');
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m) => parentPort.postMessage({ len: m.length, at: Date.now() }));
  s.bind(9999, '10.77.0.1', () => parentPort.postMessage('ready'));
\`, { eval: true });
await new Promise((r) => kernel.once('message', r));
const arrivals = [];
kernel.on('message', (m) => arrivals.push(m));
const tx = () => { const c = stack.stats().counters; return { frames: c['eth.tx'], bursts: c['eth.tx_bursts'] }; };
const arrived = async (n) => { for (let i = 0; i < 300 && arrivals.length < n; i++) await new Promise((r) => setTimeout(r, 10)); return arrivals.length; };
const s = dgram.createSocket('udp4');
await new Promise((r) => s.bind(0, '10.77.0.2', r));
await new Promise((r) => setTimeout(r, 100));
`;

const END = `
s.close();
await kernel.terminate();
stack.close();
`;

const RUN = 128;

describe('sends in inline mode, to the kernel over net_tap', () => {
  it('a run of sends in one callback leaves in full bursts, every datagram delivered', async () => {
    const prefix = uniquePrefix('send-bursts');
    const body = `${SETUP}
const result = {};
for (const [name, send] of [
  ['send', (buf) => { for (let i = 0; i < ${RUN}; i++) s.send(buf, 9999, '10.77.0.1'); }],
  ['sendBatch', (buf) => s.sendBatch(Array.from({ length: ${RUN} }, () => ({ msg: buf, port: 9999, address: '10.77.0.1' })))],
  ['ff_sendto', (buf) => {
    const fd = ff_socket(K.AF_INET, K.SOCK_DGRAM, 0);
    ff_bind(fd, { address: '10.77.0.2', port: 7001 });
    for (let i = 0; i < ${RUN}; i++) ff_sendto(fd, buf, 0, { address: '10.77.0.1', port: 9999 });
    ff_close(fd);
  }],
]) {
  arrivals.length = 0;
  const before = tx();
  await new Promise((resolve) => setImmediate(() => { send(Buffer.alloc(64, 7)); resolve(); }));
  const got = await arrived(${RUN});
  const after = tx();
  result[name] = { frames: after.frames - before.frames, bursts: after.bursts - before.bursts, arrived: got,
    lengths: [...new Set(arrivals.map((a) => a.len))] };
}
report(result);
${END}`;
    const r = await runChild<Record<string, { frames: number; bursts: number; arrived: number; lengths: number[] }>>(ns, body,
      { env: { FFNET_CONFIG: ini(prefix) }, prefixes: [prefix], timeoutMs: 60_000 });
    expect(r.report, `${r.stdout}\n${r.stderr}`).toBeDefined();
    for (const [name, got] of Object.entries(r.report ?? {})) {
      expect({ name, ...got }).toMatchObject({ name, frames: RUN, arrived: RUN, lengths: [64] });
      // 32-frame bursts (FFS_BURST), and at most a partial one at each end of the run.
      expect(got.bursts, name).toBeLessThanOrEqual(RUN / 32 + 2);
    }
  });

  it('a lone send leaves at its callback\'s microtask checkpoint, not at the next turn of the stack', async () => {
    const prefix = uniquePrefix('send-lone');
    const body = `${SETUP}
s.connect(9999, '10.77.0.1');
await new Promise((r) => s.once('connect', r));
const times = [];
for (let i = 0; i < 5; i++) {
  arrivals.length = 0;
  let sentAt = 0;
  await new Promise((resolve) => setTimeout(() => {
    s.send(Buffer.alloc(32, i));
    sentAt = Date.now();
    // Queued after the send's own microtask: the thread is held before any later turn of the loop.
    queueMicrotask(() => { const t = Date.now(); while (Date.now() - t < 400); resolve(); });
  }, 20));
  await arrived(1);
  times.push(arrivals.length ? arrivals[0].at - sentAt : -1);
}
report({ times });
${END}`;
    const r = await runChild<{ times: number[] }>(ns, body, { env: { FFNET_CONFIG: ini(prefix) }, prefixes: [prefix], timeoutMs: 60_000 });
    expect(r.report, `${r.stdout}\n${r.stderr}`).toBeDefined();
    const times = r.report?.times ?? [];
    expect(times).toHaveLength(5);
    // Every datagram arrived, and well before the 400 ms the thread was held after the send.
    for (const t of times) expect(t).toBeGreaterThanOrEqual(0);
    expect(Math.min(...times)).toBeLessThan(200);
    expect(times.filter((t) => t < 200).length).toBeGreaterThanOrEqual(4);
  });
});
