/**
 * 802.1Q VLANs between two stacks over net_memif (no VLAN offloads: both tag and untag in software),
 * in one private namespace at 10.89.0.1/24 and 10.89.0.2/24 (2001:db8:89::1 and ::2/64). Both on
 * VLAN 100: they resolve each other, ping, and exchange UDP datagrams both ways over IPv4 and IPv6
 * (ARP and Neighbor Discovery across the VLAN), every one delivered intact and no frame refused.
 * On VLAN 100 against VLAN 200: nothing is delivered, no neighbour is resolved, and each side counts
 * the other's frames as eth.vlan_mismatch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackProcess, type RawConfig } from '../../testbed/stack-process.js';
import type { Netns } from '../../testbed/netns.js';
import { LCORE_MODES, ctr, delta, quietNamespace, uniquePrefix, type LcoreMode } from './kernel-peer.js';
import { FdScope } from './udp-bench.js';

const SERVER_IP = '10.89.0.1';
const CLIENT_IP = '10.89.0.2';
const SERVER_IP6 = '2001:db8:89::1';
const CLIENT_IP6 = '2001:db8:89::2';
const PORT = 9100;
const COUNT = 200;

interface Pair {
  ns: Netns;
  server: StackProcess;
  client: StackProcess;
  close(): Promise<void>;
}

function memifConfig(role: 'server' | 'client', socket: string, addr: string, addr6: string, mac: string, vlanId: number, mode: LcoreMode): RawConfig {
  return {
    dpdk: {
      vdev: `net_memif0,role=${role},id=0,socket=${socket},socket-abstract=no,mac=${mac}`,
      file_prefix: uniquePrefix(`vlan-memif-${role}`),
      ...mode.dpdk,
    },
    port0: { addr, netmask: '255.255.255.0', addr6: `${addr6}/64`, vlan_id: vlanId },
    // Usable at once (no Duplicate Address Detection), and no router solicitations.
    sysctl: { 'net.inet6.ip6.dad_count': 0, 'net.inet6.ip6.accept_rtadv': 0 },
  };
}

/** Two stacks over one memif link, the server on VLAN `serverVid`, the client on `clientVid`, link up. */
async function memifPair(serverVid: number, clientVid: number, mode: LcoreMode): Promise<Pair> {
  const ns = await quietNamespace('vlan-memif');
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-vlan-memif-'));
  const socket = join(dir, 'memif.sock');
  let server: StackProcess | undefined;
  let client: StackProcess | undefined;
  const cleanup = async () => {
    try {
      await client?.close().catch(() => undefined);
      await server?.close().catch(() => undefined);
    } finally {
      await ns.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    server = await StackProcess.start(ns, memifConfig('server', socket, SERVER_IP, SERVER_IP6, '02:00:00:89:00:01', serverVid, mode));
    client = await StackProcess.start(ns, memifConfig('client', socket, CLIENT_IP, CLIENT_IP6, '02:00:00:89:00:02', clientVid, mode));
    for (const s of [server, client]) {
      await ns.waitFor(async () => (await s.currentPorts())[0]?.linkUp === true, 'the memif link to come up', 15_000, 100);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { ns, server, client, close: cleanup };
}

describe.each(LCORE_MODES)('two stacks on VLAN 100 over net_memif ($name)', (mode) => {
  let pair: Pair;

  beforeAll(async () => {
    pair = await memifPair(100, 100, mode);
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('report the VLAN, tagged in software', async () => {
    for (const s of [pair.server, pair.client]) {
      const [p] = await s.currentPorts();
      expect(p).toMatchObject({ vlanId: 100, offloads: { rxVlanStrip: false, txVlanInsert: false } });
    }
  });

  it('resolve each other and answer pings', async () => {
    const replies = await pair.client.ping(SERVER_IP, { count: 3, timeoutMs: 3_000 });
    expect(replies.filter((r) => r.rttUs >= 0)).toHaveLength(3);
    const back = await pair.server.ping(CLIENT_IP, { count: 1, timeoutMs: 3_000 });
    expect(back[0]?.rttUs).toBeGreaterThanOrEqual(0);
  });

  it('exchange UDP both ways, every datagram intact, no frame refused', async () => {
    const { server, client } = pair;
    const before = [await server.stats(), await client.stats()] as const;
    const sfd = await server.udpSocket({ address: SERVER_IP, port: PORT });
    const cfd = await client.udpSocket({ address: CLIENT_IP, port: PORT });
    for (const [from, fromFd, to, toFd, toIp] of [
      [client, cfd, server, sfd, SERVER_IP],
      [server, sfd, client, cfd, CLIENT_IP],
    ] as const) {
      const sent = await from.udpSend(fromFd, { to: { address: toIp, port: PORT }, size: 512, count: COUNT, batch: 16 });
      expect(sent.sent).toBe(COUNT);
      const got = await to.udpRecv(toFd, { count: COUNT, timeoutMs: 5_000 });
      expect(got.timedOut).toBe(false);
      expect(got.datagrams.map((d) => d.sha1)).toEqual(sent.sha1);
    }
    // A datagram larger than the MTU crosses in tagged fragments and is reassembled.
    const big = await client.udpSend(cfd, { to: { address: SERVER_IP, port: PORT }, size: 4000 });
    const bigGot = await server.udpRecv(sfd, { count: 1, timeoutMs: 3_000 });
    expect(bigGot.datagrams[0]?.sha1).toBe(big.sha1?.[0]);
    const ds = delta(before[0], await server.stats());
    const dc = delta(before[1], await client.stats());
    expect(ds['eth.vlan_mismatch']).toBe(0);
    expect(dc['eth.vlan_mismatch']).toBe(0);
    expect(ds['ip.reassembled']).toBe(1);
  });

  it('exchange UDP over IPv6 both ways: Neighbor Discovery resolves across the VLAN', async () => {
    const { server, client } = pair;
    const sockets = [new FdScope(server), new FdScope(client)] as const;
    try {
      const before = [await server.stats(), await client.stats()] as const;
      const sfd = await sockets[0].udp6({ address: SERVER_IP6, port: PORT });
      const cfd = await sockets[1].udp6({ address: CLIENT_IP6, port: PORT });
      for (const [from, fromFd, to, toFd, toIp] of [
        [client, cfd, server, sfd, SERVER_IP6],
        [server, sfd, client, cfd, CLIENT_IP6],
      ] as const) {
        // One datagram first: what waits for Neighbor Discovery is held, a burst would overflow the hold queue.
        for (const count of [1, 20]) {
          const sent = await from.udpSend(fromFd, { to: { address: toIp, port: PORT }, size: 300, count, batch: 4 });
          const got = await to.udpRecv(toFd, { count, timeoutMs: 3_000 });
          const why = JSON.stringify(Object.fromEntries(Object.entries(delta(before[to === server ? 0 : 1], await to.stats())).filter(([k, v]) => v && /^(eth|ip6|icmp6|nd6|udp)/.test(k))));
          expect(got.timedOut, `${count} datagram(s) to ${toIp}: ${why}`).toBe(false);
          expect(got.datagrams.map((d) => d.sha1)).toEqual(sent.sha1);
        }
      }
      const ds = delta(before[0], await server.stats());
      const dc = delta(before[1], await client.stats());
      expect(ds['eth.vlan_mismatch'] + dc['eth.vlan_mismatch']).toBe(0);
      expect((await client.neighbours()).find((n) => n.addr === SERVER_IP6)?.state).toBe('reachable');
    } finally {
      await sockets[0].closeAll();
      await sockets[1].closeAll();
    }
  });
});

describe('a stack on VLAN 100 and one on VLAN 200 over net_memif', () => {
  let pair: Pair;

  beforeAll(async () => {
    pair = await memifPair(100, 200, LCORE_MODES[0] as LcoreMode);
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('deliver nothing to each other, and each counts the other\'s frames as eth.vlan_mismatch', async () => {
    const { server, client } = pair;
    const before = [await server.stats(), await client.stats()] as const;
    const sfd = await server.udpSocket({ address: SERVER_IP, port: PORT });
    // The client's ARP requests (VID 200) reach the server, which drops them; no reply comes back.
    const replies = await client.ping(SERVER_IP, { count: 2, timeoutMs: 1_500 });
    expect(replies.filter((r) => r.rttUs >= 0)).toEqual([]);
    // The server's own ARP requests (VID 100) meet the same fate at the client.
    await server.ping(CLIENT_IP, { count: 1, timeoutMs: 1_500 });
    const got = await server.udpRecv(sfd, { count: 1, timeoutMs: 500 });
    expect(got.datagrams).toEqual([]);
    const ds = delta(before[0], await server.stats());
    const dc = delta(before[1], await client.stats());
    expect(ds['eth.vlan_mismatch'], JSON.stringify(ds)).toBeGreaterThanOrEqual(1);
    expect(dc['eth.vlan_mismatch'], JSON.stringify(dc)).toBeGreaterThanOrEqual(1);
    // Everything each received was the other's, and all of it was refused for its VLAN.
    expect(ds['eth.vlan_mismatch']).toBe(ds['eth.rx']);
    expect(dc['eth.vlan_mismatch']).toBe(dc['eth.rx']);
    expect(ds['arp.requests_in'] + dc['arp.requests_in']).toBe(0);
    expect(ctr(await server.stats(), 'udp.delivered')).toBe(ctr(before[0], 'udp.delivered'));
    expect((await server.neighbours()).filter((n) => n.addr === CLIENT_IP && n.state === 'reachable')).toEqual([]);
  });
});
