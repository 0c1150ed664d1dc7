/**
 * Smoke tests of ffnet/dgram on both backends over 127.0.0.1: bind, send in several forms, receive
 * with rinfo, the batch API, connect and ECONNREFUSED, close, and a few of node:dgram's argument
 * errors. The kernel backend runs first; the dpdk backend then starts a loopback-only stack inline
 * in this process (FFNET_CONFIG names an ffnet.ini with just a file prefix).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack } from '../../index.js';
import dgram, { Socket, type DatagramBatch, type RemoteInfo } from '../../shim/dgram.js';

type Received = { msg: string; rinfo: RemoteInfo };

function bound(s: Socket, address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve(s.address().port));
  });
}

function collect(s: Socket, n: number): Promise<Received[]> {
  const out: Received[] = [];
  return new Promise((resolve) => {
    s.on('message', (msg, rinfo) => {
      out.push({ msg: msg.toString(), rinfo });
      if (out.length === n) resolve(out);
    });
  });
}

const closed = (s: Socket): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

describe.each(['kernel', 'dpdk'] as const)('ffnet/dgram smoke (%s backend)', (backend) => {
  beforeAll(() => {
    if (backend === 'dpdk') {
      const dir = mkdtempSync(join(tmpdir(), 'ffnet-dgram-'));
      const ini = join(dir, 'ffnet.ini');
      writeFileSync(ini, `[dpdk]\nfile_prefix = dgram-smoke-${process.pid}\n`);
      process.env.FFNET_CONFIG = ini;
    } else {
      delete process.env.FFNET_CONFIG;
    }
  });
  afterAll(() => {
    if (backend === 'dpdk') {
      Stack.current()?.closeNow();
      delete process.env.FFNET_CONFIG;
    }
  });

  it('binds, sends every payload form, receives with rinfo, closes', async () => {
    const r = dgram.createSocket('udp4');
    const s = dgram.createSocket('udp4');
    expect(r.backend).toBe(backend);
    expect(r).toBeInstanceOf(Socket);
    expect(Object.keys(r)).toEqual(['_events', '_eventsCount', '_maxListeners', 'type']);
    const port = await bound(r);
    const got = collect(r, 4);
    const results: Array<[Error | null, number | undefined]> = [];
    await new Promise<void>((resolve) => {
      s.send('hello', port, (err, n) => results.push([err, n]));
      s.send(['a', Buffer.from('b'), new Uint16Array([0x6463])], port, '127.0.0.1', (err, n) => results.push([err, n]));
      s.send(Buffer.alloc(0), port, '127.0.0.1', (err, n) => results.push([err, n]));
      s.send('héllo', 1, 3, port, '127.0.0.1', (err, n) => {
        results.push([err, n]);
        resolve();
      });
    });
    expect(results).toEqual([[null, 5], [null, 4], [null, 0], [null, 3]]);
    const msgs = await got;
    expect(msgs.map((m) => m.msg)).toEqual(['hello', 'abcd', '', 'él']);
    const from = s.address();
    expect(from.address).toBe('0.0.0.0');
    expect(msgs[0]?.rinfo).toEqual({ address: '127.0.0.1', family: 'IPv4', port: from.port, size: 5 });
    await Promise.all([closed(r), closed(s)]);
    expect(() => r.address()).toThrow('Not running');
  });

  it('throws node:dgram\'s argument errors', () => {
    const s = dgram.createSocket('udp4');
    expect(() => s.send('x', 0)).toThrow(expect.objectContaining({
      code: 'ERR_SOCKET_BAD_PORT', message: 'Port should be > 0 and < 65536. Received type number (0).' }));
    expect(() => s.send(123 as unknown as string, 1234)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => s.address()).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'getsockname', errno: -9 }));
    expect(() => dgram.createSocket('udp5' as 'udp4')).toThrow('Bad socket type specified. Valid types are: udp4, udp6');
    let text = '';
    try {
      s.connect(0);
    } catch (err) {
      text = String(err);
      expect((err as Error).constructor).toBe(RangeError);
    }
    expect(text).toBe('RangeError [ERR_SOCKET_BAD_PORT]: Port should be > 0 and < 65536. Received type number (0).');
    s.close();
  });

  it('reports EADDRINUSE like node:dgram', async () => {
    const a = dgram.createSocket('udp4');
    const port = await bound(a);
    const b = dgram.createSocket('udp4');
    const err = await new Promise<NodeJS.ErrnoException & { address?: string; port?: number }>((resolve) => {
      b.on('error', resolve);
      b.bind(port, '127.0.0.1');
    });
    expect(err.message).toBe(`bind EADDRINUSE 127.0.0.1:${port}`);
    expect(Object.keys(err)).toEqual(['errno', 'code', 'syscall', 'address', 'port']);
    b.close();
    await closed(a);
  });

  it('connects, and a closed peer port surfaces as recvmsg ECONNREFUSED', async () => {
    const peer = dgram.createSocket('udp4');
    const peerPort = await bound(peer);
    await closed(peer);
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.connect(peerPort, '127.0.0.1', () => resolve()));
    expect(s.remoteAddress()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: peerPort });
    const err = new Promise<NodeJS.ErrnoException>((resolve) => s.once('error', resolve));
    s.send('x');
    expect((await err).message).toBe('recvmsg ECONNREFUSED');
    await closed(s);
  });

  it('sendBatch and the messages event move batches', async () => {
    const r = dgram.createSocket('udp4');
    const port = await bound(r);
    const s = dgram.createSocket('udp4');
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      r.on('messages', (batch: DatagramBatch) => {
        for (let i = 0; i < batch.count; i++) seen.push(batch.data(i).toString());
        expect(batch.rinfo(0)).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
        if (seen.length === 50) resolve();
      });
    });
    const msgs = Array.from({ length: 50 }, (_, i) => ({ msg: `m${i}`, port, address: '127.0.0.1' }));
    const sent = await new Promise<number>((resolve, reject) => s.sendBatch(msgs, (err, n) => (err ? reject(err) : resolve(n))));
    expect(sent).toBe(50);
    await done;
    expect(seen).toEqual(msgs.map((m) => m.msg));
    await Promise.all([closed(r), closed(s)]);
  });
});
