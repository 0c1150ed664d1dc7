/**
 * The stack on a kernel interface through the DPDK drivers that need no NIC of their own: net_af_packet
 * and net_af_xdp, each on veth end vA in namespace A (its kernel side configured as docs/deploy.md asks:
 * no address, IPv6 off, ARP answered for no local address), the kernel peer at 10.78.0.1/24 on vB in
 * namespace B (testbed/veth-peer.ts).
 *
 * For each driver:
 *  - the port: the interface's own MAC, link up, one queue pair, no checksum offloads, and — the drivers
 *    have no RX interrupts — each queue's socket for idle lcores to sleep on;
 *  - pings both ways (A's kernel sees them too on af_packet, and drops them; on af_xdp it sees none);
 *    ARP both ways, only the stack answering for its address; UDP both ways byte-exact at 1 and 1472 B;
 *  - the mbufs sent come back (af_packet at once, af_xdp within its completion ring), and after each test
 *    the pool is back at its baseline;
 *  - the link follows the interface's carrier (the peer's end down, then up again);
 *  - a datagram whose checksum the sending veth left to offload is dropped and counted (udp.badsum);
 *  - refused at start, with the limit in words: an MTU above what the driver receives, af_packet ring
 *    frames too small for the MTU (a larger ring is taken), an af_xdp pool too small for its fill ring
 *    (a pool of exactly the size named works);
 *  - in each lcore mode, a stack idle for over a second answers the next ping within idle-wake.test.ts's
 *    bounds (the queue socket woke it, not a nap);
 *  - two queue pairs served by two data-path lcores: af_packet (qpairs=2, the kernel's fanout spreading
 *    flows) delivers every flow, and an idle stack's ping wakes the lcore of the queue it reached; af_xdp's queue_count=2 needs combined channels, which veth has not — that
 *    case checks the driver's refusal and is skipped with it.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import type { Netns } from '../../testbed/netns.js';
import { StackProcessError } from '../../testbed/stack-process.js';
import { PEER_IFACE, PEER_IP, STACK_IP, vethPeer, type AfPmd, type VethPeer } from '../../testbed/veth-peer.js';
import { LCORE_MODES, ctr, delta, parseArping, parsePing, uniquePrefix, waitForStats } from './kernel-peer.js';
import { FdScope, expectPoolAt, steadyInUse } from './udp-bench.js';
import { IDLE_MS, ROUNDS, expectPrompt, kernelPingRounds, warmUp } from './wake-rounds.js';

const PMDS: Array<{ pmd: AfPmd }> = [{ pmd: 'net_af_packet' }, { pmd: 'net_af_xdp' }];
const SIZES = [1, 1472];
/** Why af_xdp's two-queue cases are skipped here (the first of them checks the driver says so). */
const AF_XDP_TWO_QUEUES_ON_VETH =
  'net_af_xdp queue_count=2 on veth: the driver refuses ("Specified queue count 2 is larger than combined queue count 1": veth has no combined channels); it needs a NIC with ethtool -L combined 2';
/** Two data-path lcores beside the JS thread's, floating over the machine's two CPUs. */
const TWO_DATA_LCORES = { lcore_mask: '0x7', lcores: '0@(0-1),1@(0-1),2@(0-1)' };

/** The IPv4 counters of a namespace's kernel (/proc/net/snmp "Ip:"). */
async function kernelIp(ns: Netns): Promise<Record<string, number>> {
  const [names = '', values = ''] = (await ns.execOk('cat', ['/proc/net/snmp'])).split('\n').filter((l) => l.startsWith('Ip:'));
  const v = values.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.split(/\s+/).slice(1).map((k, i) => [k, v[i] ?? 0]));
}

describe.each(PMDS)('$pmd on a veth, the kernel as peer', ({ pmd }) => {
  let peer: VethPeer;
  let kern: KernelUdp;
  let fds: FdScope;
  let baseline: number;
  let txAtBaseline: number;
  let port = 7100;

  beforeAll(async () => {
    peer = await vethPeer('afport', pmd, uniquePrefix(`afport-${pmd}`));
    kern = await KernelUdp.start(peer.ns);
    // Resolve both ways once, so the baseline is taken with a settled neighbour table.
    await peer.stack.ping(PEER_IP, { count: 1, timeoutMs: 2_000 });
    baseline = await steadyInUse(peer.stack);
    txAtBaseline = ctr(await peer.stack.stats(), 'eth.tx');
  });
  afterAll(async () => {
    kern?.close();
    await peer?.close();
  });
  beforeEach(() => {
    fds = new FdScope(peer.stack);
  });
  afterEach(async () => {
    await fds.closeAll();
    if (pmd === 'net_af_packet') {
      await expectPoolAt(peer.stack, baseline);
    } else {
      // af_xdp takes sent mbufs back only when a transmit finds its completion ring half full (1024):
      // until then they stay out of the pool, at most what was sent since the baseline.
      const { inUse } = await peer.stack.mempool();
      expect(inUse - baseline).toBeLessThanOrEqual(ctr(await peer.stack.stats(), 'eth.tx') - txAtBaseline);
    }
  });

  it('starts as a port with the interface\'s MAC, link up, one queue pair, no checksum offloads, its queue socket to sleep on', async () => {
    const [p] = await peer.stack.currentPorts();
    expect(p?.driver).toBe(pmd);
    expect(p?.mac).toBe(peer.stackIfaceMac);
    expect(p?.linkUp).toBe(true);
    expect([p?.rxQueues, p?.txQueues]).toEqual([1, 1]);
    // Neither driver offers checksum offloads or RX interrupts: the stack checksums in software, and
    // idle lcores sleep on each queue's own socket (readable while frames wait) instead of napping.
    expect(p?.offloads).toEqual({ rxIpv4Cksum: false, rxL4Cksum: false, txIpv4Cksum: false, txUdpCksum: false, rxVlanStrip: false, txVlanInsert: false });
    expect(p?.rxIntr).toBe(true);
  });

  it('answers the peer\'s pings, and its own pings are answered', async () => {
    const before = await peer.stack.stats();
    const kernelBefore = await kernelIp(peer.stackNs);
    const out = parsePing((await peer.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', STACK_IP])).stdout);
    expect(out.received).toBe(3);
    expect(new Set(out.replyFrom)).toEqual(new Set([STACK_IP]));
    // The kernel of A: on af_packet it sees every frame too, and drops what is not for an address of
    // its own (InAddrErrors); AF_XDP's program steers the queue's frames past it.
    const kernelAfter = await kernelIp(peer.stackNs);
    const seen = pmd === 'net_af_packet' ? 3 : 0;
    expect([kernelAfter.InReceives - kernelBefore.InReceives, kernelAfter.InAddrErrors - kernelBefore.InAddrErrors]).toEqual([seen, seen]);
    const replies = await peer.stack.ping(PEER_IP, { count: 3, timeoutMs: 2_000 });
    expect(replies.map((r) => r.rttUs >= 0)).toEqual([true, true, true]);
    const d = delta(before, await peer.stack.stats());
    expect(d['icmp.echo_in']).toBe(3);
    expect(d['icmp.echo_reply_in']).toBe(3);
  });

  it('resolves both ways by ARP, and only the stack answers for its address (the kernel of A stays quiet)', async () => {
    const neigh = JSON.parse(await peer.ns.execOk('ip', ['-j', 'neigh', 'show', STACK_IP, 'dev', PEER_IFACE])) as Array<{ lladdr?: string }>;
    expect(neigh.map((n) => n.lladdr?.toLowerCase())).toEqual([peer.stackMac]);
    const mine = (await peer.stack.neighbours()).filter((n) => n.addr === PEER_IP);
    expect(mine.map((n) => [n.mac, n.state])).toEqual([[peer.peerMac, 'reachable']]);
    const arping = parseArping((await peer.ns.exec('arping', ['-c', '2', '-w', '3', '-i', PEER_IFACE, STACK_IP])).stdout);
    expect(arping.received).toBe(2);
    expect(arping.replies.map((r) => r.mac)).toEqual([peer.stackMac, peer.stackMac]);
  });

  it.each(SIZES)('the kernel\'s %i-byte datagrams reach an ff socket byte-exact', async (size) => {
    const p = port++;
    const fd = await fds.udp({ address: '0.0.0.0', port: p });
    const { sid, port: kport } = await kern.socket({ address: PEER_IP });
    const s = await kern.send(sid, { to: { address: STACK_IP, port: p }, size, count: 3, pattern: 'random', startSeq: size });
    expect(s.errors).toEqual([]);
    const r = await peer.stack.udpRecv(fd, { count: 3, timeoutMs: 3_000 });
    await kern.closeSocket(sid);
    expect(r.datagrams.map((d) => d.sha1)).toEqual(s.sha1);
    for (const d of r.datagrams) expect([d.length, d.address, d.port]).toEqual([size, PEER_IP, kport]);
  });

  it.each(SIZES)('an ff socket\'s %i-byte datagrams reach the kernel byte-exact', async (size) => {
    const p = port++;
    const fd = await fds.udp({ address: STACK_IP, port: p });
    const { sid, port: kport } = await kern.socket({ address: PEER_IP });
    const s = await peer.stack.udpSend(fd, { to: { address: PEER_IP, port: kport }, size, count: 3, pattern: 'random', startSeq: 500 + size });
    expect(s.sent).toBe(3);
    const r = await kern.recv(sid, { count: 3, timeoutMs: 3_000 });
    await kern.closeSocket(sid);
    expect(r.datagrams.map((d) => d.sha1)).toEqual(s.sha1);
    for (const d of r.datagrams) expect([d.length, d.address, d.port]).toEqual([size, STACK_IP, p]);
  });

  it('takes back the mbufs it sent: after 3000 datagrams, fewer than a completion ring\'s worth (2048) are held', async () => {
    const fd = await fds.udp({ address: STACK_IP, port: port++ });
    const { sid, port: kport } = await kern.socket({ address: PEER_IP });
    const s = await peer.stack.udpSend(fd, { to: { address: PEER_IP, port: kport }, size: 64, count: 3000 });
    expect(s.sent).toBe(3000);
    await kern.closeSocket(sid);
    await steadyInUse(peer.stack);
    const { inUse } = await peer.stack.mempool();
    expect(inUse - baseline).toBeLessThan(pmd === 'net_af_xdp' ? 2048 : 1);
  });

  it('follows the interface\'s carrier: link down while the peer\'s end is down, up again after, and pings answered', async () => {
    const linkUp = async (): Promise<boolean | undefined> => (await peer.stack.currentPorts())[0]?.linkUp;
    await peer.ns.execOk('ip', ['link', 'set', PEER_IFACE, 'down']);
    try {
      await peer.stackNs.waitFor(async () => (await linkUp()) === false, 'port 0 to report link down', 5_000);
    } finally {
      await peer.ns.execOk('ip', ['link', 'set', PEER_IFACE, 'up']);
    }
    await peer.stackNs.waitFor(async () => (await linkUp()) === true, 'port 0 to report link up again', 5_000);
    const out = parsePing((await peer.ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '2', STACK_IP])).stdout);
    expect(out.received).toBe(2);
  });

  it('drops and counts (udp.badsum) a datagram whose checksum the sending veth left to offload', async () => {
    const p = port++;
    const fd = await fds.udp({ address: '0.0.0.0', port: p });
    const { sid } = await kern.socket({ address: PEER_IP });
    const before = await peer.stack.stats();
    await peer.ns.execOk('ethtool', ['-K', PEER_IFACE, 'tx', 'on']);
    try {
      await kern.send(sid, { to: { address: STACK_IP, port: p }, size: 100, count: 2, pattern: 'random' });
      const after = await waitForStats(peer.stack, (x) => ctr(x, 'udp.badsum') - ctr(before, 'udp.badsum') >= 2, '2 datagrams in udp.badsum');
      expect(delta(before, after)['udp.delivered']).toBe(0);
    } finally {
      await peer.ns.execOk('ethtool', ['-K', PEER_IFACE, 'tx', 'off']);
      await kern.closeSocket(sid);
      }
  });
});

describe.each(PMDS.flatMap(({ pmd }) => LCORE_MODES.map((mode) => ({ pmd, mode: mode.name, dpdk: mode.dpdk }))))('$pmd: an idle stack ($mode) wakes for the next frame', ({ pmd, dpdk }) => {
  let peer: VethPeer;

  beforeAll(async () => {
    peer = await vethPeer('afwake', pmd, uniquePrefix(`afwake-${pmd}`), { dpdk });
    await warmUp(peer.ns, STACK_IP);
  });
  afterAll(async () => {
    await peer?.close();
  });

  it(`answers the peer's ping after ${IDLE_MS} ms idle promptly, ${ROUNDS} rounds: its queue socket woke it, not a nap`, async () => {
    expectPrompt(await kernelPingRounds(peer.ns, STACK_IP));
  });
});

describe.each([
  { pmd: 'net_af_packet' as AfPmd, mtu: 1501, refusal: 'mtu 1501 is more than the device (net_af_packet) takes: frames of at most 1518 bytes, mtu 1500 at most' },
  { pmd: 'net_af_xdp' as AfPmd, mtu: 1779, refusal: 'mtu 1779 is more than net_af_xdp takes: at most 1778 (an AF_XDP frame, one mbuf of the packet pool less the kernel\'s XDP headroom)' },
])('$pmd refuses an MTU it cannot receive', ({ pmd, mtu, refusal }) => {
  it(`mtu ${mtu}: the stack does not start, and says the limit`, async () => {
    const start = vethPeer('afmtu', pmd, uniquePrefix(`afmtu-${pmd}`), { port0: { mtu }, linkMtu: mtu });
    await expect(start).rejects.toThrow(`port 0 (${pmd}0): ${refusal}`);
  });
});

describe('net_af_packet ring frames', () => {
  it('refuses ring frames too small for the MTU, naming the device argument to raise', async () => {
    const start = vethPeer('afframe', 'net_af_packet', uniquePrefix('afframe'), { devargs: ',framesz=1024,blocksz=4096' });
    await expect(start).rejects.toThrow('port 0 (net_af_packet0): mtu 1500 does not fit net_af_packet\'s ring frames: raise framesz in its vdev string (default 2048; blocksz a multiple of it)');
  });

  it('takes a larger ring (framecnt=4096): 1500-byte frames both ways', async () => {
    const peer = await vethPeer('afframe', 'net_af_packet', uniquePrefix('afframe'), { devargs: ',framecnt=4096' });
    try {
      const out = parsePing((await peer.ns.exec('ping', ['-c', '2', '-i', '0.2', '-s', '1472', '-W', '2', STACK_IP])).stdout);
      expect([out.received, ...out.replyBytes]).toEqual([2, 1480, 1480]);
    } finally {
      await peer.close();
    }
  });
});

describe('net_af_xdp and the packet pool', () => {
  it('refuses a pool its fill ring would empty (2048 mbufs per RX queue), naming the size it needs', async () => {
    const start = vethPeer('afpool', 'net_af_xdp', uniquePrefix('afpool'), { dpdk: { nb_mbuf: 4094 } });
    await expect(start).rejects.toThrow('port 0 (net_af_xdp0): net_af_xdp fills each RX queue with 2048 mbufs of the packet pool: [dpdk] nb_mbuf = 4094 is too few for 1 queue(s), it needs at least 4095');
  });

  it('runs on a pool of exactly that size: pings both ways are answered', async () => {
    const peer = await vethPeer('afpool', 'net_af_xdp', uniquePrefix('afpool'), { dpdk: { nb_mbuf: 4095 } });
    try {
      expect((await peer.stack.ping(PEER_IP, { count: 2, timeoutMs: 2_000 })).map((r) => r.rttUs >= 0)).toEqual([true, true]);
      expect(parsePing((await peer.ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '2', STACK_IP])).stdout).received).toBe(2);
    } finally {
      await peer.close();
    }
  });
});

describe.each(PMDS)('$pmd with two queue pairs and two data-path lcores', ({ pmd }) => {
  let peer: VethPeer | undefined;
  let refusal: string | undefined;

  beforeAll(async () => {
    try {
      peer = await vethPeer('afqueues', pmd, uniquePrefix(`afq-${pmd}`), { queues: 2, dpdk: TWO_DATA_LCORES });
    } catch (err) {
      if (!(err instanceof StackProcessError)) throw err;
      refusal = err.message;
    }
  });
  afterAll(async () => {
    await peer?.close();
  });

  it('serves both queues: every flow from the kernel is delivered, pings are answered', async (ctx) => {
    if (pmd === 'net_af_xdp') {
      // The AF_XDP driver takes queue_count from the interface's combined channels (ethtool -l); veth
      // counts its channels as rx and tx only, so the driver refuses a second queue here.
      expect(refusal).toContain('Specified queue count 2 is larger than combined queue count 1');
      ctx.skip(AF_XDP_TWO_QUEUES_ON_VETH);
    }
    if (!peer) throw new Error(`the stack did not start: ${refusal}`);
    const [p] = await peer.stack.currentPorts();
    expect([p?.rxQueues, p?.txQueues]).toEqual([2, 2]);
    const kern = await KernelUdp.start(peer.ns);
    try {
      const fd = await peer.stack.udpSocket({ address: '0.0.0.0', port: 7300 });
      const sent: string[] = [];
      for (let flow = 0; flow < 8; flow++) {
        const { sid } = await kern.socket({ address: PEER_IP });
        const s = await kern.send(sid, { to: { address: STACK_IP, port: 7300 }, size: 200, count: 3, pattern: 'random', startSeq: flow * 3 });
        expect(s.errors).toEqual([]);
        sent.push(...s.sha1);
      }
      const r = await peer.stack.udpRecv(fd, { count: sent.length, timeoutMs: 5_000 });
      expect(r.datagrams.map((d) => d.sha1).sort()).toEqual([...sent].sort());
      const out = parsePing((await peer.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', STACK_IP])).stdout);
      expect(out.received).toBe(3);
    } finally {
      kern.close();
    }
  });

  it(`wakes the lcore whose queue the frame reached: the peer's ping after ${IDLE_MS} ms idle answered promptly, ${ROUNDS} rounds`, async (ctx) => {
    if (pmd === 'net_af_xdp') ctx.skip(AF_XDP_TWO_QUEUES_ON_VETH);
    if (!peer) throw new Error(`the stack did not start: ${refusal}`);
    await warmUp(peer!.ns, STACK_IP);
    expectPrompt(await kernelPingRounds(peer!.ns, STACK_IP));
  });
});

