/**
 * The ffnet.ini of one end of a link between two transport peers on ffnet/dgram's dpdk backend, each on
 * its own stack: the publisher's stack (memif client, 10.89.0.1, fd00:89::1) and the subscriber's (memif
 * server, 10.89.0.2, fd00:89::2), with the stack's fault injector (dev.fault.* sysctls) set. The link is
 * net_memif (shared memory, one namespace) or net_af_packet / net_af_xdp on each end of a veth pair (two
 * namespaces, each interface given its stack's MAC).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afPortDevargs, type AfPmd } from '../../testbed/veth-peer.js';

/** The two ends: the subscriber's stack is memif's server, the publisher's its client. */
export const STACKS = {
  pub: { role: 'client', ip: '10.89.0.1', ip6: 'fd00:89::1', mac: '02:00:00:89:00:01' },
  sub: { role: 'server', ip: '10.89.0.2', ip6: 'fd00:89::2', mac: '02:00:00:89:00:02' },
} as const;

/** Receive faults in parts per million, and the injector's seed. */
export interface Faults {
  drop: number;
  dup: number;
  reorder: number;
  seed: number;
}

let serial = 0;

/** What joins the two stacks: a memif socket file, or the kernel interface each end's af_packet port runs on. */
export type StackLink = { kind: 'memif'; socket: string } | { kind: 'kernel'; pmd: AfPmd; iface: string };

/** Writes the ini of `end` into `dir` (memif socket `socket`) and returns its path. */
export function memifIni(dir: string, end: 'pub' | 'sub', socket: string, faults: Faults): string {
  return stackIni(dir, end, { kind: 'memif', socket }, faults);
}

/** Writes the ini of `end` on `link` into `dir` and returns its path. */
export function stackIni(dir: string, end: 'pub' | 'sub', link: StackLink, faults: Faults): string {
  const self = STACKS[end];
  const peer = STACKS[end === 'pub' ? 'sub' : 'pub'];
  const prefix = `ffnet-tr-${self.role}-${process.pid}-${serial++}`;
  const path = join(dir, `${prefix}.ini`);
  writeFileSync(path, [
    '[dpdk]',
    'lcore_mask = 0x1',
    `lcores = 0@${end === 'sub' ? 1 : 0}`,
    'memory = 256',
    `file_prefix = ${prefix}`,
    link.kind === 'memif'
      ? `vdev[] = net_memif0,role=${self.role},socket=${link.socket},socket-abstract=no,mac=${self.mac}`
      : `vdev[] = ${afPortDevargs(link.pmd, link.iface)}`,
    'log_level = warning',
    '[port0]',
    `addr = ${self.ip}`,
    'netmask = 255.255.255.0',
    `addr6[] = ${self.ip6}/64`,
    `arp[] = ${peer.ip} ${peer.mac}`,
    '[sysctl]',
    `dev.fault.rx_drop_ppm = ${faults.drop}`,
    `dev.fault.rx_dup_ppm = ${faults.dup}`,
    `dev.fault.rx_reorder_ppm = ${faults.reorder}`,
    `dev.fault.seed = ${faults.seed}`,
    '',
  ].join('\n'));
  return path;
}
