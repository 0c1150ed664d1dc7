/**
 * `ffnet ifconfig`, `arp`, `route` and `ping` against a live stack facing the Linux kernel over a
 * net_tap port in a namespace of the test's own (test/stack/kernel-peer.ts), the CLI run as a child
 * process (`node dist/tools/cli.js -p PID ...`), and the kernel side checked with ping, ip neigh,
 * tcpdump and /proc/net/snmp.
 *
 * Cases: ifconfig shows the port; arp -a agrees with what the kernel did and with its ip neigh; a
 * permanent entry from arp -s is used for sending and arp -d removes it; ping gets the kernel's
 * replies with ping(8)'s output and the kernel counts the requests; a new address is answered by the
 * stack when the kernel pings it; a new MTU makes the kernel reassemble a 1400-byte datagram from
 * fragments; down stops traffic and up restores it; route add sends traffic for a subnet to its
 * gateway's MAC (the most specific route winning) and route delete reverts; bad input fails in one
 * line with exit status 1. Both lcore modes, and a C program on ff_init (the udp_echo example).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  STACK_IP,
  ctr,
  kernelPeer,
  parsePing,
  quietNamespace,
  sleep,
  tcpdumpLines,
  waitForStats,
  type KernelPeer,
} from '../stack/kernel-peer.js';
import { ffnet, kernelSide, startUdpEcho, waitForStack, type StackProgram } from './harness.js';

/** `ffnet ... --json`, expecting success. */
async function ffnetJson<T>(pid: number, args: string[]): Promise<T> {
  const r = await ffnet(pid, [...args, '--json']);
  expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as T;
}

/** A counter of the kernel's /proc/net/snmp in the namespace ("Ip", "ReasmOKs"). */
async function snmp(peer: KernelPeer, group: string, name: string): Promise<number> {
  const text = await peer.ns.execOk('cat', ['/proc/net/snmp']);
  const lines = text.split('\n').filter((l) => l.startsWith(`${group}:`));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  const i = names.indexOf(name);
  if (i < 0) throw new Error(`no ${group} ${name} in /proc/net/snmp`);
  return Number(values[i]);
}

interface ArpEntry {
  port: number;
  addr: string;
  mac: string | null;
  state: string;
  expires_s: number;
  held_packets: number;
  held_bytes: number;
}

interface PortEntry {
  name: string;
  inet: string;
  prefixlen: number;
  netmask: string;
  broadcast: string;
  mtu: number;
  mac: string;
  flags: string[];
}

describe.each(LCORE_MODES)('ffnet ifconfig, arp, route and ping on a live stack ($name)', (mode) => {
  let peer: KernelPeer;
  let pid: number;
  let fd: number;

  beforeAll(async () => {
    peer = await kernelPeer('tools-iface', { dpdk: mode.dpdk });
    pid = peer.stack.pid!;
    fd = await peer.stack.udpSocket();
  }, 60_000);

  afterAll(async () => {
    await peer?.close();
  });

  /** One UDP datagram from the stack to addr:9 (size bytes). */
  const send = (address: string, size = 64) => peer.stack.udpSend(fd, { to: { address, port: 9 }, size });

  it('ifconfig shows the port as FreeBSD ifconfig does', async () => {
    const r = await ffnet(pid, ['ifconfig']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('port0: flags=8043<UP,BROADCAST,RUNNING,MULTICAST> metric 0 mtu 1500');
    expect(r.stdout).toContain(`\tether ${peer.stackMac}\n`);
    expect(r.stdout).toContain(`\tinet ${STACK_IP} netmask 0xffffff00 broadcast 10.77.0.255\n`);
    expect(r.stdout).toContain('\tstatus: active\n');
    // net_tap's queues have RX interrupts (its fds): idle lcores sleep on them.
    expect(r.stdout).toMatch(/\tqueues: rx \d+ tx \d+, rx interrupts yes\n/);
    expect(r.stdout).toMatch(/\tdriver: net_tap \(net_tap0\)\n\tRX packets \d+ bytes \d+ errors 0 missed 0 nombuf 0\n\tTX packets \d+ bytes \d+ errors 0\n/);
    const [p] = await ffnetJson<PortEntry[]>(pid, ['ifconfig', 'port0']);
    expect(p).toMatchObject({ name: 'port0', inet: STACK_IP, prefixlen: 24, netmask: '255.255.255.0', mac: peer.stackMac });
    expect(p!.queues).toMatchObject({ rx_intr: true });
    expect(p!.queues!.rx).toBeGreaterThanOrEqual(1);
    expect(p).toMatchObject({ vlan: 0, vlan_hw_rx: false, vlan_hw_tx: false }); // untagged
    expect(r.stdout).not.toContain('\tvlan:');
  });

  it('arp -a agrees with what the kernel did and with ip neigh there', async () => {
    await peer.ns.execOk('ping', ['-c', '1', '-W', '2', STACK_IP]);
    const entries = await ffnetJson<ArpEntry[]>(pid, ['arp', '-a']);
    const kernel = entries.find((e) => e.addr === KERNEL_IP);
    expect(kernel).toMatchObject({ port: 0, mac: peer.kernelMac, state: 'reachable', held_packets: 0, held_bytes: 0 });
    expect(kernel!.expires_s).toBeGreaterThan(0);
    const neigh = await peer.ns.execOk('ip', ['neigh', 'show', STACK_IP, 'dev', IFACE]);
    expect(neigh).toContain(`lladdr ${peer.stackMac}`);
    const r = await ffnet(pid, ['arp', '-a']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\? \\(${KERNEL_IP.replace(/\./g, '\\.')}\\) at ${peer.kernelMac} on port0 expires in \\d+ seconds \\[ethernet\\]$`, 'm'));
    // A neighbour that does not answer holds what was sent to it: 2 × (100 + 8 + 20 + 14) bytes.
    await peer.stack.udpSend(fd, { to: { address: '10.77.0.20', port: 9 }, size: 100, count: 2 });
    const held = (await ffnetJson<ArpEntry[]>(pid, ['arp', '-a'])).find((e) => e.addr === '10.77.0.20');
    expect(held).toMatchObject({ mac: null, state: 'incomplete', held_packets: 2, held_bytes: 284 });
    expect((await ffnet(pid, ['arp', '-a'])).stdout).toContain('? (10.77.0.20) at (incomplete) on port0 resolving holding 2 packets (284 bytes) [ethernet]\n');
    expect((await ffnet(pid, ['arp', '-d', '10.77.0.20'])).code).toBe(0);
  });

  it('arp -s adds a permanent entry the stack sends through, arp -d removes it', async () => {
    const ip = '10.77.0.9';
    const mac = '02:00:00:00:00:09';
    const add = await ffnet(pid, ['arp', '-s', ip, mac]);
    expect(add).toMatchObject({ code: 0, stderr: '' });
    const cap = await tcpdumpLines(peer.ns, IFACE, ['-c', '1'], ['udp', 'and', 'dst', 'host', ip]);
    const arps = await tcpdumpLines(peer.ns, IFACE, [], ['arp', 'and', 'arp[24:4]', '=', '0x0a4d0009']);
    await send(ip);
    const line = await cap.waitForLine(/> 02:00:00:00:00:09/, 5_000);
    expect(line).toContain(`${peer.stackMac} > ${mac}`);
    await cap.stop();
    expect(await arps.stop()).toEqual([]); /* no ARP request for it: the entry was used as it was */
    const r = await ffnet(pid, ['arp', '-a']);
    expect(r.stdout).toContain(`? (${ip}) at ${mac} on port0 permanent [ethernet]`);
    expect(await ffnet(pid, ['arp', '-d', ip])).toMatchObject({ code: 0, stdout: `${ip} (${ip}) deleted\n` });
    expect((await ffnetJson<ArpEntry[]>(pid, ['arp', '-a'])).some((e) => e.addr === ip)).toBe(false);
    expect(await ffnet(pid, ['arp', '-d', ip])).toEqual({ code: 1, stdout: '', stderr: `ffnet arp: no ARP entry for ${ip}\n` });
  });

  it('ping gets the kernel\'s replies and prints them as ping(8) does', async () => {
    const before = await snmp(peer, 'Icmp', 'InEchos');
    const r = await ffnet(pid, ['ping', '-c', '3', '-i', '0.2', KERNEL_IP]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`PING ${KERNEL_IP} (${KERNEL_IP}): 56 data bytes`);
    for (let seq = 0; seq < 3; seq++) {
      expect(lines[1 + seq]).toMatch(new RegExp(`^64 bytes from ${KERNEL_IP.replace(/\./g, '\\.')}: icmp_seq=${seq} ttl=64 time=\\d+\\.\\d{3} ms$`));
    }
    expect(lines.slice(4, 7)).toEqual(['', `--- ${KERNEL_IP} ping statistics ---`, '3 packets transmitted, 3 packets received, 0.0% packet loss']);
    expect(lines[7]).toMatch(/^round-trip min\/avg\/max\/stddev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/);
    expect((await snmp(peer, 'Icmp', 'InEchos')) - before).toBe(3);
    // -s and -t reach the wire: tcpdump sees the size and the TTL asked for.
    const cap = await tcpdumpLines(peer.ns, IFACE, ['-v', '-c', '1'], ['icmp[icmptype]', '=', 'icmp-echo']);
    const big = await ffnet(pid, ['ping', '-c', '1', '-s', '200', '-t', '7', KERNEL_IP]);
    expect(big.stdout).toContain(`208 bytes from ${KERNEL_IP}: icmp_seq=0`);
    expect(await cap.waitForLine(/ttl 7,/, 5_000)).toMatch(/length 228\)/);
    await cap.stop();
  });

  it('ping reports lost requests and exits 1 when nothing answers', async () => {
    const r = await ffnet(pid, ['ping', '-c', '2', '-i', '0.1', '-W', '300', '10.77.0.99']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Request timeout for icmp_seq 0\nRequest timeout for icmp_seq 1\n');
    expect(r.stdout).toContain('2 packets transmitted, 0 packets received, 100.0% packet loss');
  });

  it('ifconfig inet: the kernel\'s pings to the new address are answered', async () => {
    const [set] = await ffnetJson<PortEntry[]>(pid, ['ifconfig', 'port0', 'inet', '10.77.0.3/24']);
    expect(set).toMatchObject({ inet: '10.77.0.3', netmask: '255.255.255.0', broadcast: '10.77.0.255' });
    const out = await peer.ns.execOk('ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.77.0.3']);
    expect(parsePing(out).received).toBe(2);
    const old = await peer.ns.exec('ping', ['-c', '1', '-W', '1', STACK_IP]);
    expect(old.code).not.toBe(0);
    expect((await ffnet(pid, ['ifconfig', 'port0', 'inet', `${STACK_IP}/24`])).code).toBe(0);
    expect(parsePing(await peer.ns.execOk('ping', ['-c', '1', '-W', '2', STACK_IP])).received).toBe(1);
  });

  it('ifconfig mtu: a 1400-byte datagram reaches the kernel in fragments', async () => {
    const whole = await snmp(peer, 'Ip', 'ReasmOKs');
    const frags = await snmp(peer, 'Ip', 'ReasmReqds');
    expect((await ffnetJson<PortEntry[]>(pid, ['ifconfig', 'port0', 'mtu', '1000']))[0]!.mtu).toBe(1000);
    await send(KERNEL_IP, 1400);
    await peer.ns.waitFor(async () => (await snmp(peer, 'Ip', 'ReasmOKs')) === whole + 1, 'the kernel to reassemble', 5_000);
    expect((await snmp(peer, 'Ip', 'ReasmReqds')) - frags).toBe(2);
    expect((await ffnetJson<PortEntry[]>(pid, ['ifconfig', 'port0', 'mtu', '1500']))[0]!.mtu).toBe(1500);
    await send(KERNEL_IP, 1400);
    await sleep(300);
    expect(await snmp(peer, 'Ip', 'ReasmReqds')).toBe(frags + 2);
    const bad = await ffnet(pid, ['ifconfig', 'port0', 'mtu', '20']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ffnet ifconfig: mtu 20 is out of range for port0 \(68\.\.\d+\)\n$/);
  });

  it('ifconfig down stops traffic and up restores it', async () => {
    const [down] = await ffnetJson<PortEntry[]>(pid, ['ifconfig', 'port0', 'down']);
    expect(down!.flags).not.toContain('UP');
    const before = ctr(await peer.stack.stats(), 'eth.tx_down');
    await send(KERNEL_IP).catch(() => undefined);
    await waitForStats(peer.stack, (s) => ctr(s, 'eth.tx_down') > before, 'eth.tx_down to count the datagram');
    expect((await peer.ns.exec('ping', ['-c', '1', '-W', '1', STACK_IP])).code).not.toBe(0);
    const [up] = await ffnetJson<PortEntry[]>(pid, ['ifconfig', 'port0', 'up']);
    expect(up!.flags).toContain('UP');
    await peer.ns.waitFor(async () => (await peer.ns.exec('ping', ['-c', '1', '-W', '1', STACK_IP])).code === 0, 'pings answered again', 10_000);
  });

  it('route add sends a subnet\'s traffic to its gateway, the longest prefix winning; route delete reverts', async () => {
    const far = '10.99.1.1';
    const gw2 = '10.77.0.7';
    const gw2Mac = '02:00:00:00:00:07';
    expect((await ffnet(pid, ['arp', '-s', gw2, gw2Mac])).code).toBe(0);
    await expect(send(far)).rejects.toMatchObject({ code: 'ENETUNREACH' });

    expect(await ffnet(pid, ['route', 'add', '10.99.0.0/16', KERNEL_IP])).toMatchObject({ code: 0, stdout: `add net 10.99.0.0/16: gateway ${KERNEL_IP}\n` });
    let cap = await tcpdumpLines(peer.ns, IFACE, ['-c', '1'], ['udp', 'and', 'dst', 'host', far]);
    await send(far);
    expect(await cap.waitForLine(/> 10\.99\.1\.1\.9:/, 5_000)).toContain(`${peer.stackMac} > ${peer.kernelMac}`);
    await cap.stop();

    expect((await ffnet(pid, ['route', 'add', '10.99.1.0/24', gw2])).code).toBe(0);
    const shown = await ffnet(pid, ['route']);
    expect(shown.stdout.split('\n').slice(0, 3)).toEqual(['Routing tables', '', 'Internet:']);
    expect(shown.stdout).toMatch(/^Destination\s+Gateway\s+Flags\s+Netif\s+Metric\s+Src$/m);
    expect(shown.stdout).toMatch(/^10\.99\.1\.0\/24\s+10\.77\.0\.7\s+UGS\s+port0\s+0$/m);
    expect(shown.stdout).toMatch(/^10\.77\.0\.0\/24\s+link#0\s+UC\s+port0\s+0$/m);
    cap = await tcpdumpLines(peer.ns, IFACE, ['-c', '1'], ['udp', 'and', 'dst', 'host', far]);
    await send(far);
    expect(await cap.waitForLine(/> 10\.99\.1\.1\.9:/, 5_000)).toContain(`${peer.stackMac} > ${gw2Mac}`);
    await cap.stop();

    expect(await ffnet(pid, ['route', 'delete', '10.99.1.0/24'])).toMatchObject({ code: 0, stdout: 'delete net 10.99.1.0/24\n' });
    cap = await tcpdumpLines(peer.ns, IFACE, ['-c', '1'], ['udp', 'and', 'dst', 'host', far]);
    await send(far);
    expect(await cap.waitForLine(/> 10\.99\.1\.1\.9:/, 5_000)).toContain(`${peer.stackMac} > ${peer.kernelMac}`);
    await cap.stop();
    expect((await ffnet(pid, ['route', 'delete', '10.99.0.0/16'])).code).toBe(0);
    expect((await ffnet(pid, ['arp', '-d', gw2])).code).toBe(0);
  });

  it('route add takes a metric and a src (the lowest metric wins); route delete with a metric removes that one', async () => {
    const far = '10.99.1.1';
    const gw2 = '10.77.0.7';
    const gw2Mac = '02:00:00:00:00:07';
    expect((await ffnet(pid, ['arp', '-s', gw2, gw2Mac])).code).toBe(0);
    expect((await ffnet(pid, ['route', 'add', '10.99.0.0/16', gw2, 'metric', '20'])).code).toBe(0);
    expect((await ffnet(pid, ['route', 'add', '10.99.0.0/16', KERNEL_IP, 'src', STACK_IP, 'metric', '10'])).code).toBe(0);
    const shown = await ffnet(pid, ['route']);
    expect(shown.stdout).toMatch(new RegExp(`^10\\.99\\.0\\.0/16\\s+${KERNEL_IP.replaceAll('.', '\\.')}\\s+UGS\\s+port0\\s+10\\s+${STACK_IP.replaceAll('.', '\\.')}$`, 'm'));
    expect(shown.stdout).toMatch(/^10\.99\.0\.0\/16\s+10\.77\.0\.7\s+UGS\s+port0\s+20$/m);
    const json = await ffnetJson<Array<{ dest: string; metric: number; src: string | null }>>(pid, ['route']);
    expect(json.filter((r) => r.dest === '10.99.0.0').map((r) => [r.metric, r.src])).toEqual([[10, STACK_IP], [20, null]]);
    let cap = await tcpdumpLines(peer.ns, IFACE, ['-c', '1'], ['udp', 'and', 'dst', 'host', far]);
    await send(far);
    expect(await cap.waitForLine(/> 10\.99\.1\.1\.9:/, 5_000)).toContain(`${peer.stackMac} > ${peer.kernelMac}`);
    await cap.stop();
    expect(await ffnet(pid, ['route', 'delete', '10.99.0.0/16', 'metric', '10'])).toMatchObject({ code: 0, stdout: 'delete net 10.99.0.0/16\n' });
    cap = await tcpdumpLines(peer.ns, IFACE, ['-c', '1'], ['udp', 'and', 'dst', 'host', far]);
    await send(far);
    expect(await cap.waitForLine(/> 10\.99\.1\.1\.9:/, 5_000)).toContain(`${peer.stackMac} > ${gw2Mac}`);
    await cap.stop();
    const cases: Array<[string[], string]> = [
      [['route', 'add', '10.99.0.0/16', KERNEL_IP, 'metric', '20'], 'ffnet route: a route to 10.99.0.0/16 of metric 20 exists (delete it first, or give another metric)\n'],
      [['route', 'add', '10.98.0.0/16', KERNEL_IP, 'src', '10.77.0.99'], 'ffnet route: invalid source address 10.77.0.99 (not one of the stack\'s addresses)\n'],
      [['route', 'delete', '10.99.0.0/16', 'metric', '10'], 'ffnet route: no route to 10.99.0.0/16 of metric 10\n'],
      [['route', 'add', '10.98.0.0/16', KERNEL_IP, 'metric', 'x'], "ffnet route: bad metric 'x' (0 to 4294967295)\n"],
      [['route', 'delete', '10.98.0.0/16', 'src', STACK_IP], "ffnet route: unknown word 'src' (expected metric)\n"],
    ];
    for (const [args, stderr] of cases) {
      const r = await ffnet(pid, args);
      expect({ args, stderr: r.stderr, out: r.stdout }).toEqual({ args, stderr, out: '' });
    }
    expect((await ffnet(pid, ['route', 'delete', '10.99.0.0/16'])).code).toBe(0);
    expect((await ffnet(pid, ['arp', '-d', gw2])).code).toBe(0);
  });

  it('bad input fails in one clear line with exit status 1', async () => {
    const cases: Array<[string[], string]> = [
      [['ifconfig', 'port7'], 'ffnet ifconfig: no port 7 (ports: port0)\n'],
      [['ifconfig', 'eth0'], "ffnet ifconfig: unknown port 'eth0' (ports are named portN, N the DPDK port id)\n"],
      [['ifconfig', 'port0', 'inet', '10.77.0.300/24'], "ffnet ifconfig: bad address '10.77.0.300/24' (ADDR/LEN, e.g. 10.0.0.2/24)\n"],
      [['ifconfig', 'port0', 'inet', '10.77.0.255/24'], 'ffnet ifconfig: 10.77.0.255/24 is not a host\'s unicast address (not a network, broadcast, loopback or multicast address; length 1..32)\n'],
      [['ping', '-c', '1', 'no-such-host.invalid'], "ffnet ping: unknown host 'no-such-host.invalid' (give an IPv4 address or a name in /etc/hosts)\n"],
      [['arp', '-s', 'nohost', '02:00:00:00:00:01'], "ffnet arp: unknown host 'nohost' (give an IPv4 address or a name in /etc/hosts)\n"],
      [['arp', '-s', '10.88.0.1', '02:00:00:00:00:01'], 'ffnet arp: 10.88.0.1 is not on a connected subnet\n'],
      [['route', 'add', '10.5.0.0/16', '172.16.0.1'], 'ffnet route: gateway 172.16.0.1 is not on a connected subnet\n'],
      [['route', 'delete', '10.5.0.0/16'], 'ffnet route: no route to 10.5.0.0/16\n'],
      [['route', 'add', '10.5.0.1/16', KERNEL_IP], 'ffnet route: 10.5.0.1/16 has host bits set (the network of a /16 ends in zeros)\n'],
    ];
    for (const [args, stderr] of cases) {
      expect({ args, ...(await ffnet(pid, args)) }).toEqual({ args, code: 1, stdout: '', stderr });
    }
  });
});

describe('ffnet ifconfig, route and ping on a C program built on ff_init', () => {
  let ns: Awaited<ReturnType<typeof quietNamespace>>;
  let app: StackProgram;

  beforeAll(async () => {
    ns = await quietNamespace('tools-iface-c');
    app = startUdpEcho(ns, 'tools-iface-c');
    await kernelSide(ns);
    await waitForStack(ns, app.pid);
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await ns?.destroy();
  });

  it('shows and changes the port, the routes, and pings the kernel from the stack', async () => {
    const [port] = await ffnetJson<PortEntry[]>(app.pid, ['ifconfig', 'port0']);
    expect(port).toMatchObject({ inet: STACK_IP, prefixlen: 24, mtu: 1500 });
    expect((await ffnet(app.pid, ['route', 'add', 'default', KERNEL_IP])).code).toBe(0);
    const routes = await ffnetJson<Array<{ dest: string; prefixlen: number; gateway: string | null; port: number; flags: string }>>(app.pid, ['route']);
    expect(routes).toEqual([
      { dest: '10.77.0.0', prefixlen: 24, gateway: null, port: 0, flags: 'UC', src: null, metric: 0 },
      { dest: '0.0.0.0', prefixlen: 0, gateway: KERNEL_IP, port: 0, flags: 'UGS', src: null, metric: 0 },
    ]);
    const r = await ffnet(app.pid, ['ping', '-c', '2', '-i', '0.2', KERNEL_IP]);
    expect(r.stdout, r.stderr).toContain('2 packets transmitted, 2 packets received, 0.0% packet loss');
    expect((await ffnetJson<PortEntry[]>(app.pid, ['ifconfig', 'port0', 'inet', '10.77.0.4/24']))[0]!.inet).toBe('10.77.0.4');
    expect(parsePing(await ns.execOk('ping', ['-c', '1', '-W', '2', '10.77.0.4'])).received).toBe(1);
  });
});
