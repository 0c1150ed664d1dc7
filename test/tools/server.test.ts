/**
 * The control server's protocol and limits, spoken directly on its Unix socket (stack/ctl/ctl.h):
 * pipelined requests answered in order, one-line errors that leave the connection usable, an
 * over-long line refused, at most 16 connections, and a stack that stops with idle tool connections
 * open ends them and exits at once instead of waiting for them.
 */
import { createConnection, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { nodeStackSuite } from './harness.js';

interface Conn { socket: Socket; lines: string[]; closed: Promise<void> }

function connect(path: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    const lines: string[] = [];
    let partial = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, lines, closed }));
  });
}

async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the control server', () => {
  const stack = nodeStackSuite('tools-server', 9700);

  it('answers pipelined requests in order; errors are one line and keep the connection', async () => {
    const c = await connect(stack.ctlSocket);
    c.socket.write('info\nbogus\nsysctl.get name=net.inet.ip.ttl\nsysctl.get\nsysctl.set name=net.inet.ip.ttl value=0\ninfo x\n\nsysctl.get name=net.inet.ip.ttl\n');
    await until(() => c.lines.length >= 8, 'eight replies');
    const r = c.lines.map((l) => JSON.parse(l) as { ok: boolean; code?: string; error?: string; data?: Record<string, unknown> });
    expect(r[0]).toMatchObject({ ok: true, data: { pid: stack.app.pid } });
    expect(r.slice(1, 7)).toEqual([
      { ok: false, code: 'ENOENT', error: "unknown command 'bogus'" },
      { ok: true, data: expect.objectContaining({ name: 'net.inet.ip.ttl', value: 64 }) },
      { ok: false, code: 'EINVAL', error: 'sysctl.get: name= is required' },
      { ok: false, code: 'ERANGE', error: 'net.inet.ip.ttl: 0 is out of range (1..255 hops)' },
      { ok: false, code: 'EINVAL', error: "argument 'x' is not key=value" },
      { ok: false, code: 'EINVAL', error: 'empty request' },
    ]);
    expect(r[7]).toMatchObject({ ok: true, data: { value: 64 } });
    c.socket.destroy();
  });

  it('refuses a request line longer than 8 KiB and closes', async () => {
    const c = await connect(stack.ctlSocket);
    c.socket.write(`info pad=${'x'.repeat(9000)}\n`);
    await c.closed;
    expect(c.lines.map((l) => JSON.parse(l) as unknown)).toEqual([{ ok: false, code: 'E2BIG', error: 'request line longer than 8192 bytes' }]);
  });

  it('serves 16 connections at once and refuses the 17th with one line', async () => {
    const conns: Conn[] = [];
    try {
      for (let i = 0; i < 16; i++) conns.push(await connect(stack.ctlSocket));
      for (const c of conns) c.socket.write('sysctl.get name=net.inet.ip.ttl\n');
      await until(() => conns.every((c) => c.lines.length === 1), 'every connection answered');
      const extra = await connect(stack.ctlSocket);
      await extra.closed;
      expect(extra.lines.map((l) => JSON.parse(l) as unknown)).toEqual([{ ok: false, code: 'EBUSY', error: 'too many tool connections to this stack (16): try again' }]);
    } finally {
      for (const c of conns) c.socket.destroy();
    }
    // Their threads are gone: a new connection is served again.
    let served = false;
    for (let i = 0; i < 50 && !served; i++) {
      const c = await connect(stack.ctlSocket);
      c.socket.write('info\n');
      await Promise.race([until(() => c.lines.length > 0, 'a reply', 1_000).catch(() => undefined), c.closed]);
      served = c.lines.length > 0 && (JSON.parse(c.lines[0]!) as { ok: boolean }).ok;
      c.socket.destroy();
      if (!served) await new Promise((r) => setTimeout(r, 50));
    }
    expect(served).toBe(true);
  });

  it('ends idle tool connections when the stack stops, without waiting for them', async () => {
    const idle = await Promise.all([connect(stack.ctlSocket), connect(stack.ctlSocket), connect(stack.ctlSocket)]);
    const t0 = Date.now();
    stack.app.send('exit');
    await stack.ns.waitFor(async () => stack.app.child.exitCode !== null, 'the program to exit', 10_000);
    await Promise.all(idle.map((c) => c.closed));
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(stack.app.child.exitCode).toBe(0);
  }, 20_000);
});
