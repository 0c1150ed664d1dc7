/**
 * net.inet6.ip6.v6only on ffnet/dgram's dpdk backend, as Linux's net.ipv6.bindv6only on node:dgram:
 * a udp6 socket takes the sysctl's value when it is made (at bind, as libuv's), so with 1 a socket on `::` without
 * `ipv6Only` is IPv6-only (its port's IPv4 side stays free, IPv4 datagrams do not reach it), and with
 * 0 it is dual-stack unless `ipv6Only: true`. A loopback-only stack inline in this process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack } from '../../index.js';
import dgram, { type RemoteInfo, type Socket } from '../../shim/dgram.js';

function bind(s: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

function bindError(s: Socket, port: number, address: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? String(e)));
    s.bind(port, address, () => resolve('bound'));
  });
}

/** The first datagram s receives within 500 ms, or null. */
function next(s: Socket): Promise<{ msg: string; rinfo: RemoteInfo } | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), 500);
    s.once('message', (msg, rinfo) => {
      clearTimeout(t);
      resolve({ msg: msg.toString(), rinfo });
    });
  });
}

const closed = (s: Socket): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

describe('net.inet6.ip6.v6only and udp6 sockets (dpdk backend)', () => {
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'ffnet-v6only-'));
    const ini = join(dir, 'ffnet.ini');
    writeFileSync(ini, `[dpdk]\nfile_prefix = dgram-v6only-${process.pid}\n`);
    process.env.FFNET_CONFIG = ini;
  });
  afterAll(() => {
    Stack.current()?.closeNow();
    delete process.env.FFNET_CONFIG;
  });

  it('makes `::` sockets bound after `sysctl -w net.inet6.ip6.v6only=1` IPv6-only; ipv6Only still overrides', async () => {
    const sender4 = dgram.createSocket('udp4');
    expect(sender4.backend).toBe('dpdk');
    const stack = Stack.current()!;
    expect(stack.sysctl('net.inet6.ip6.v6only')).toBe(0);
    // As libuv's, a socket is made when it binds: it takes the sysctl's value then, and keeps it.
    const dual = dgram.createSocket('udp6');
    await bind(dual, 7551, '::');
    stack.sysctl('net.inet6.ip6.v6only', 1);
    const only = dgram.createSocket('udp6');
    expect(await bindError(dgram.createSocket('udp4'), 7551, '0.0.0.0')).toBe('EADDRINUSE');
    // The new one is IPv6-only: 0.0.0.0 on its port is free and gets the IPv4 datagrams.
    await bind(only, 7552, '::');
    const v4 = dgram.createSocket('udp4');
    await bind(v4, 7552, '0.0.0.0');
    const at4 = next(v4);
    const at6 = next(only);
    sender4.send('four', 7552, '127.0.0.1');
    expect((await at4)?.msg).toBe('four');
    expect(await at6).toBeNull();
    const sender6 = dgram.createSocket('udp6');
    const got6 = next(only);
    sender6.send('six', 7552, '::1');
    expect((await got6)?.rinfo.address).toBe('::1');
    // The dual-stack one still takes IPv4, as ::ffff:127.0.0.1.
    const gotDual = next(dual);
    sender4.send('mapped', 7551, '127.0.0.1');
    const d = await gotDual;
    expect(d?.msg).toBe('mapped');
    expect(d?.rinfo.address).toBe('::ffff:127.0.0.1');
    // Back to 0: a new socket is dual-stack unless ipv6Only.
    stack.sysctl('net.inet6.ip6.v6only', 0);
    const again = dgram.createSocket('udp6');
    await bind(again, 7553, '::');
    expect(await bindError(dgram.createSocket('udp4'), 7553, '0.0.0.0')).toBe('EADDRINUSE');
    const forced = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    await bind(forced, 7554, '::');
    const v4b = dgram.createSocket('udp4');
    await bind(v4b, 7554, '0.0.0.0');
    for (const s of [sender4, sender6, dual, only, v4, again, forced, v4b]) await closed(s);
  });
});
