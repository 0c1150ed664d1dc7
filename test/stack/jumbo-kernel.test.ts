/**
 * Jumbo frames (MTU 9000) between the stack and the Linux kernel, in each lcore mode. The stack's
 * port is a net_pcap device on one end of a veth pair (ffs0) in a private namespace; the kernel has
 * the other end (ff0) at 10.77.0.1/24 and fd00:77::1/64; both ends and the stack are at MTU 9000.
 * net_pcap receives a frame larger than one mbuf into a chain and sends chains (DPDK 22.11's net_tap
 * and net_af_packet take 1522- and 1518-byte frames at most: see jumbo-frames.test.ts).
 *
 * Checked: the kernel's `ping -s 8972 -M do` and `ping -6 -s 8952 -M do` are answered, one 9014-byte
 * frame each way; 8972-byte UDP datagrams cross both ways unfragmented (tcpdump on ff0 sees single
 * 9014-byte frames), byte-exact; 65507-byte datagrams cross both ways in fragments cut at the 9000-byte MTU (8 frames, 7 of them
 * 9010 bytes long: 8976 bytes of data, as Linux cuts them too) and arrive byte-exact; over IPv6
 * 8952-byte datagrams cross unfragmented both ways and 65527-byte ones in 8 fragments each way; the
 * counters say the same, and the packet pool comes back to its baseline after each case.
 * ffnet/dgram in a Node program on such a stack gets the kernel's 8972-byte datagrams whole, in
 * 'message' and in 'messages' batches.
 *
 * ff0's transmit checksum offload is turned off: a veth hands its peer the kernel's UDP datagrams
 * with their checksums still to be completed, which a packet capture (net_pcap) reads as they are.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { StackProcess } from '../../testbed/stack-process.js';
import { LCORE_MODES, ctr, delta, parsePing, sleep, tcpdumpLines, uniquePrefix, waitForStats, type LineCapture } from './kernel-peer.js';
import { FdScope, expectPoolAt, steadyInUse } from './udp-bench.js';
import { REPO, removeEalRuntime } from '../shim/scenarios.js';

const STACK_IP = '10.77.0.2';
const KERNEL_IP = '10.77.0.1';
const STACK_IP6 = 'fd00:77::2';
const KERNEL_IP6 = 'fd00:77::1';
const KERNEL_IFACE = 'ff0';
const STACK_IFACE = 'ffs0';
const MTU = 9000;
const JUMBO_UDP = MTU - 20 - 8; // 8972
const JUMBO_UDP6 = MTU - 40 - 8; // 8952
const JUMBO_FRAME = MTU + 14;
/** 65507 bytes of UDP payload: 65515 of IP payload, 8976 to a fragment at MTU 9000. */
const BIG = 65507;
const BIG_FRAGS = 8;
/** A fragment's frame: 8976 bytes of data (the most below 8980 that is a multiple of 8) and its header. */
const FRAG_FRAME = 14 + 20 + 8976;
const BIG_LAST_FRAME = 14 + 20 + (BIG + 8 - 7 * 8976);
/** 65527 bytes of UDP payload over IPv6 (the largest): 65535 of payload, 8952 to a fragment (9000 - 40 - 8). */
const BIG6 = 65527;
const FRAG6_FRAME = 14 + 40 + 8 + 8952;
const BIG6_LAST_FRAME = 14 + 40 + 8 + (BIG6 + 8 - 7 * 8952);

const STACK_VDEV = `net_pcap0,iface=${STACK_IFACE}`;

/** The veth pair at MTU 9000: ffs0 up for the stack's net_pcap port, ff0 the kernel's with its addresses. */
async function jumboLink(ns: Netns): Promise<void> {
  await ns.execOk('ip', ['link', 'add', STACK_IFACE, 'mtu', String(MTU), 'type', 'veth', 'peer', 'name', KERNEL_IFACE, 'mtu', String(MTU)]);
  await ns.execOk('sysctl', ['-qw', `net.ipv6.conf.${STACK_IFACE}.disable_ipv6=1`]);
  await ns.execOk('ip', ['link', 'set', STACK_IFACE, 'up']);
  await ns.execOk('ethtool', ['-K', KERNEL_IFACE, 'tx', 'off']);
  await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', KERNEL_IFACE]);
  await ns.execOk('ip', ['-6', 'addr', 'add', `${KERNEL_IP6}/64`, 'dev', KERNEL_IFACE, 'nodad']);
  await ns.execOk('ip', ['link', 'set', KERNEL_IFACE, 'up']);
}

/** The replies ping -6 counted ("N packets transmitted, M received"). */
function parsePing6Received(out: string): number {
  return Number(/\d+ packets transmitted, (\d+) received/.exec(out)?.[1] ?? -1);
}

/** The Ethernet frame lengths of tcpdump -e lines ("..., length 9014: ..."). */
function frameLengths(lines: string[]): number[] {
  return lines.map((l) => Number(/ length (\d+):/.exec(l)?.[1] ?? -1));
}

describe.each(LCORE_MODES)('jumbo frames with the kernel over net_pcap ($name)', (mode) => {
  let ns: Netns;
  let stack: StackProcess;
  let kern: KernelUdp;
  let baseline: number;
  let fds: FdScope;
  let port = 9500;
  const nextPort = (): number => port++;

  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create(`jumbo-k-${mode.name}`.replace(/[^a-z0-9-]/gi, '').slice(0, 24));
    await jumboLink(ns);
    stack = await StackProcess.start(
      ns,
      {
        dpdk: { vdev: STACK_VDEV, file_prefix: uniquePrefix('jumbo-k'), ...mode.dpdk },
        port0: { addr: STACK_IP, netmask: '255.255.255.0', mtu: MTU, addr6: `${STACK_IP6}/64` },
        sysctl: { 'net.inet6.ip6.accept_rtadv': 0 },
      },
      { readyTimeoutMs: 30_000 },
    );
    expect(stack.ports[0]?.mtu).toBe(MTU);
    kern = await KernelUdp.start(ns);
    // Resolve both ways once, so that no datagram waits for ARP or ND and the baseline is settled.
    await ns.execOk('ping', ['-c', '1', '-W', '2', STACK_IP], { timeoutMs: 10_000 });
    await ns.execOk('ping', ['-6', '-c', '1', '-W', '2', STACK_IP6], { timeoutMs: 10_000 });
    baseline = await steadyInUse(stack);
  }, 60_000);
  afterAll(async () => {
    kern?.close();
    await stack?.close().catch(() => undefined);
    await ns?.destroy();
  });
  beforeEach(() => {
    fds = new FdScope(stack);
  });
  afterEach(async () => {
    await fds.closeAll();
    await expectPoolAt(stack, baseline);
  });

  /**
   * Runs `body` with tcpdump on ff0 (filter `filter`), waits (bounded) until it printed `frames` lines
   * and a moment more for any extra, and resolves to what it saw.
   */
  async function captured(filter: string[], frames: number, body: () => Promise<void>): Promise<string[]> {
    const cap: LineCapture = await tcpdumpLines(ns, KERNEL_IFACE, [], filter);
    try {
      await body();
      await ns.waitFor(async () => cap.lines().length >= frames, `${frames} frames captured`, 3_000).catch(() => undefined);
      await sleep(200);
    } finally {
      await cap.stop();
    }
    return cap.lines();
  }

  it(`answers the kernel's ping -s ${JUMBO_UDP} -M do, one ${JUMBO_FRAME}-byte frame each way`, async () => {
    const before = await stack.stats();
    let out = '';
    const lines = await captured(
      ['icmp'],
      4,
      async () => {
        const r = await ns.exec('ping', ['-c', '2', '-i', '0.3', '-s', String(JUMBO_UDP), '-M', 'do', '-W', '3', STACK_IP], { timeoutMs: 20_000 });
        out = r.stdout + r.stderr;
      },
    );
    const p = parsePing(out);
    expect(p.received, out).toBe(2);
    expect(p.replyBytes).toEqual([JUMBO_UDP + 8, JUMBO_UDP + 8]);
    expect(frameLengths(lines), lines.join('\n')).toEqual(Array(4).fill(JUMBO_FRAME));
    const d = delta(before, await stack.stats());
    expect(d['icmp.echo_in']).toBe(2);
    expect(d['icmp.echo_reply_out']).toBe(2);
    expect(d['icmp.badsum']).toBe(0);
    expect(d['ip.fragments']).toBe(0);
    expect(d['ip.fragmented']).toBe(0);
  });

  it(`answers the kernel's ping -6 -s ${JUMBO_UDP6} -M do, one ${JUMBO_FRAME}-byte frame each way`, async () => {
    const before = await stack.stats();
    let out = '';
    const lines = await captured(['icmp6', 'and', 'ip6[40] < 130'], 4, async () => {
      const r = await ns.exec('ping', ['-6', '-c', '2', '-i', '0.3', '-s', String(JUMBO_UDP6), '-M', 'do', '-W', '3', STACK_IP6], { timeoutMs: 20_000 });
      out = r.stdout + r.stderr;
    });
    expect(parsePing6Received(out), out).toBe(2);
    expect(frameLengths(lines), lines.join('\n')).toEqual(Array(4).fill(JUMBO_FRAME));
    const d = delta(before, await stack.stats());
    expect(d['icmp6.echo_in']).toBe(2);
    expect(d['icmp6.echo_reply_out']).toBe(2);
    expect(d['icmp6.badsum']).toBe(0);
    expect(d['ip6.fragments']).toBe(0);
    expect(d['ip6.fragmented']).toBe(0);
    expect(d['ip6.badlen']).toBe(0);
  });

  it(`carries ${JUMBO_UDP}-byte UDP datagrams both ways unfragmented, byte-exact`, async () => {
    const p = nextPort();
    const fd = await fds.udp({ address: STACK_IP, port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    const before = await stack.stats();
    let sentIn: string[] = [];
    let sentOut: string[] = [];
    let gotIn: string[] = [];
    let gotOut: string[] = [];
    const lines = await captured(
      ['udp'],
      6,
      async () => {
        const s = await kern.send(sid, { to: { address: STACK_IP, port: p }, size: JUMBO_UDP, count: 3, pattern: 'random' });
        sentIn = s.sha1;
        const r = await stack.udpRecv(fd, { count: 3, timeoutMs: 3_000 });
        expect(r.datagrams.map((x) => x.length)).toEqual(Array(3).fill(JUMBO_UDP));
        gotIn = r.datagrams.map((x) => x.sha1);
        const o = await stack.udpSend(fd, { to: { address: KERNEL_IP, port: kport }, size: JUMBO_UDP, count: 3, pattern: 'random', batch: 3 });
        sentOut = o.sha1 ?? [];
        const k = await kern.recv(sid, { count: 3, timeoutMs: 3_000 });
        expect(k.datagrams.map((x) => x.length)).toEqual(Array(3).fill(JUMBO_UDP));
        gotOut = k.datagrams.map((x) => x.sha1);
      },
    );
    expect(gotIn).toEqual(sentIn);
    expect(gotOut).toEqual(sentOut);
    // Six single frames, none a fragment.
    expect(frameLengths(lines), lines.join('\n')).toEqual(Array(6).fill(JUMBO_FRAME));
    const d = delta(before, await stack.stats());
    expect(d['udp.delivered']).toBe(3);
    expect(d['udp.badsum']).toBe(0);
    expect(d['udp.tx']).toBe(3);
    expect(d['ip.fragments']).toBe(0);
    expect(d['ip.fragmented']).toBe(0);
    await kern.closeSocket(sid);
  });

  it(`carries ${BIG}-byte datagrams both ways in fragments cut at the ${MTU}-byte MTU, byte-exact`, async () => {
    const p = nextPort();
    const fd = await fds.udp({ address: STACK_IP, port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    let before = await stack.stats();
    const inLines = await captured(
      ['ip', 'and', 'src', KERNEL_IP],
      BIG_FRAGS,
      async () => {
        const s = await kern.send(sid, { to: { address: STACK_IP, port: p }, size: BIG, count: 1, pattern: 'random' });
        const r = await stack.udpRecv(fd, { count: 1, timeoutMs: 3_000 });
        expect(r.datagrams.map((x) => x.sha1)).toEqual(s.sha1);
      },
    );
    expect(frameLengths(inLines), inLines.join('\n')).toEqual([...Array(BIG_FRAGS - 1).fill(FRAG_FRAME), BIG_LAST_FRAME]);
    let d = delta(before, await stack.stats());
    expect(d['ip.fragments']).toBe(BIG_FRAGS);
    expect(d['ip.reassembled']).toBe(1);
    expect(d['ip.frag_dropped']).toBe(0);
    expect(d['udp.delivered']).toBe(1);

    before = await stack.stats();
    const outLines = await captured(
      ['ip', 'and', 'src', STACK_IP],
      BIG_FRAGS,
      async () => {
        const o = await stack.udpSend(fd, { to: { address: KERNEL_IP, port: kport }, size: BIG, count: 1, pattern: 'random' });
        const k = await kern.recv(sid, { count: 1, timeoutMs: 5_000 });
        expect(k.datagrams.map((x) => x.sha1)).toEqual(o.sha1);
      },
    );
    expect(frameLengths(outLines), outLines.join('\n')).toEqual([...Array(BIG_FRAGS - 1).fill(FRAG_FRAME), BIG_LAST_FRAME]);
    d = delta(before, await waitForStats(stack, (s) => ctr(s, 'ip.frags_out') - ctr(before, 'ip.frags_out') >= BIG_FRAGS, 'every fragment counted'));
    expect(d['ip.fragmented']).toBe(1);
    expect(d['ip.frags_out']).toBe(BIG_FRAGS);
    await kern.closeSocket(sid);
  });

  it(`carries ${JUMBO_UDP6}-byte IPv6 datagrams both ways unfragmented, byte-exact`, async () => {
    const p = nextPort();
    const fd = await fds.udp6({ address: STACK_IP6, port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP6 }, { type: 'udp6' });
    const before = await stack.stats();
    const lines = await captured(
      ['ip6', 'and', 'udp'],
      4,
      async () => {
        const s = await kern.send(sid, { to: { address: STACK_IP6, port: p }, size: JUMBO_UDP6, count: 2, pattern: 'random' });
        const r = await stack.udpRecv(fd, { count: 2, timeoutMs: 3_000 });
        expect(r.datagrams.map((x) => x.sha1)).toEqual(s.sha1);
        const o = await stack.udpSend(fd, { to: { address: KERNEL_IP6, port: kport }, size: JUMBO_UDP6, count: 2, pattern: 'random', batch: 2 });
        const k = await kern.recv(sid, { count: 2, timeoutMs: 3_000 });
        expect(k.datagrams.map((x) => x.sha1)).toEqual(o.sha1);
      },
    );
    expect(frameLengths(lines), lines.join('\n')).toEqual(Array(4).fill(JUMBO_FRAME));
    const d = delta(before, await stack.stats());
    expect(d['ip6.fragments']).toBe(0);
    expect(d['ip6.fragmented']).toBe(0);
    expect(d['ip6.badlen']).toBe(0);
    expect(d['udp.delivered']).toBe(2);
    await kern.closeSocket(sid);
  });

  it(`carries ${BIG6}-byte IPv6 datagrams both ways in fragments cut at the ${MTU}-byte MTU, byte-exact`, async () => {
    const p = nextPort();
    const fd = await fds.udp6({ address: STACK_IP6, port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP6 }, { type: 'udp6' });
    const frames = [...Array(BIG_FRAGS - 1).fill(FRAG6_FRAME), BIG6_LAST_FRAME];
    let before = await stack.stats();
    const inLines = await captured(['ip6', 'and', 'src', KERNEL_IP6], BIG_FRAGS, async () => {
      const s = await kern.send(sid, { to: { address: STACK_IP6, port: p }, size: BIG6, count: 1, pattern: 'random' });
      const r = await stack.udpRecv(fd, { count: 1, timeoutMs: 3_000 });
      expect(r.datagrams.map((x) => x.sha1)).toEqual(s.sha1);
    });
    expect(frameLengths(inLines), inLines.join('\n')).toEqual(frames);
    let d = delta(before, await stack.stats());
    expect(d['ip6.fragments']).toBe(BIG_FRAGS);
    expect(d['ip6.reassembled']).toBe(1);
    expect(d['ip6.frag_dropped']).toBe(0);

    before = await stack.stats();
    const outLines = await captured(['ip6', 'and', 'src', STACK_IP6], BIG_FRAGS, async () => {
      const o = await stack.udpSend(fd, { to: { address: KERNEL_IP6, port: kport }, size: BIG6, count: 1, pattern: 'random' });
      const k = await kern.recv(sid, { count: 1, timeoutMs: 5_000 });
      expect(k.datagrams.map((x) => x.sha1)).toEqual(o.sha1);
    });
    expect(frameLengths(outLines), outLines.join('\n')).toEqual(frames);
    d = delta(before, await waitForStats(stack, (s) => ctr(s, 'ip6.frags_out') - ctr(before, 'ip6.frags_out') >= BIG_FRAGS, 'every fragment counted'));
    expect(d['ip6.fragmented']).toBe(1);
    expect(d['ip6.frags_out']).toBe(BIG_FRAGS);
    await kern.closeSocket(sid);
  });
});

/**
 * ffnet/dgram (the node:dgram drop-in, dpdk backend) in a Node program whose stack is at MTU 9000 on
 * the same kind of link: the kernel's 8972-byte datagrams reach a socket's 'message' listener and
 * another's 'messages' batches whole (several mbufs each: copied into one buffer), byte for byte.
 */
const DGRAM_APP = `
import { createHash } from 'node:crypto';
import dgram from '@DGRAM@';
const sha1 = (b) => createHash('sha1').update(b).digest('hex');
const one = dgram.createSocket('udp4');
const batched = dgram.createSocket('udp4');
let left = 2;
const done = () => { if (--left === 0) { one.close(); batched.close(() => process.exit(0)); } };
one.on('message', (msg, rinfo) => { report({ via: 'message', backend: one.backend, length: msg.length, size: rinfo.size, address: rinfo.address, sha1: sha1(msg) }); done(); });
batched.on('messages', (b) => {
  for (let i = 0; i < b.count; i++) {
    const v = b.data(i);
    report({ via: 'messages', length: v.length, size: b.rinfo(i).size, address: b.address(i), sha1: sha1(v) });
  }
  done();
});
one.bind(9601, '0.0.0.0', () => batched.bind(9602, '0.0.0.0', () => report({ ready: true })));
`;

describe('ffnet/dgram receives jumbo datagrams from the kernel whole', () => {
  let ns: Netns;
  let dir: string;

  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create('jumbo-dgram');
    await jumboLink(ns);
    dir = mkdtempSync(join(tmpdir(), 'ffnet-jumbo-dgram-'));
  });
  afterAll(async () => {
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`a ${JUMBO_UDP}-byte datagram in 'message' and in a 'messages' batch`, async () => {
    const prefix = uniquePrefix('jumbo-dgram');
    const ini = join(dir, 'ffnet.ini');
    writeFileSync(ini, `[dpdk]\nfile_prefix = ${prefix}\nlcore_mask = 0x1\nvdev[] = ${STACK_VDEV}\n[port0]\naddr = ${STACK_IP}\nnetmask = 255.255.255.0\nmtu = ${MTU}\nipv6 = 0\n`);
    const app = join(dir, 'app.mjs');
    writeFileSync(app, `const report = (o) => process.stdout.write('@ ' + JSON.stringify(o) + '\\n');\n` +
      DGRAM_APP.replaceAll('@DGRAM@', pathToFileURL(join(REPO, 'dist/shim/dgram.js')).href));
    const env: NodeJS.ProcessEnv = { ...process.env, FFNET_CONFIG: ini };
    delete env.NODE_OPTIONS;
    const child = ns.spawn(process.execPath, [app], { env, cwd: dir });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const reports = (): Array<Record<string, unknown>> =>
      out.split('\n').filter((l) => l.startsWith('@ ')).map((l) => JSON.parse(l.slice(2)) as Record<string, unknown>);
    const kern = await KernelUdp.start(ns);
    try {
      await ns.waitFor(async () => reports().some((r) => r.ready === true), `the app to be ready (stdout: ${out}, stderr: ${err})`, 30_000);
      const { sid } = await kern.socket({ address: KERNEL_IP });
      const a = await kern.send(sid, { to: { address: STACK_IP, port: 9601 }, size: JUMBO_UDP, count: 1, pattern: 'random' });
      const b = await kern.send(sid, { to: { address: STACK_IP, port: 9602 }, size: JUMBO_UDP, count: 1, pattern: 'random', startSeq: 5 });
      await ns.waitFor(async () => reports().length >= 3, `both datagrams reported (stdout: ${out}, stderr: ${err})`, 10_000);
      const got = reports().filter((r) => r.via !== undefined);
      expect(got).toEqual([
        { via: 'message', backend: 'dpdk', length: JUMBO_UDP, size: JUMBO_UDP, address: KERNEL_IP, sha1: a.sha1[0] },
        { via: 'messages', length: JUMBO_UDP, size: JUMBO_UDP, address: KERNEL_IP, sha1: b.sha1[0] },
      ]);
      expect(await exited, err).toBe(0);
    } finally {
      kern.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      removeEalRuntime(ini);
    }
  });
});
