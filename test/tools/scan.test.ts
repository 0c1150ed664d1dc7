/**
 * scanStacks (tools/client.ts) against runtime dirs that change under it, as they do while stacks
 * start and stop: a directory removed between listing it and connecting, a socket file left behind,
 * a stack that closes or resets the connection before answering, a runtime dir that is a file. The
 * scan skips each of them and lists the stacks that answer. The "stacks" here are Unix sockets
 * served by this test, answering `info` as the control server does.
 */
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** Directories to remove right after scanStacks has listed them (a stack stopping then). */
const vanishAfterListing = new Set<string>();

vi.mock('node:fs', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs')>();
  const readdirSync = ((path: fs.PathLike, ...rest: unknown[]) => {
    const names = (orig.readdirSync as (p: fs.PathLike, ...r: unknown[]) => string[])(path, ...rest);
    if (vanishAfterListing.has(String(path))) orig.rmSync(String(path), { recursive: true, force: true });
    return names;
  }) as typeof orig.readdirSync;
  return { ...orig, default: { ...orig, readdirSync }, readdirSync };
});

const { scanStacks } = await import('../../tools/client.js');

let base: string;
const servers: Server[] = [];
const conns = new Set<Socket>();

/** A stack's socket at base/prefix/ffnet.<pid>.sock whose server does `onConnection`. */
function serve(prefix: string, pid: number, onConnection: (c: Socket) => void): Promise<string> {
  const dir = join(base, prefix);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `ffnet.${pid}.sock`);
  const server = createServer((c) => {
    conns.add(c);
    onConnection(c);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(path, () => resolve(path)));
}

/** Answers `info` as a stack's control server does. */
function answers(pid: number) {
  return (c: Socket) => c.once('data', () => c.write(`${JSON.stringify({ ok: true, data: { pid, program: `app${pid}.js` } })}\n`));
}

/** Closes the connection with the request unread: the client's read fails with ECONNRESET. */
function resets(c: Socket) {
  c.pause();
  setTimeout(() => c.destroy(), 20);
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'ffnet-scan-'));
});

afterEach(async () => {
  vanishAfterListing.clear();
  for (const c of conns) c.destroy();
  conns.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  rmSync(base, { recursive: true, force: true });
});

describe('scanStacks while stacks come and go', () => {
  it('skips a runtime dir removed between listing it and connecting to its socket', async () => {
    await serve('live', 100, answers(100));
    await serve('stopping', 200, answers(200));
    vanishAfterListing.add(join(base, 'stopping'));
    const scan = await scanStacks([base]);
    expect(scan.stacks.map((s) => s.pid)).toEqual([100]);
    expect(scan.denied).toEqual([]);
  });

  it('skips a socket nobody listens on, a runtime dir that is a file, and a missing base', async () => {
    await serve('live', 100, answers(100));
    const dead = await serve('dead', 300, () => {});
    // A crashed stack: its socket file stays, nobody accepts on it.
    await new Promise((r) => servers.pop()!.close(r));
    writeFileSync(dead, '');
    writeFileSync(join(base, 'not-a-dir'), '');
    const scan = await scanStacks([base, join(base, 'missing')]);
    expect(scan.stacks.map((s) => s.pid)).toEqual([100]);
  });

  it('skips stacks that close or reset the connection before answering, or answer garbage', async () => {
    await serve('live', 100, answers(100));
    await serve('closes', 400, (c) => c.end());
    await serve('resets', 500, resets);
    await serve('garbage', 600, (c) => c.once('data', () => c.end('not json\n')));
    await serve('closes-after-request', 700, (c) => c.once('data', () => c.destroy()));
    const scan = await scanStacks([base]);
    expect(scan.stacks.map((s) => s.pid)).toEqual([100]);
  });

  it('lists the live stacks while others start and stop in a loop (bounded)', async () => {
    await serve('live', 100, answers(100));
    let stop = false;
    const churn = (async () => {
      for (let i = 0; !stop && i < 2000; i++) {
        const pid = 1000 + (i % 8);
        const prefix = `churn-${pid}`;
        const server = createServer(i % 2 ? answers(pid) : resets);
        mkdirSync(join(base, prefix), { recursive: true });
        await new Promise<void>((r) => server.listen(join(base, prefix, `ffnet.${pid}.sock`), () => r()));
        await new Promise((r) => setImmediate(r));
        await new Promise((r) => server.close(r));
        rmSync(join(base, prefix), { recursive: true, force: true });
      }
    })();
    try {
      for (let round = 0; round < 50; round++) {
        const scan = await scanStacks([base]);
        expect(scan.stacks.map((s) => s.pid)).toContain(100);
        expect(scan.denied).toEqual([]);
      }
    } finally {
      stop = true;
      await churn;
    }
  }, 60_000);
});
