/**
 * ffnet/dgram's IP_PKTINFO extensions against the kernel: a server on ffnet/dgram bound to the
 * wildcard address of a stack with two ports (two net_tap devices in one namespace, 10.81.0.2/24 and
 * 10.82.0.2/24, the first also fd81::2/64 and fd81::3/64) learns the address each request was sent to
 * (`recvPktInfo: true`: `rinfo.localAddress` on 'message', `batch.localAddress(i)` on 'messages') and
 * answers from it (sendBatch's `from`). The kernel's clients check each reply's source, and tshark on
 * both kernel interfaces sees every reply leave from the address it answers. In the same program:
 * a socket without the option reports no localAddress, a `from` that is not the stack's fails as
 * Linux's sendmsg does (ENETUNREACH for IPv4, EINVAL for IPv6), and `from` is validated like
 * `address` (type, family).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot, stopChild } from '../../testbed/netns.js';
import { uniquePrefix } from '../stack/kernel-peer.js';
import { REPO, removeEalRuntime } from './scenarios.js';

const TAP0 = 'pk0';
const TAP1 = 'pk1';
const PORT4 = 7000;
const PORT6 = 7001;
const PORT_PLAIN = 7002;

/** The server: replies to each request, from the address it was sent to, with that address as payload. */
const APP = (dgramUrl: string): string => `
import dgram from ${JSON.stringify(dgramUrl)};
const report = (o) => process.stdout.write('@ ' + JSON.stringify(o) + '\\n');
const s4 = dgram.createSocket({ type: 'udp4', recvPktInfo: true });
s4.on('message', (msg, rinfo) => {
  s4.sendBatch([{ msg: String(rinfo.localAddress), port: rinfo.port, address: rinfo.address, from: rinfo.localAddress }]);
});
const s6 = dgram.createSocket({ type: 'udp6', recvPktInfo: true });
s6.on('messages', (batch) => {
  const replies = [];
  for (let i = 0; i < batch.count; i++) {
    const local = batch.localAddress(i);
    replies.push({ msg: String(local), port: batch.port(i), address: batch.address(i), from: local });
    if (batch.rinfo(i).localAddress !== local) report({ mismatch: [batch.rinfo(i).localAddress, local] });
  }
  s6.sendBatch(replies);
});
const plain = dgram.createSocket('udp4');
plain.on('message', (msg, rinfo) => plain.send(String('localAddress' in rinfo), rinfo.port, rinfo.address));
const checks = {};
const thrown = (f) => { try { f(); return 'none'; } catch (e) { return e.code; } };
checks.fromType = thrown(() => s4.sendBatch([{ msg: 'x', port: 9, address: '10.81.0.1', from: 123 }]));
checks.fromFamily = thrown(() => s4.sendBatch([{ msg: 'x', port: 9, address: '10.81.0.1', from: '::1' }]));
let bound = 0;
const ready = () => {
  if (++bound < 3) return;
  s4.sendBatch([{ msg: 'x', port: 9, address: '10.81.0.1', from: '10.81.0.99' }], (err4, sent4) => {
    checks.notOurs4 = [err4 && err4.code, sent4];
    s6.sendBatch([{ msg: 'x', port: 9, address: 'fd81::1', from: 'fd81::99' }], (err6, sent6) => {
      checks.notOurs6 = [err6 && err6.code, sent6];
      report({ ready: true, checks });
    });
  });
};
s4.bind(${PORT4}, ready);
s6.bind(${PORT6}, ready);
plain.bind(${PORT_PLAIN}, ready);
process.stdin.on('data', () => process.exit(0));
`;

/** The kernel's clients: one request to each address, the reply's source and payload printed. */
const CLIENT = `
import socket, sys, json
out = []
# The second request comes from 10.81.0.1 to port 1's address: the stack's route back leaves by port 0,
# whose own address would be the source without 'from'.
for fam, src, addr, port in [(socket.AF_INET, '', '10.81.0.2', ${PORT4}), (socket.AF_INET, '10.81.0.1', '10.82.0.2', ${PORT4}),
                             (socket.AF_INET6, '', 'fd81::2', ${PORT6}), (socket.AF_INET6, '', 'fd81::3', ${PORT6}),
                             (socket.AF_INET, '', '10.82.0.2', ${PORT_PLAIN})]:
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    s.settimeout(3)
    got = None
    for attempt in range(3):
        s.sendto(b'who', (addr, port))
        try:
            data, src = s.recvfrom(100)
            got = [src[0], data.decode()]
            break
        except socket.timeout:
            pass
    out.append([addr, port, got])
print(json.dumps(out))
`;

describe('ffnet/dgram recvPktInfo and sendBatch from', () => {
  let ns: Netns;
  let app: ChildProcess | undefined;
  let dir = '';
  let prefix = '';
  let appOut = '';
  let appErr = '';

  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create('dgram-pktinfo');
    dir = mkdtempSync(join(tmpdir(), 'ffnet-pktinfo-'));
    prefix = uniquePrefix('pktinfo');
    const ini = join(dir, 'ffnet.ini');
    writeFileSync(ini, [
      '[dpdk]', 'lcore_mask = 0x1', `file_prefix = ${prefix}`, `vdev[] = net_tap0,iface=${TAP0}`, `vdev[] = net_tap1,iface=${TAP1}`,
      '[port0]', 'addr = 10.81.0.2', 'netmask = 255.255.255.0', 'addr6[] = fd81::2/64', 'addr6[] = fd81::3/64',
      '[port1]', 'addr = 10.82.0.2', 'netmask = 255.255.255.0', '',
    ].join('\n'));
    const file = join(dir, 'app.mjs');
    writeFileSync(file, APP(pathToFileURL(join(REPO, 'dist/shim/dgram.js')).href));
    app = ns.spawn('env', ['-u', 'NODE_OPTIONS', `FFNET_CONFIG=${ini}`, process.execPath, file], { stdio: ['pipe', 'pipe', 'pipe'] });
    app.stdout?.setEncoding('utf8').on('data', (d: string) => (appOut += d));
    app.stderr?.setEncoding('utf8').on('data', (d: string) => (appErr += d));
    for (const tap of [TAP0, TAP1]) {
      await ns.waitFor(async () => (await ns.exec('ip', ['link', 'show', tap])).code === 0, `${tap} to exist (app stderr: ${appErr})`, 30_000, 100);
      await ns.execOk('ip', ['link', 'set', tap, 'up']);
    }
    await ns.execOk('ip', ['addr', 'add', '10.81.0.1/24', 'dev', TAP0]);
    await ns.execOk('ip', ['addr', 'add', 'fd81::1/64', 'dev', TAP0, 'nodad']);
    await ns.execOk('ip', ['addr', 'add', '10.82.0.1/24', 'dev', TAP1]);
    // Replies to 10.81.0.1 from 10.82.0.2 arrive by pk0: no reverse-path filter in this namespace.
    for (const key of ['all', 'default', TAP0, TAP1]) await ns.execOk('sysctl', ['-qw', `net.ipv4.conf.${key}.rp_filter=0`]);
    await ns.waitFor(async () => /"ready":true/.test(appOut), `the app to be ready (stdout: ${appOut}; stderr: ${appErr})`, 30_000, 100);
  }, 90_000);

  afterAll(async () => {
    if (app) {
      app.stdin?.write('exit\n');
      await stopChild(app, 5_000);
    }
    if (prefix) removeEalRuntime(prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
    await ns?.destroy();
  });

  function readyReport(): Record<string, unknown> {
    const line = appOut.split('\n').find((l) => l.startsWith('@ ') && l.includes('"ready":true')) ?? '@ {}';
    return JSON.parse(line.slice(2)) as Record<string, unknown>;
  }

  it('answers each client from the address it asked, seen by the client and by tshark on both kernel interfaces', async () => {
    // The capture filter first: dumpcap applies it to every interface named after it.
    const tshark = ns.spawn('tshark', ['-f', `udp src port ${PORT4} or udp src port ${PORT6}`, '-i', TAP0, '-i', TAP1, '-l', '-n',
      '-T', 'fields', '-E', 'separator=;', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'data.text',
      '-o', 'data.show_as_text:TRUE']);
    let out = '';
    let err = '';
    tshark.stdout?.setEncoding('utf8').on('data', (x: string) => (out += x));
    tshark.stderr?.setEncoding('utf8').on('data', (x: string) => (err += x));
    try {
      await ns.waitFor(async () => /Capture started|Capturing on/.test(err), `tshark to start (stderr: ${err})`, 15_000, 100);
      await new Promise((r) => setTimeout(r, 1_000));
      const replies = JSON.parse(await ns.execOk('python3', ['-c', CLIENT], { timeoutMs: 30_000 })) as Array<[string, number, [string, string] | null]>;
      expect(replies).toEqual([
        ['10.81.0.2', PORT4, ['10.81.0.2', '10.81.0.2']],
        ['10.82.0.2', PORT4, ['10.82.0.2', '10.82.0.2']],
        ['fd81::2', PORT6, ['fd81::2', 'fd81::2']],
        ['fd81::3', PORT6, ['fd81::3', 'fd81::3']],
        // A socket without recvPktInfo: node:dgram's rinfo, no localAddress.
        ['10.82.0.2', PORT_PLAIN, ['10.82.0.2', 'false']],
      ]);
      const sources = (): string[] => out.split('\n').filter((l) => l.trim()).map((l) => l.split(';').slice(0, 2).join('').trim());
      await ns.waitFor(async () => sources().length >= 4, `tshark to see 4 replies; it printed:\n${out}`, 10_000, 100);
      expect(sources().sort()).toEqual(['10.81.0.2', '10.82.0.2', 'fd81::2', 'fd81::3']);
    } finally {
      tshark.kill('SIGINT');
      await stopChild(tshark, 3_000);
    }
    expect(appOut).not.toMatch(/mismatch/);
  }, 60_000);

  it('refuses a source that is not the stack\'s as Linux does, and validates from like address', () => {
    const { checks } = readyReport() as { checks: Record<string, unknown> };
    expect(checks).toEqual({
      fromType: 'ERR_INVALID_ARG_TYPE',
      fromFamily: 'ERR_INVALID_ARG_VALUE',
      notOurs4: ['ENETUNREACH', 0],
      notOurs6: ['EINVAL', 0],
    });
  });
});
