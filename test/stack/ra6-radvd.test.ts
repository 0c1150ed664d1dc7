/**
 * Router advertisements from the Linux kernel side's radvd (Debian's) configure the stack, over
 * net_tap in a namespace of the test's own: the stack solicits at start, takes radvd's prefix as an
 * on-link route and forms its SLAAC address from it (RFC 4862: the prefix + its EUI-64 identifier,
 * with the advertised lifetimes), takes radvd's link-local address as its default router for the
 * advertised lifetime, and the MTU and hop limit options; the kernel then reaches the stack's
 * autoconfigured address (ping -6).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IFACE, ctr, kernelPeer, waitForStats, type KernelPeer } from './kernel-peer.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(repo, 'dist/tools/cli.js');
const haveRadvd = spawnSync('sh', ['-c', 'command -v radvd'], { encoding: 'utf8' }).status === 0;

interface Inet6 {
  addr: string;
  prefixlen: number;
  state: string;
  origin: string;
  valid_s: number | null;
  preferred_s: number | null;
}

/** `ffnet -p PID args... --json`. */
function ffnetJson<T>(pid: number, args: string[]): T {
  const r = spawnSync(process.execPath, [CLI, '-p', String(pid), ...args, '--json'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`ffnet ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The modified EUI-64 interface identifier of a MAC (RFC 4291 App. A), as the last four groups. */
function eui64(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  return [(b[0]! ^ 2) << 8 | b[1]!, b[2]! << 8 | 0xff, 0xfe00 | b[3]!, b[4]! << 8 | b[5]!].map((x) => x.toString(16)).join(':');
}

describe('router advertisements from radvd configure the stack', () => {
  let peer: KernelPeer;
  let radvd: ChildProcess;
  let radvdLog = '';
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-radvd-'));

  beforeAll(async () => {
    // Debian's radvd comes with the test bench's packages (scripts/setup.sh): without it this is a failure, not a skip.
    if (!haveRadvd) throw new Error('radvd is not installed: bash scripts/setup.sh installs the test bench\'s Debian packages');
    peer = await kernelPeer('ra6-radvd', { sysctl: { 'net.inet6.ip6.accept_rtadv': 1 } });
    // The namespace's kernel has IPv6 off (quietNamespace): on for ff0 alone, as a router.
    await peer.ns.execOk('sysctl', ['-qw', `net.ipv6.conf.${IFACE}.disable_ipv6=0`, 'net.ipv6.conf.all.forwarding=1']);
    const conf = join(dir, 'radvd.conf');
    writeFileSync(conf, `interface ${IFACE} {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 4;
  AdvDefaultLifetime 1800;
  AdvLinkMTU 1400;
  AdvCurHopLimit 32;
  prefix 2001:db8:99::/64 {
    AdvOnLink on;
    AdvAutonomous on;
    AdvValidLifetime 3600;
    AdvPreferredLifetime 1800;
  };
};
`);
    radvd = peer.ns.spawn('radvd', ['-n', '-C', conf, '-p', join(dir, 'radvd.pid'), '-m', 'stderr']);
    radvd.stderr?.setEncoding('utf8').on('data', (d: string) => (radvdLog += d));
  }, 60_000);

  afterAll(async () => {
    radvd?.kill('SIGTERM');
    await peer?.close();
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the stack a SLAAC address, an on-link prefix, a default router, the MTU; the kernel pings the address', async () => {
    const pid = peer.stack.pid!;
    await waitForStats(peer.stack, (s) => ctr(s, 'nd6.autoconf') >= 1, `an address from radvd's prefix (radvd: ${radvdLog})`, 30_000);
    const slaac = `2001:db8:99:0:${eui64(peer.stackMac)}`;
    // Tentative until Duplicate Address Detection passes (net.inet6.ip6.dad_count probes, 1 s each).
    type Port = { inet6: Inet6[]; mtu6: number; hoplimit6: number; mtu: number };
    let port = ffnetJson<Port[]>(pid, ['ifconfig', 'port0'])[0]!;
    for (let i = 0; i < 50 && port.inet6.find((a) => a.addr === slaac)?.state !== 'preferred'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      port = ffnetJson<Port[]>(pid, ['ifconfig', 'port0'])[0]!;
    }
    const a = port.inet6.find((x) => x.addr === slaac);
    expect(a).toMatchObject({ prefixlen: 64, state: 'preferred', origin: 'autoconf' });
    expect(a!.valid_s).toBeGreaterThan(3500);
    expect(a!.valid_s).toBeLessThanOrEqual(3600);
    expect(a!.preferred_s).toBeGreaterThan(1700);
    expect(a!.preferred_s).toBeLessThanOrEqual(1800);
    // AdvLinkMTU and AdvCurHopLimit; IPv4's MTU is the port's own still.
    expect(port).toMatchObject({ mtu6: 1400, hoplimit6: 32, mtu: 1500 });

    const routes = ffnetJson<Array<{ dest: string; prefixlen: number; gateway: string | null; flags: string; expires_s: number | null }>>(pid, ['route', '-6']);
    const kernelLl = (await peer.ns.execOk('ip', ['-6', '-o', 'addr', 'show', 'dev', IFACE, 'scope', 'link'])).match(/inet6 (fe80::[0-9a-f:]+)\//)?.[1];
    expect(kernelLl).toBeDefined();
    expect(routes).toEqual(expect.arrayContaining([
      expect.objectContaining({ dest: '2001:db8:99::', prefixlen: 64, gateway: null, flags: 'U1' }),
      expect.objectContaining({ dest: '::', prefixlen: 0, gateway: kernelLl, flags: 'UG1' }),
    ]));
    const router = routes.find((r) => r.gateway === kernelLl)!;
    expect(router.expires_s).toBeGreaterThan(1700);
    expect(router.expires_s).toBeLessThanOrEqual(1800);
    const s = await peer.stack.stats();
    expect(ctr(s, 'nd6.ra_in')).toBeGreaterThanOrEqual(1);
    expect(ctr(s, 'nd6.rs_out')).toBeGreaterThanOrEqual(1);

    await peer.ns.execOk('ip', ['-6', 'addr', 'add', '2001:db8:99::1/64', 'dev', IFACE, 'nodad']);
    const ping = await peer.ns.exec('ping', ['-6', '-c', '2', '-W', '2', slaac]);
    expect(ping.stdout, ping.stderr).toMatch(/2 packets transmitted, 2 received/);
  }, 60_000);
});
