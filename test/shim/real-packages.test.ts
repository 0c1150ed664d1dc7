/**
 * Real npm packages, unmodified, on the stack under `ffnet/register`, with the Linux kernel as their
 * peer over net_tap: the kernel side of ff0 (10.77.0.1/24) in a namespace this suite creates, the stack
 * (10.77.0.2/24 on port0) started by the program itself from FFNET_CONFIG when it first asks for
 * `os.networkInterfaces()`.
 *
 * One program (stack-app.mjs, `node --import ffnet/register`) runs on the stack:
 * - reads `os.networkInterfaces()` through the default import, the named import and `require('os')`:
 *   the kernel's `lo` and the stack's `port0` (IPv4, and its IPv6 link-local address with scope id 1);
 * - calls `addMembership(group)` without an interface on a stack without a gateway: `addMembership
 *   ENODEV` for 239.1.2.3, exactly as node:dgram says on the kernel side of the same namespace (no
 *   default route), and joined for ff02::fb (the port has IPv6, ff0 too); a stack whose port has IPv6
 *   off says ENODEV for ff02::fb as well, as the kernel of a namespace with lo alone;
 * - multicast-dns (joins 224.0.0.251 on the first IPv4 address of every listed interface) answers the
 *   kernel's multicast-dns queries: 10 of 10, having joined with no warning on `lo` and the port (once
 *   `ffnet route` gives the stack a route to 224.0.0.0/4: its answers, from IP_MULTICAST_IF 0.0.0.0,
 *   need one as on Linux);
 * - a dns2 UDP server answers `dig @10.77.0.2 -p 5300` run in the namespace;
 * - a node-osc Server receives the OSC messages of a node-osc Client on the kernel side, and a node-osc
 *   Client on the stack sends OSC messages to a node-osc Server on the kernel side.
 * A second program checks the fallback: a stack that cannot start leaves the kernel's list, with one
 * warning; without FFNET_CONFIG the kernel's list is returned unchanged.
 *
 * The packages are found as an installed program finds them: the programs live in a temporary directory
 * whose node_modules holds symlinks to ffnet and to the packages. Every wait and every child is bounded.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot, stopChild } from '../../testbed/netns.js';
import { REPO, removeEalRuntime } from './scenarios.js';

const STACK_IP = '10.77.0.2';
const KERNEL_IP = '10.77.0.1';
const IFACE = 'ff0';
const MDNS_NAME = 'ffnet-test.local';
const DNS_PORT = 5300;
const OSC_STACK_PORT = 9000;
const OSC_KERNEL_PORT = 9001;
const OSC_COUNT = 5;
const PACKAGES = ['multicast-dns', 'dns2', 'node-osc'];

/** The program on the stack: prints `TAG json` lines, takes commands on stdin. */
const STACK_APP = `
import os, { networkInterfaces } from 'node:os';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import makeMdns from 'multicast-dns';
import { Client as OscClient, Server as OscServer } from 'node-osc';

const require = createRequire(import.meta.url);
const dns2 = require('dns2');
const say = (tag, value) => console.log(tag + ' ' + JSON.stringify(value));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The stack starts on the first call; its port is listed once its link is up (bounded wait).
let ifaces = os.networkInterfaces();
for (const deadline = Date.now() + 15000; !ifaces.port0 && Date.now() < deadline; ifaces = os.networkInterfaces()) await sleep(100);
say('IFACES', { esmDefault: ifaces, esmNamed: networkInterfaces(), cjs: require('os').networkInterfaces(), cjsNode: require('node:os').networkInterfaces() });

// Memberships without an interface: the route to the group decides (no gateway here).
say('MEMBERSHIP', await require('./membership.cjs').memberships());

const portAddress = ifaces.port0.find((i) => i.family === 'IPv4').address;
const mdns = makeMdns();
const mdnsWarnings = [];
let mdnsInterfaceEvents = 0;
mdns.on('warning', (e) => mdnsWarnings.push(String(e && e.message)));
mdns.on('networkInterface', () => mdnsInterfaceEvents++);
mdns.on('query', (q) => {
  if (q.questions.some((x) => x.name === '${MDNS_NAME}')) {
    mdns.respond({ answers: [{ name: '${MDNS_NAME}', type: 'A', ttl: 120, data: portAddress }] });
  }
});
await once(mdns, 'ready');

const dnsServer = dns2.createServer({
  udp: true,
  handle: (request, send) => {
    const response = dns2.Packet.createResponseFromRequest(request);
    const [q] = request.questions;
    response.answers.push({ name: q.name, type: dns2.Packet.TYPE.A, class: dns2.Packet.CLASS.IN, ttl: 60, address: '192.0.2.7' });
    send(response);
  },
});
const dnsAddresses = await dnsServer.listen({ udp: { port: ${DNS_PORT}, address: '0.0.0.0' } });

const osc = new OscServer(${OSC_STACK_PORT}, '0.0.0.0');
await once(osc, 'listening');
osc.on('message', (msg, rinfo) => say('OSC_IN', { msg, from: rinfo.address }));

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const [cmd, host, port, count] = line.trim().split(' ');
  if (cmd === 'osc-send') {
    const client = new OscClient(host, Number(port));
    for (let i = 0; i < Number(count); i++) {
      await client.send('/ffnet/out', i, 'from-stack');
      await sleep(20);
    }
    await client.close();
    say('OSC_SENT', Number(count));
  } else if (cmd === 'quit') {
    say('MDNS_WARNINGS', mdnsWarnings);
    mdns.destroy();
    osc.close();
    await dnsServer.close();
    rl.close();
    say('BYE', true);
    process.exit(0);
  }
});
say('READY', { mdnsWarnings, mdnsInterfaceEvents, dns: dnsAddresses.udp });
`;

/** multicast-dns on the kernel side: 10 queries for MDNS_NAME, each answered within 1 s or not. */
const KERNEL_MDNS = `
const mdns = require('multicast-dns')({ interface: process.argv[2], bind: '0.0.0.0', loopback: false });
let waiting = null;
mdns.on('error', (e) => { console.error(String(e)); process.exit(2); });
mdns.on('response', (res, rinfo) => {
  const a = res.answers.find((x) => x.name === '${MDNS_NAME}' && x.type === 'A');
  if (a && waiting) { const w = waiting; waiting = null; w({ data: a.data, from: rinfo.address }); }
});
mdns.on('ready', async () => {
  const results = [];
  for (let i = 0; i < 10; i++) {
    results.push(await new Promise((resolve) => {
      waiting = resolve;
      setTimeout(() => { if (waiting === resolve) { waiting = null; resolve(null); } }, 1000);
      mdns.query({ questions: [{ name: '${MDNS_NAME}', type: 'A' }] });
    }));
  }
  console.log('RESULT ' + JSON.stringify(results));
  mdns.destroy();
});
`;

/** node-osc on the kernel side: `send HOST PORT COUNT` or `listen HOST PORT COUNT` (10 s at most). */
const KERNEL_OSC = `
import { once } from 'node:events';
import { Client, Server } from 'node-osc';
const [mode, host, port, count] = process.argv.slice(2);
if (mode === 'send') {
  const client = new Client(host, Number(port));
  for (let i = 0; i < Number(count); i++) {
    await client.send('/ffnet/in', i, 'from-kernel');
    await new Promise((r) => setTimeout(r, 20));
  }
  await client.close();
  console.log('RESULT ' + JSON.stringify({ sent: Number(count) }));
} else {
  const server = new Server(Number(port), host);
  await once(server, 'listening');
  console.log('LISTENING');
  const got = [];
  const done = () => { clearTimeout(timer); console.log('RESULT ' + JSON.stringify(got)); server.close(); };
  const timer = setTimeout(done, 10000);
  server.on('message', (msg, rinfo) => { got.push({ msg, from: rinfo.address }); if (got.length === Number(count)) done(); });
}
`;

/**
 * addMembership without an interface, udp4 (239.1.2.3) and udp6 (ff02::fb): what node:dgram says on the
 * kernel (run plainly) and what ffnet says on a stack (required by the stack program, or run under the hook).
 */
const MEMBERSHIP = `
const dgram = require('node:dgram');
function join(type, group) {
  return new Promise((resolve) => {
    const s = dgram.createSocket(type);
    s.bind(0, () => {
      let r;
      try { s.addMembership(group); r = { joined: true }; }
      catch (e) { r = { code: e.code, message: e.message, syscall: e.syscall }; }
      s.close();
      resolve(r);
    });
  });
}
async function memberships() {
  return { v4: await join('udp4', '239.1.2.3'), v6: await join('udp6', 'ff02::fb') };
}
module.exports = { memberships };
if (require.main === module) memberships().then((r) => console.log('RESULT ' + JSON.stringify(r)));
`;

/** os.networkInterfaces() twice, and the warnings the process got. */
const FALLBACK_APP = `
import os from 'node:os';
const warnings = [];
process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
const first = Object.keys(os.networkInterfaces());
const second = Object.keys(os.networkInterfaces());
setImmediate(() => console.log('RESULT ' + JSON.stringify({ first, second, warnings })));
`;

let ns: Netns;
let dir: string;
let configPath: string;
let app: ChildProcess | undefined;
const appLines: string[] = [];
let appStderr = '';

/** The JSON of the first `TAG json` line of the stack program's output that satisfies `accept`, waiting up to `timeoutMs`. */
async function appLine<T>(tag: string, timeoutMs: number, accept: (v: T) => boolean = () => true): Promise<T> {
  const find = (): T | undefined => {
    for (const line of appLines) {
      if (!line.startsWith(`${tag} `)) continue;
      const v = JSON.parse(line.slice(tag.length + 1)) as T;
      if (accept(v)) return v;
    }
    return undefined;
  };
  await ns.waitFor(async () => find() !== undefined, `${tag} from the program on the stack\nstdout:\n${appLines.join('\n').slice(-3000)}\nstderr:\n${appStderr.slice(-3000)}`, timeoutMs, 50);
  return find() as T;
}

/** `node <args>` in the namespace from the programs' directory, bounded; the parsed RESULT line. */
async function runNode<T>(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<T> {
  const envArgs = ['-u', 'NODE_OPTIONS', '-u', 'FFNET_CONFIG', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
  const r = await ns.exec('env', ['-C', dir, ...envArgs, process.execPath, ...args], { timeoutMs });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`node ${args.join(' ')}: no RESULT (exit ${r.code})\nstdout:\n${r.stdout.slice(-2000)}\nstderr:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as T;
}

/**
 * Writes an ffnet.ini for a stack at STACK_IP/24 on port0: a net_tap device (kernel interface `iface`,
 * default ff0) when `withDevice`, none otherwise (the stack then cannot start); `port`: more [port0] keys.
 */
function stackConfig(name: string, withDevice: boolean, opts: { iface?: string; port?: string } = {}): string {
  const prefix = `ffnet-realpkg-${name}-${process.pid}`;
  const file = join(dir, `${prefix}.ini`);
  const vdev = withDevice ? `vdev = net_tap0,iface=${opts.iface ?? IFACE}\n` : '';
  writeFileSync(file, `[dpdk]\nfile_prefix = ${prefix}\nlcore_mask = 0x1\n${vdev}\n[port0]\naddr = ${STACK_IP}\nnetmask = 255.255.255.0\n${opts.port ?? ''}`);
  return file;
}

describe('real packages on the stack under ffnet/register, the kernel as peer (net_tap)', () => {
  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create('real-packages');
    dir = mkdtempSync(join(tmpdir(), 'ffnet-real-packages-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(REPO, join(dir, 'node_modules', 'ffnet'), 'dir');
    for (const p of PACKAGES) symlinkSync(join(REPO, 'node_modules', p), join(dir, 'node_modules', p), 'dir');
    writeFileSync(join(dir, 'stack-app.mjs'), STACK_APP);
    writeFileSync(join(dir, 'kernel-mdns.cjs'), KERNEL_MDNS);
    writeFileSync(join(dir, 'kernel-osc.mjs'), KERNEL_OSC);
    writeFileSync(join(dir, 'membership.cjs'), MEMBERSHIP);
    writeFileSync(join(dir, 'fallback.mjs'), FALLBACK_APP);
    configPath = stackConfig('app', true);

    app = ns.spawn('env', ['-C', dir, '-u', 'NODE_OPTIONS', `FFNET_CONFIG=${configPath}`, process.execPath, '--import', 'ffnet/register', 'stack-app.mjs']);
    let partial = '';
    app.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      appLines.push(...parts);
    });
    app.stderr?.setEncoding('utf8').on('data', (d: string) => (appStderr += d));
    // The stack makes ff0 when it starts; the kernel's end gets its address then.
    await ns.waitFor(async () => (await ns.exec('ip', ['link', 'show', IFACE])).code === 0, `${IFACE} (the stack's tap)`, 30_000, 100);
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', IFACE]);
    await ns.execOk('ip', ['link', 'set', IFACE, 'up']);
    await appLine('READY', 30_000);
  }, 90_000);

  afterAll(async () => {
    if (app && app.exitCode === null) {
      app.stdin?.write('quit\n');
      await Promise.race([once(app, 'exit'), new Promise((r) => setTimeout(r, 5_000))]);
      await stopChild(app, 2_000);
    }
    await ns?.destroy();
    if (configPath) removeEalRuntime(configPath);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("os.networkInterfaces() lists the kernel's lo and the stack's port, the same through every import", async () => {
    type Lists = Record<'esmDefault' | 'esmNamed' | 'cjs' | 'cjsNode', Record<string, NetworkInterfaceInfo[]>>;
    const lists = await appLine<Lists>('IFACES', 1_000);
    const { esmDefault } = lists;
    expect(Object.keys(esmDefault).sort()).toEqual(['lo', 'port0']);
    for (const other of [lists.esmNamed, lists.cjs, lists.cjsNode]) expect(Object.keys(other).sort()).toEqual(['lo', 'port0']);
    expect(esmDefault.lo?.every((i) => i.internal)).toBe(true);
    expect(esmDefault.lo?.map((i) => i.address)).toContain('127.0.0.1');
    const port = esmDefault.port0 ?? [];
    const mac = port[0]?.mac ?? '';
    expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(port[0]).toEqual({ address: STACK_IP, netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: `${STACK_IP}/24` });
    const v6 = port.filter((i) => i.family === 'IPv6');
    expect(v6.length).toBeGreaterThanOrEqual(1);
    expect(v6[0]).toMatchObject({ netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac, internal: false, scopeid: 1 });
    expect(v6[0]?.address).toMatch(/^fe80::/);
    expect(v6[0]?.cidr).toBe(`${v6[0]?.address}/64`);
  });

  it('addMembership(group) without an interface: IPv4 ENODEV without a route to the group, IPv6 on the port with IPv6, as node:dgram on the kernel', async () => {
    const enodev = { code: 'ENODEV', message: 'addMembership ENODEV', syscall: 'addMembership' };
    const onStack = await appLine<Record<string, unknown>>('MEMBERSHIP', 1_000);
    // The kernel of the same namespace: no default route; ff0 has IPv6, hence a route to ff00::/8.
    const onKernel = await runNode<Record<string, unknown>>(['membership.cjs']);
    expect(onKernel).toEqual({ v4: enodev, v6: { joined: true } });
    expect(onStack).toEqual(onKernel);
  });

  it('addMembership(ff02::fb) without an interface fails with ENODEV on a stack whose port has IPv6 off, as on a kernel with lo alone', async () => {
    const enodev = { code: 'ENODEV', message: 'addMembership ENODEV', syscall: 'addMembership' };
    const config = stackConfig('ipv6-off', true, { iface: 'ff1', port: 'ipv6 = 0\n' });
    let onStack: Record<string, unknown>;
    try {
      onStack = await runNode<Record<string, unknown>>(['--import', 'ffnet/register', 'membership.cjs'], { FFNET_CONFIG: config }, 30_000);
    } finally {
      removeEalRuntime(config);
    }
    const bare = await Netns.create('real-packages-lo');
    let onKernel: Record<string, unknown>;
    try {
      await bare.execOk('ip', ['link', 'set', 'lo', 'up']);
      const r = await bare.exec('env', ['-C', dir, '-u', 'NODE_OPTIONS', process.execPath, 'membership.cjs'], { timeoutMs: 20_000 });
      onKernel = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('RESULT '))?.slice(7) ?? 'null') as Record<string, unknown>;
    } finally {
      await bare.destroy();
    }
    expect(onKernel).toEqual({ v4: enodev, v6: enodev });
    expect(onStack).toEqual(onKernel);
  });

  it("multicast-dns joins on every listed interface and answers 10 of 10 of the kernel's queries", async () => {
    const ready = await appLine<{ mdnsWarnings: string[]; mdnsInterfaceEvents: number }>('READY', 1_000);
    expect(ready.mdnsWarnings).toEqual([]);
    expect(ready.mdnsInterfaceEvents).toBeGreaterThanOrEqual(1);
    // multicast-dns answers with IP_MULTICAST_IF 0.0.0.0 (a non-internal interface is listed): as on
    // Linux, the group then needs a route (no gateway here: ENETUNREACH), given as a multicast host has one.
    await ns.execOk(process.execPath, [join(REPO, 'dist/tools/cli.js'), '-p', String(app?.pid), 'route', 'add', '224.0.0.0/4', KERNEL_IP]);
    const results = await runNode<Array<{ data: string; from: string } | null>>(['kernel-mdns.cjs', KERNEL_IP], {}, 30_000);
    expect(results).toHaveLength(10);
    expect(results.filter((r) => r?.data === STACK_IP && r.from === STACK_IP)).toHaveLength(10);
  });

  it('a dns2 UDP server on the stack answers dig in the kernel namespace', async () => {
    for (const name of ['one.example.test', 'two.example.test', 'three.example.test']) {
      const out = await ns.execOk('dig', [`@${STACK_IP}`, '-p', String(DNS_PORT), '+tries=1', '+time=2', name, 'A'], { timeoutMs: 10_000 });
      expect(out).toMatch(/status: NOERROR/);
      expect(out).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}\\.\\s+60\\s+IN\\s+A\\s+192\\.0\\.2\\.7$`, 'm'));
    }
  });

  it('a node-osc Server on the stack receives the kernel\'s OSC messages', async () => {
    const sent = await runNode<{ sent: number }>(['kernel-osc.mjs', 'send', STACK_IP, String(OSC_STACK_PORT), String(OSC_COUNT)]);
    expect(sent.sent).toBe(OSC_COUNT);
    type OscIn = { msg: unknown[]; from: string };
    await appLine<OscIn>('OSC_IN', 5_000, (m) => m.msg[1] === OSC_COUNT - 1);
    const got = appLines.filter((l) => l.startsWith('OSC_IN ')).map((l) => JSON.parse(l.slice(7)) as OscIn);
    expect(got).toEqual(Array.from({ length: OSC_COUNT }, (_, i) => ({ msg: ['/ffnet/in', i, 'from-kernel'], from: KERNEL_IP })));
  });

  it('a node-osc Client on the stack reaches a node-osc Server on the kernel side', async () => {
    const listener = ns.spawn('env', ['-C', dir, '-u', 'NODE_OPTIONS', '-u', 'FFNET_CONFIG', process.execPath, 'kernel-osc.mjs', 'listen', KERNEL_IP, String(OSC_KERNEL_PORT), String(OSC_COUNT)]);
    let out = '';
    listener.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await ns.waitFor(async () => out.includes('LISTENING'), 'the kernel-side OSC server', 10_000);
      app?.stdin?.write(`osc-send ${KERNEL_IP} ${OSC_KERNEL_PORT} ${OSC_COUNT}\n`);
      await appLine('OSC_SENT', 10_000);
      await ns.waitFor(async () => out.includes('RESULT '), 'the kernel-side OSC server to report', 12_000);
    } finally {
      await stopChild(listener, 2_000);
    }
    const line = out.split('\n').find((l) => l.startsWith('RESULT ')) ?? 'RESULT []';
    expect(JSON.parse(line.slice(7))).toEqual(Array.from({ length: OSC_COUNT }, (_, i) => ({ msg: ['/ffnet/out', i, 'from-stack'], from: STACK_IP })));
  });

  it("falls back to the kernel's list, warning once, when the stack cannot start; unchanged without FFNET_CONFIG", async () => {
    type Fallback = { first: string[]; second: string[]; warnings: Array<{ code: string; message: string }> };
    const broken = stackConfig('broken', false);
    const failed = await runNode<Fallback>(['--import', 'ffnet/register', 'fallback.mjs'], { FFNET_CONFIG: broken });
    removeEalRuntime(broken);
    const kernel = await runNode<Fallback>(['fallback.mjs']);
    expect(failed.first).toEqual(kernel.first);
    expect(failed.second).toEqual(kernel.first);
    // Node 22.12 adds its ExperimentalWarning for require() of an ES module (ffnet's, loaded on demand).
    const ours = failed.warnings.filter((w) => w.code?.startsWith('FFNET_'));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.code).toBe('FFNET_INTERFACES_KERNEL');
    expect(ours[0]?.message).toMatch(/^os\.networkInterfaces\(\): the ffnet stack did not start/);
    const withoutConfig = await runNode<Fallback>(['--import', 'ffnet/register', 'fallback.mjs']);
    expect(withoutConfig).toEqual({ first: kernel.first, second: kernel.first, warnings: [] });
  });
});
