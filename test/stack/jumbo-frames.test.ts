/**
 * Jumbo frames at start: a port whose MTU makes frames larger than one of the pool's mbufs needs a
 * device that takes that MTU and scatters received frames into chains; a device that cannot refuses the
 * start with an error naming the port, the device, the MTU asked and what the device takes.
 *
 * DPDK 22.11's net_tap advertises 1522-byte frames at most, net_af_packet 1518 (and a 2048-byte ring
 * frame), net_memif 1518; net_null offers no RX scatter. Each gives its own clear refusal here;
 * net_ring, which scatters and sends chains, starts. (net_pcap, which chains without advertising it,
 * carries jumbo frames to the kernel in jumbo-kernel.test.ts.) What a jumbo port does with chained frames (receive, delivery, echo,
 * unfragmented sends, fragments cut at the MTU, devices without multi-segment sends, IPv6) is covered
 * by test/stack/jumbo_test.c.
 */
import { describe, expect, it } from 'vitest';
import { StackProcess, type RawConfig } from '../../testbed/stack-process.js';
import { peerConfig, quietNamespace, uniquePrefix } from './kernel-peer.js';
import { ffnet } from '../tools/harness.js';

const MTU = 9000;

async function startFails(label: string, config: (prefix: string, ns: Parameters<typeof peerConfig>[0]) => RawConfig): Promise<string> {
  const ns = await quietNamespace(label);
  try {
    const stack = await StackProcess.start(ns, config(uniquePrefix(label), ns), { readyTimeoutMs: 30_000 }).catch((err: unknown) => err);
    if (stack instanceof StackProcess) {
      await stack.close();
      throw new Error(`${label}: the stack started at mtu ${MTU}`);
    }
    return String((stack as Error).message);
  } finally {
    await ns.destroy();
  }
}

describe('a port at mtu 9000', () => {
  it('net_tap (frames of 1522 bytes at most) refuses the start, naming port, device and limits', async () => {
    const msg = await startFails('jumbo-tap', (_prefix, ns) => peerConfig(ns, { port0: { mtu: MTU } }));
    expect(msg).toContain(`port 0 (net_tap0): mtu ${MTU} is more than the device (net_tap) takes: frames of at most 1522 bytes, mtu 1504 at most`);
  });

  it('net_af_packet (frames of 1518 bytes at most) refuses the start', async () => {
    const msg = await startFails('jumbo-afp', (prefix) => ({
      dpdk: { vdev: 'net_af_packet0,iface=lo', file_prefix: prefix },
      port0: { addr: '10.91.0.1', netmask: '255.255.255.0', mtu: MTU },
    }));
    expect(msg).toContain(`port 0 (net_af_packet0): mtu ${MTU} is more than the device (net_af_packet) takes: frames of at most 1518 bytes, mtu 1500 at most`);
  });

  it('net_null (no RX scatter) refuses the start: its frames would not fit one mbuf', async () => {
    const msg = await startFails('jumbo-null', (prefix) => ({
      dpdk: { vdev: 'net_null0', file_prefix: prefix },
      port0: { addr: '10.91.0.1', netmask: '255.255.255.0', mtu: MTU },
    }));
    expect(msg).toContain(
      `port 0 (net_null0): mtu ${MTU} needs ${MTU + 14}-byte frames received into chains of 2048-byte mbufs, and the device (net_null) offers no RX scatter: mtu 2034 at most`,
    );
  });

  it('net_ring (RX scatter, multi-segment sends) starts at mtu 9000', async () => {
    const ns = await quietNamespace('jumbo-ring-ok');
    try {
      const stack = await StackProcess.start(ns, {
        dpdk: { vdev: 'net_ring0', file_prefix: uniquePrefix('jumbo-ring-ok') },
        port0: { addr: '10.91.0.1', netmask: '255.255.255.0', mtu: MTU },
      });
      try {
        expect((await stack.currentPorts())[0]?.mtu).toBe(MTU);
      } finally {
        await stack.close();
      }
    } finally {
      await ns.destroy();
    }
  });

  it('ffnet ifconfig refuses a jumbo mtu on a running port its device was not started for, and names the fix', async () => {
    const ns = await quietNamespace('jumbo-ifconfig');
    try {
      const stack = await StackProcess.start(ns, {
        dpdk: { vdev: 'net_ring0', file_prefix: uniquePrefix('jumbo-ifconfig') },
        port0: { addr: '10.91.0.1', netmask: '255.255.255.0' },
      });
      try {
        const bad = await ffnet(stack.pid!, ['ifconfig', 'port0', 'mtu', String(MTU)]);
        expect(bad.code).toBe(1);
        expect(bad.stderr).toBe(
          `ffnet ifconfig: mtu ${MTU} on port0 needs frames received into chains of mbufs (RX scatter), which its device was not started for: set [port0] mtu = ${MTU} and restart\n`,
        );
        expect((await stack.currentPorts())[0]?.mtu).toBe(1500);
        expect((await ffnet(stack.pid!, ['ifconfig', 'port0', 'mtu', '2034'])).code).toBe(0);
        expect((await stack.currentPorts())[0]?.mtu).toBe(2034);
      } finally {
        await stack.close();
      }
    } finally {
      await ns.destroy();
    }
  });
});
