/**
 * `npm run demo`: the Linux kernel pings an ffnet stack.
 *
 * Makes a private network namespace, starts a stack in it on a DPDK net_tap port as 10.77.0.2/24,
 * gives the kernel side of the tap 10.77.0.1/24, pings the stack from the kernel with several
 * payload sizes, has the stack ping the kernel back, and prints the replies, the kernel's neighbour
 * entry for the stack's MAC and the stack's counters. Then it cleans up. Nothing leaves the
 * namespace.
 */
import { Netns, requireRoot } from '../testbed/netns.js';
import { StackProcess } from '../testbed/stack-process.js';

const STACK_ADDR = '10.77.0.2';
const KERNEL_ADDR = '10.77.0.1';

function heading(text: string): void {
  console.log(`\n== ${text}`);
}

async function main(): Promise<void> {
  requireRoot();
  const ns = await Netns.create('demo');
  let stack: StackProcess | undefined;
  try {
    heading(`namespace ${ns.name}: starting an ffnet stack on net_tap0 (kernel side: ff0)`);
    stack = await StackProcess.start(ns, {
      dpdk: { vdev: ['net_tap0,iface=ff0'], file_prefix: `ffnet-demo-${process.pid}` },
      port0: { addr: STACK_ADDR, netmask: '255.255.255.0' },
    });
    const [port] = stack.ports;
    console.log(`stack port 0: ${port?.name} (${port?.driver}) ${STACK_ADDR}/24 mac ${port?.mac}`);
    await ns.execOk('ip', ['link', 'set', 'ff0', 'up']);
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_ADDR}/24`, 'dev', 'ff0']);

    for (const size of [0, 56, 1472]) {
      heading(`kernel: ping -c 3 -s ${size} ${STACK_ADDR}`);
      const r = await ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', '-s', String(size), STACK_ADDR]);
      process.stdout.write(r.stdout || r.stderr);
    }

    heading(`kernel: ip neigh show ${STACK_ADDR} dev ff0`);
    process.stdout.write(await ns.execOk('ip', ['neigh', 'show', STACK_ADDR, 'dev', 'ff0']));

    heading(`stack: ping ${KERNEL_ADDR} (3 requests, 56 bytes)`);
    for (const r of await stack.ping(KERNEL_ADDR, { count: 3, intervalMs: 100 })) {
      console.log(r.rttUs >= 0 ? `${r.bytes} bytes from ${KERNEL_ADDR}: seq=${r.seq} ttl=${r.ttl} time=${(r.rttUs / 1000).toFixed(3)} ms` : `seq=${r.seq}: no reply`);
    }

    heading('stack: neighbours');
    console.table(await stack.neighbours());

    heading('stack: counters (non-zero)');
    const stats = await stack.stats();
    console.table(Object.fromEntries(Object.entries(stats.counters).filter(([, v]) => v !== 0).map(([k, v]) => [k, { value: v }])));
    console.log(`packet pool: ${stats.mempool.inUse} of ${stats.mempool.size} mbufs in use (RX descriptors hold a fixed share)`);
  } finally {
    await stack?.close();
    await ns.destroy();
    heading('cleaned up: stack closed, namespace deleted');
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
