/**
 * 802.1Q VLANs against the kernel over net_tap ([port0] vlan_id = 100), in each lcore mode. This
 * kernel has no VLAN interfaces, so the kernel side speaks in raw frames: inject-frame sends tagged
 * ARP requests, echo requests and UDP datagrams on ff0, and tcpdump on ff0 shows what the stack sends
 * back. Checked: the answers (ARP reply, echo reply, a UDP datagram and the fragments of a large one,
 * and what the stack sends by itself at link up: gratuitous ARP, Neighbor Advertisement, MLD) all
 * carry VID 100; the tagged datagram reaches the stack's socket; frames of VID 200, untagged frames
 * and priority-tagged ones are dropped and counted as eth.vlan_mismatch. A port without vlan_id
 * drops and counts tagged frames and takes a priority-tagged one as untagged. On net_af_packet (over
 * a veth pair) the device strips and inserts the tag: the same answers, the same drops.
 *
 * The last suite runs against a kernel VLAN interface (ff0.100) where the kernel has them; here it
 * reports the kernel's refusal as its skip reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARP_OP,
  BROADCAST_MAC,
  ETHERTYPE,
  arp,
  echoRequestFrame,
  ethernet,
  toHex,
  udpFrame,
  vlanTagged,
} from '../../testbed/frames.js';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  STACK_IP,
  bringUp,
  ctr,
  delta,
  haveInjectFrame,
  injectFramePath,
  kernelPeer,
  kernelToStack,
  linkMac,
  parsePing,
  quietNamespace,
  quietTx,
  sleep,
  tcpdumpLines,
  uniquePrefix,
  waitForStats,
  type KernelPeer,
  type LineCapture,
} from './kernel-peer.js';
import type { Netns } from '../../testbed/netns.js';
import { StackProcess } from '../../testbed/stack-process.js';
import { ffnet } from '../tools/harness.js';

const VID = 100;
/** Ports tcpdump decodes as plain UDP (7000 would be AFS). */
const STACK_UDP_PORT = 20700;
const KERNEL_UDP_PORT = 20555;

/** The tcpdump -e words of a frame tagged with `vid`, followed by its inner EtherType. */
const taggedAs = (vid: number, inner: 'ARP' | 'IPv4' | 'IPv6'): RegExp => new RegExp(`ethertype 802\\.1Q \\(0x8100\\), length \\d+: vlan ${vid}, p 0, ethertype ${inner}`);

/** An ARP request from the kernel side for the stack's address. */
function arpRequest(peer: KernelPeer): Buffer {
  return ethernet({
    dst: BROADCAST_MAC,
    src: peer.kernelMac,
    type: ETHERTYPE.ARP,
    payload: arp({ op: ARP_OP.REQUEST, sha: peer.kernelMac, spa: KERNEL_IP, tpa: STACK_IP }),
  });
}

/** Sends `frames` on ff0 from the kernel side. */
async function inject(peer: KernelPeer, ...frames: Buffer[]): Promise<void> {
  await peer.ns.execOk(injectFramePath, [IFACE, ...frames.map(toHex)]);
}

/**
 * Sends `frame`, waits until the stack has received it, and resolves to the counters' growth (read
 * once more after reception: a drop is counted in the turn that receives the frame).
 */
async function injectOne(peer: KernelPeer, frame: Buffer, what: string): Promise<Record<string, number>> {
  const before = await peer.stack.stats();
  await inject(peer, frame);
  await waitForStats(peer.stack, (s) => ctr(s, 'eth.rx') > ctr(before, 'eth.rx'), `the stack to receive ${what}`, 3_000);
  return delta(before, await peer.stack.stats());
}

describe.each(LCORE_MODES)('a port with vlan_id = 100 facing the kernel over net_tap ($name)', (mode) => {
  let peer: KernelPeer;
  let cap: LineCapture;

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    peer = await kernelPeer('vlan', { dpdk: mode.dpdk, port0: { vlan_id: VID } });
    // Every frame the stack sends from here on, whatever it is.
    cap = await tcpdumpLines(peer.ns, IFACE, [], ['ether', 'src', peer.stackMac]);
  });
  afterAll(async () => {
    await cap?.stop();
    await peer?.close();
  });

  it('reports the VLAN in ports(), tagged in software (net_tap offers no VLAN offload)', async () => {
    const [p] = await peer.stack.currentPorts();
    expect(p?.vlanId).toBe(VID);
    expect(p?.offloads).toMatchObject({ rxVlanStrip: false, txVlanInsert: false });
  });

  it('shows the VLAN in ffnet ifconfig', async () => {
    const pid = peer.stack.pid;
    if (pid === undefined) throw new Error('the stack process has no pid');
    const text = await ffnet(pid, ['ifconfig', 'port0']);
    expect(text, text.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain(`\tvlan: ${VID} vlanproto: 802.1q tagging: rx software, tx software\n`);
    const json = await ffnet(pid, ['ifconfig', 'port0', '--json']);
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ vlan: VID, vlan_hw_rx: false, vlan_hw_tx: false, mtu: 1500 });
  });

  it('answers a tagged ARP request with a reply tagged with its VID', async () => {
    const d = await injectOne(peer, vlanTagged(arpRequest(peer), VID), 'a tagged ARP request');
    expect(d['eth.vlan_mismatch']).toBe(0);
    expect(d['arp.replies_out']).toBe(1);
    await cap.waitForLine(new RegExp(`${taggedAs(VID, 'ARP').source}.*Reply ${STACK_IP} is-at ${peer.stackMac}`), 3_000);
  });

  it('answers a tagged echo request with a tagged echo reply', async () => {
    const d = await injectOne(peer, vlanTagged(echoRequestFrame(kernelToStack(peer), 0x7711, 1), VID), 'a tagged echo request');
    expect(d['icmp.echo_in']).toBe(1);
    await cap.waitForLine(new RegExp(`${taggedAs(VID, 'IPv4').source}.*${STACK_IP} > ${KERNEL_IP}: ICMP echo reply, id 30481, seq 1`), 3_000);
  });

  it('delivers a tagged UDP datagram to the socket and tags what the socket sends back, fragments included', async () => {
    const fd = await peer.stack.udpSocket({ address: STACK_IP, port: STACK_UDP_PORT });
    const payload = Buffer.from('a datagram on VLAN 100');
    await inject(peer, vlanTagged(udpFrame(kernelToStack(peer), KERNEL_UDP_PORT, STACK_UDP_PORT, payload), VID));
    const got = await peer.stack.udpRecv(fd, { count: 1, timeoutMs: 3_000 });
    expect(got.timedOut).toBe(false);
    expect(got.datagrams[0]).toMatchObject({ address: KERNEL_IP, port: KERNEL_UDP_PORT, hex: payload.toString('hex') });

    const before = await peer.stack.stats();
    await peer.stack.udpSend(fd, { to: { address: KERNEL_IP, port: KERNEL_UDP_PORT }, size: 64 });
    await cap.waitForLine(new RegExp(`${taggedAs(VID, 'IPv4').source}.*${STACK_IP}\\.${STACK_UDP_PORT} > ${KERNEL_IP}\\.${KERNEL_UDP_PORT}: UDP, length 64`), 3_000);
    // 3000 bytes over a 1500-byte MTU: three fragments, each tagged (the frame is 4 bytes longer, the
    // IP MTU unchanged: the first fragment's frame is 1518 bytes).
    await peer.stack.udpSend(fd, { to: { address: KERNEL_IP, port: KERNEL_UDP_PORT }, size: 3000 });
    const after = await waitForStats(peer.stack, (s) => ctr(s, 'ip.fragmented') > ctr(before, 'ip.fragmented'), 'the datagram to be fragmented', 3_000);
    expect(delta(before, after)['ip.fragmented']).toBe(1);
    await peer.ns.waitFor(async () => cap.lines().filter((l) => /length 1518: vlan 100, p 0, ethertype IPv4/.test(l)).length >= 2,
      `two full-size tagged fragments; got:\n${cap.lines().join('\n')}`, 3_000);
  });

  it.each([
    ['a frame of VLAN 200', (f: Buffer) => vlanTagged(f, 200)],
    ['an untagged frame', (f: Buffer) => f],
    ['a priority-tagged frame (VID 0: no VLAN)', (f: Buffer) => vlanTagged(f, 0, 5)],
  ])('drops and counts %s, and answers nothing', async (what, tag) => {
    const txBefore = ctr(await peer.stack.stats(), 'eth.tx');
    for (const [i, frame] of [arpRequest(peer), echoRequestFrame(kernelToStack(peer), 0x7712, 2)].entries()) {
      const d = await injectOne(peer, tag(frame), `${what} (${i ? 'echo request' : 'ARP request'})`);
      expect(d['eth.rx']).toBe(1);
      expect(d['eth.vlan_mismatch'], `${what}: ${JSON.stringify(Object.fromEntries(Object.entries(d).filter(([, v]) => v)))}`).toBe(1);
      expect(d['arp.replies_out']).toBe(0);
      expect(d['icmp.echo_in']).toBe(0);
    }
    expect(ctr(await peer.stack.stats(), 'eth.tx')).toBe(txBefore);
  });

  it('puts tagged IPv4 frames through the fault injector, as untagged ones on other ports', async () => {
    await peer.stack.sysctl('dev.fault.rx_drop_ppm', 1_000_000);
    try {
      // The injector drops before ethernet input: the frame never counts in eth.rx.
      const before = await peer.stack.stats();
      await inject(peer, vlanTagged(echoRequestFrame(kernelToStack(peer), 0x7717, 1), VID));
      const after = await waitForStats(peer.stack, (s) => ctr(s, 'fault.dropped') > ctr(before, 'fault.dropped'), 'the fault injector to drop the frame', 3_000);
      const d = delta(before, after);
      expect(d['fault.dropped']).toBe(1);
      expect(d['eth.rx']).toBe(0);
      expect(d['icmp.echo_in']).toBe(0);
    } finally {
      await peer.stack.sysctl('dev.fault.rx_drop_ppm', 0);
    }
  });

  it('sent nothing untagged and nothing of another VLAN', async () => {
    const lines = cap.lines();
    expect(lines.length).toBeGreaterThanOrEqual(6); // ARP reply, echo reply, a datagram, three fragments
    expect(lines.filter((l) => !/ethertype 802\.1Q \(0x8100\), length \d+: vlan 100, p 0,/.test(l))).toEqual([]);
  });

  it('tags what it sends by itself when the link comes up: Neighbor Advertisement and MLD reports', async () => {
    // tcpdump on ff0 ends when ff0 goes down, and cannot start before it is up again: it sees the
    // retransmissions of what the stack sends at link up (RFC 4861 §7.2.6, RFC 3810 §6).
    await cap.stop();
    const before = await peer.stack.stats();
    await peer.ns.execOk('ip', ['link', 'set', IFACE, 'down']);
    await peer.ns.waitFor(async () => (await peer.stack.currentPorts())[0]?.linkUp === false, 'port 0 to report link down', 5_000);
    await sleep(600); // the stack looks at its links 4 times a second: it must see this one down
    await bringUp(peer.ns, peer.stack);
    const again = await tcpdumpLines(peer.ns, IFACE, [], ['ether', 'src', peer.stackMac]);
    try {
      await again.waitForLine(new RegExp(`${taggedAs(VID, 'IPv6').source}.*(neighbor advertisement|multicast listener report)`), 5_000);
      await quietTx(peer.stack);
      const d = delta(before, await peer.stack.stats());
      expect(d['arp.requests_out'], 'the gratuitous ARP request at link up').toBeGreaterThanOrEqual(1);
      expect(again.lines().filter((l) => !/ethertype 802\.1Q \(0x8100\), length \d+: vlan 100, p 0,/.test(l))).toEqual([]);
    } finally {
      await again.stop();
    }
  });
});

describe('a port without vlan_id facing the kernel over net_tap', () => {
  let peer: KernelPeer;
  let cap: LineCapture;

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    peer = await kernelPeer('vlan-none');
    cap = await tcpdumpLines(peer.ns, IFACE, [], ['ether', 'src', peer.stackMac]);
  });
  afterAll(async () => {
    await cap?.stop();
    await peer?.close();
  });

  it('reports no VLAN in ports()', async () => {
    expect((await peer.stack.currentPorts())[0]?.vlanId).toBe(0);
  });

  it('drops and counts a tagged frame', async () => {
    const d = await injectOne(peer, vlanTagged(echoRequestFrame(kernelToStack(peer), 0x7713, 1), VID), 'a tagged echo request');
    expect(d['eth.vlan_mismatch']).toBe(1);
    expect(d['eth.unknown_type']).toBe(0);
    expect(d['icmp.echo_in']).toBe(0);
    expect(d['eth.tx']).toBe(0);
  });

  it('takes a priority-tagged frame (VID 0) as untagged and answers it untagged', async () => {
    // The kernel's ping teaches the stack the kernel's MAC (and checks plain traffic still flows).
    const r = await peer.ns.exec('ping', ['-c', '1', '-W', '2', STACK_IP], { timeoutMs: 5_000 });
    expect(parsePing(r.stdout).received, r.stdout + r.stderr).toBe(1);
    const d = await injectOne(peer, vlanTagged(echoRequestFrame(kernelToStack(peer), 0x7714, 1), 0, 6), 'a priority-tagged echo request');
    expect(d['eth.vlan_mismatch']).toBe(0);
    expect(d['icmp.echo_in']).toBe(1);
    const reply = await cap.waitForLine(/ICMP echo reply, id 30484, seq 1/, 3_000);
    expect(reply).not.toMatch(/802\.1Q|vlan/);
  });
});

describe('a port with vlan_id = 100 against a kernel VLAN interface (ff0.100)', () => {
  let peer: KernelPeer;
  /** Why the kernel would not make ff0.100, or '' once it did. */
  let refused = '';

  beforeAll(async () => {
    peer = await kernelPeer('vlan-8021q', { port0: { vlan_id: VID } });
    const r = await peer.ns.exec('ip', ['link', 'add', 'link', IFACE, 'name', `${IFACE}.${VID}`, 'type', 'vlan', 'id', String(VID)]);
    if (r.code !== 0) {
      refused = `this kernel refuses "ip link add link ${IFACE} name ${IFACE}.${VID} type vlan id ${VID}": ${(r.stderr || r.stdout).trim()}`;
      return;
    }
    // The addresses move from ff0 to ff0.100: the kernel speaks to the stack on VLAN 100 only.
    await peer.ns.execOk('ip', ['addr', 'flush', 'dev', IFACE]);
    await peer.ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', `${IFACE}.${VID}`]);
    await peer.ns.execOk('ip', ['link', 'set', `${IFACE}.${VID}`, 'up']);
  });
  afterAll(async () => {
    await peer?.close();
  });

  it('answers the kernel\'s ping on VLAN 100', async (ctx) => {
    if (refused) ctx.skip(refused);
    const r = await peer.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', STACK_IP], { timeoutMs: 10_000 });
    expect(parsePing(r.stdout).received, r.stdout + r.stderr).toBe(3);
    expect(ctr(await peer.stack.stats(), 'eth.vlan_mismatch')).toBe(0);
  });

  it('exchanges UDP both ways with a kernel socket on VLAN 100', async (ctx) => {
    if (refused) ctx.skip(refused);
    const fd = await peer.stack.udpSocket({ address: STACK_IP, port: STACK_UDP_PORT });
    // A kernel UDP socket (node:dgram in the namespace) at the kernel's address: it sends one datagram
    // to the stack, then prints the length of the first one it receives.
    const kernelSocket = peer.ns.spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      s.on('message', (m) => { console.log('received ' + m.length); process.exit(0); });
      s.bind(${KERNEL_UDP_PORT}, '${KERNEL_IP}', () => { s.send('from the kernel', ${STACK_UDP_PORT}, '${STACK_IP}'); console.log('bound'); });
      setTimeout(() => process.exit(1), 8000);`]);
    let out = '';
    kernelSocket.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
    try {
      const got = await peer.stack.udpRecv(fd, { count: 1, timeoutMs: 3_000 });
      expect(got.datagrams[0]).toMatchObject({ address: KERNEL_IP, port: KERNEL_UDP_PORT, hex: Buffer.from('from the kernel').toString('hex') });
      await peer.stack.udpSend(fd, { to: { address: KERNEL_IP, port: KERNEL_UDP_PORT }, size: 32 });
      await peer.ns.waitFor(async () => out.includes('received 32'), `the kernel socket to receive the stack's datagram (it printed: ${out})`, 3_000);
    } finally {
      kernelSocket.kill('SIGKILL');
    }
  });
});

describe('a port with vlan_id = 100 on net_af_packet, which strips and inserts the tag for the stack', () => {
  const STACK_IFACE = 'v0';
  const KERNEL_IFACE = 'v1';
  let ns: Netns;
  let stack: StackProcess;
  let peer: KernelPeer;
  let cap: LineCapture;

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    ns = await quietNamespace('vlan-afp');
    await ns.execOk('ip', ['link', 'add', STACK_IFACE, 'type', 'veth', 'peer', 'name', KERNEL_IFACE]);
    for (const i of [STACK_IFACE, KERNEL_IFACE]) await ns.execOk('ip', ['link', 'set', i, 'up']);
    stack = await StackProcess.start(ns, {
      dpdk: { vdev: `net_af_packet0,iface=${STACK_IFACE}`, file_prefix: uniquePrefix('vlan-afp'), lcore_mask: '0x1' },
      port0: { addr: STACK_IP, netmask: '255.255.255.0', vlan_id: VID },
      sysctl: { 'net.inet6.ip6.accept_rtadv': 0 },
    });
    await ns.waitFor(async () => (await stack.currentPorts())[0]?.linkUp === true, 'port 0 to report link up', 5_000);
    await quietTx(stack);
    // The kernel end of the veth pair plays the peer: frames are injected and captured on it.
    peer = { ns, stack, stackMac: await linkMac(ns, STACK_IFACE), kernelMac: await linkMac(ns, KERNEL_IFACE), close: async () => undefined };
    cap = await tcpdumpLines(ns, KERNEL_IFACE, [], ['ether', 'src', peer.stackMac]);
  });
  afterAll(async () => {
    await cap?.stop();
    await stack?.close();
    await ns?.destroy();
  });

  /** Sends `frame` on the kernel end and resolves to the counters' growth once the stack received it. */
  async function injectOnVeth(frame: Buffer, what: string): Promise<Record<string, number>> {
    const before = await stack.stats();
    await ns.execOk(injectFramePath, [KERNEL_IFACE, toHex(frame)]);
    await waitForStats(stack, (s) => ctr(s, 'eth.rx') > ctr(before, 'eth.rx'), `the stack to receive ${what}`, 3_000);
    return delta(before, await stack.stats());
  }

  it('reports the device doing the tagging', async () => {
    const [p] = await stack.currentPorts();
    expect(p).toMatchObject({ vlanId: VID, offloads: { rxVlanStrip: true, txVlanInsert: true } });
  });

  it('answers tagged ARP and echo requests with tagged replies', async () => {
    let d = await injectOnVeth(vlanTagged(arpRequest(peer), VID), 'a tagged ARP request');
    expect(d['arp.replies_out']).toBe(1);
    d = await injectOnVeth(vlanTagged(echoRequestFrame(kernelToStack(peer), 0x7715, 1), VID), 'a tagged echo request');
    expect(d['icmp.echo_in']).toBe(1);
    await cap.waitForLine(new RegExp(`${taggedAs(VID, 'ARP').source}.*Reply ${STACK_IP} is-at ${peer.stackMac}`), 3_000);
    await cap.waitForLine(new RegExp(`${taggedAs(VID, 'IPv4').source}.*${STACK_IP} > ${KERNEL_IP}: ICMP echo reply, id 30485, seq 1`), 3_000);
  });

  it('drops and counts frames of VLAN 200 and untagged frames the device handed over', async () => {
    for (const [what, frame] of [
      ['a frame of VLAN 200', vlanTagged(echoRequestFrame(kernelToStack(peer), 0x7716, 1), 200)],
      ['an untagged frame', echoRequestFrame(kernelToStack(peer), 0x7716, 2)],
    ] as const) {
      const d = await injectOnVeth(frame, what);
      expect(d['eth.vlan_mismatch'], what).toBe(1);
      expect(d['icmp.echo_in'], what).toBe(0);
    }
    expect(cap.lines().filter((l) => !/ethertype 802\.1Q \(0x8100\), length \d+: vlan 100, p 0,/.test(l))).toEqual([]);
  });
});
