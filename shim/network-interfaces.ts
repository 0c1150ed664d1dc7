/**
 * `os.networkInterfaces()` as `ffnet/register` makes programs see it: the interfaces their dgram
 * sockets can use. On the dpdk backend those are the stack's ports (Stack#networkInterfaces: `port<id>`
 * with their IPv4 and IPv6 addresses) plus the kernel's loopback, `lo` (127.0.0.1 and ::1 still work:
 * the program's TCP and other kernel sockets reach the kernel's loopback, its dgram sockets the stack's);
 * the kernel's other interfaces are left out, since no dgram socket of the program reaches them. A program that joins a multicast group on every listed address (multicast-dns) thus
 * joins on the stack's ports instead of failing with ENODEV on the kernel's.
 *
 * The stack is started the way the first dgram socket starts it (FFNET_CONFIG, or attaching to the
 * process's), so the list is right even before any socket exists. When it cannot start, or on the
 * kernel backend (no FFNET_CONFIG and no stack in the process), the kernel's list is returned; a
 * start failure also warns once (FFNET_INTERFACES_KERNEL) and is not retried, as DPDK's environment
 * initialises once per process.
 *
 * Loading this module publishes programInterfaces under Symbol.for('ffnet.register.programInterfaces')
 * for the register hook, which thus needs no require() of an ES module (a warning on Node 22.12) once
 * ffnet/dgram, which imports this module, is loaded.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { Stack } from '../index.js';
import { dpdkConfigured, ensureStack } from './dpdk-io.js';

/** What os.networkInterfaces() returns. */
export type InterfaceList = NodeJS.Dict<NetworkInterfaceInfo[]>;

let startFailure: Error | undefined;

/** The kernel's loopback interfaces of `kernel` (every address internal): `lo` on Linux. */
function kernelLoopback(kernel: InterfaceList): InterfaceList {
  const out: InterfaceList = {};
  for (const [name, list] of Object.entries(kernel)) {
    if (list && list.length > 0 && list.every((i) => i.internal)) out[name] = list;
  }
  return out;
}

/** The stack's handle for this thread, started if needed; undefined (warned once) when it cannot start. */
function stackOrFallback(): Stack | undefined {
  const current = Stack.current();
  if (current) return current;
  if (startFailure) return undefined;
  try {
    return ensureStack();
  } catch (err) {
    startFailure = err as Error;
    process.emitWarning(`os.networkInterfaces(): the ffnet stack did not start, so the kernel's interfaces are listed (${startFailure.message.split('\n')[0]})`,
      { code: 'FFNET_INTERFACES_KERNEL' });
    return undefined;
  }
}

/**
 * os.networkInterfaces() under ffnet/register: the kernel's loopback and the stack's ports on the dpdk
 * backend, else `kernelList()` (the original os.networkInterfaces).
 */
export function programInterfaces(kernelList: () => InterfaceList): InterfaceList {
  if (!dpdkConfigured()) return kernelList();
  const stack = stackOrFallback();
  if (!stack) return kernelList();
  return { ...kernelLoopback(kernelList()), ...stack.networkInterfaces() };
}

(globalThis as unknown as Record<symbol, unknown>)[Symbol.for('ffnet.register.programInterfaces')] = programInterfaces;
