/**
 * The kernel side of the bench's UDP tests: node:dgram sockets of the Linux kernel, in a process
 * started inside a test's namespace (`node dist/testbed/kernel-udp-host.js`, see kernel-udp.ts) and
 * driven over JSON lines.
 *
 * Protocol: first line `{"event":"ready","pid":N}` on stdout; then one request per stdin line
 * `{"id":1,"method":"open","params":[...]}`, answered by `{"id":1,"result":...}` or
 * `{"id":1,"error":{"message","code"}}`. End of stdin closes every socket and exits.
 *
 * Methods (sid: a socket id from `open`):
 *   - `open({reuseAddr?, recvBufferSize?, type?})` → sid (type 'udp6' for an IPv6 socket); every socket records what it receives from the start;
 *   - `bind(sid, {address?, port?})` → the bound {address, port};
 *   - `connect(sid, {address, port})`, `disconnect(sid)`;
 *   - `setBroadcast(sid, on)`, `addMembership(sid, group, iface?)`, `dropMembership(sid, group, iface?)`,
 *     `setMulticastInterface(sid, addr)`, `setMulticastTTL(sid, ttl)`, `setMulticastLoopback(sid, on)`;
 *   - `send(sid, {to?, size, count, pattern, startSeq})` → {sent, sha1, errors}: datagrams generated
 *     as testbed/payload.ts does, one at a time, each awaited; send errors are collected, not thrown;
 *   - `recv(sid, {count, timeoutMs, smallBytes})` → {datagrams, timedOut}: takes up to `count`
 *     recorded datagrams, waiting up to timeoutMs for them;
 *   - `errors(sid)` → codes of the socket's 'error' events since the last call (ECONNREFUSED, ...);
 *   - `close(sid)`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { describeDatagram, fillPayload, sendPlan, sha1Hex, type DatagramInfo } from './payload.js';

interface Peer {
  sock: Socket;
  inbox: DatagramInfo[];
  errors: string[];
  waiters: Set<() => void>;
  smallBytes: number;
}

const MAX_INBOX = 200_000;
const peers = new Map<number, Peer>();
let nextSid = 1;

function emit(msg: object): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

function peerOf(v: unknown): Peer {
  const p = typeof v === 'number' ? peers.get(v) : undefined;
  if (!p) throw Object.assign(new Error(`no socket ${String(v)}`), { code: 'EBADF' });
  return p;
}

function wake(p: Peer): void {
  for (const w of [...p.waiters]) w();
}

function addrOf(v: unknown): { address: string; port: number } {
  const o = v as { address?: unknown; port?: unknown } | null;
  if (!o || typeof o.address !== 'string' || typeof o.port !== 'number') throw new TypeError('an address is {address, port}');
  return { address: o.address, port: o.port };
}

function open(o: { reuseAddr?: boolean; recvBufferSize?: number; smallBytes?: number; type?: string }): number {
  const sock = createSocket({ type: o.type === 'udp6' ? 'udp6' : 'udp4', reuseAddr: o.reuseAddr === true });
  const p: Peer = { sock, inbox: [], errors: [], waiters: new Set(), smallBytes: o.smallBytes ?? 64 };
  sock.on('message', (msg, rinfo) => {
    if (p.inbox.length < MAX_INBOX) p.inbox.push(describeDatagram(msg, rinfo.address, rinfo.port, p.smallBytes));
    wake(p);
  });
  sock.on('error', (err: NodeJS.ErrnoException) => {
    p.errors.push(String(err.code ?? err.message));
    wake(p);
  });
  const sid = nextSid++;
  peers.set(sid, p);
  if (o.recvBufferSize !== undefined) {
    // Only a bound socket takes buffer sizes; the caller binds next and sets it then.
    sock.once('listening', () => sock.setRecvBufferSize(o.recvBufferSize as number));
  }
  return sid;
}

function bind(p: Peer, o: { address?: string; port?: number }): Promise<{ address: string; port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    p.sock.once('error', onError);
    p.sock.bind({ address: o.address ?? '0.0.0.0', port: o.port ?? 0 }, () => {
      p.sock.removeListener('error', onError);
      const a = p.sock.address();
      resolve({ address: a.address, port: a.port });
    });
  });
}

function connect(p: Peer, to: { address: string; port: number }): Promise<null> {
  return new Promise((resolve, reject) => {
    p.sock.connect(to.port, to.address, (err?: Error) => (err ? reject(err) : resolve(null)));
  });
}

async function send(p: Peer, o: Record<string, unknown>): Promise<{ sent: number; sha1: string[]; errors: string[] }> {
  const plan = sendPlan(o);
  const to = o.to === undefined ? undefined : addrOf(o.to);
  const sha1: string[] = [];
  const errors: string[] = [];
  let sent = 0;
  for (let i = 0; i < plan.count; i++) {
    const data = fillPayload(new Uint8Array(plan.size), plan.pattern, plan.startSeq + i);
    if (plan.count <= 1024) sha1.push(sha1Hex(data));
    const err = await new Promise<Error | null>((resolve) => {
      const cb = (e: Error | null): void => resolve(e);
      if (to) p.sock.send(data, to.port, to.address, cb);
      else p.sock.send(data, cb);
    });
    if (err) errors.push(String((err as NodeJS.ErrnoException).code ?? err.message));
    else sent++;
  }
  return { sent, sha1, errors };
}

async function recv(p: Peer, o: { count?: number; timeoutMs?: number }): Promise<{ datagrams: DatagramInfo[]; timedOut: boolean }> {
  const count = o.count ?? 1;
  const timeoutMs = Math.min(o.timeoutMs ?? 2_000, 600_000);
  if (p.inbox.length < count && timeoutMs > 0) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        p.waiters.delete(check);
        resolve();
      };
      const check = (): void => {
        if (p.inbox.length >= count) done();
      };
      const timer = setTimeout(done, timeoutMs);
      p.waiters.add(check);
    });
  }
  const datagrams = p.inbox.splice(0, count);
  return { datagrams, timedOut: datagrams.length < count };
}

async function dispatch(method: string, a: unknown[]): Promise<unknown> {
  switch (method) {
    case 'open':
      return open((a[0] ?? {}) as { reuseAddr?: boolean; recvBufferSize?: number; smallBytes?: number; type?: string });
    case 'bind':
      return bind(peerOf(a[0]), (a[1] ?? {}) as { address?: string; port?: number });
    case 'connect':
      return connect(peerOf(a[0]), addrOf(a[1]));
    case 'disconnect':
      peerOf(a[0]).sock.disconnect();
      return null;
    case 'setBroadcast':
      peerOf(a[0]).sock.setBroadcast(a[1] === true);
      return null;
    case 'addMembership':
      peerOf(a[0]).sock.addMembership(String(a[1]), a[2] === undefined ? undefined : String(a[2]));
      return null;
    case 'dropMembership':
      peerOf(a[0]).sock.dropMembership(String(a[1]), a[2] === undefined ? undefined : String(a[2]));
      return null;
    case 'setMulticastInterface':
      peerOf(a[0]).sock.setMulticastInterface(String(a[1]));
      return null;
    case 'setMulticastTTL':
      peerOf(a[0]).sock.setMulticastTTL(Number(a[1]));
      return null;
    case 'setMulticastLoopback':
      peerOf(a[0]).sock.setMulticastLoopback(a[1] === true);
      return null;
    case 'send':
      return send(peerOf(a[0]), (a[1] ?? {}) as Record<string, unknown>);
    case 'recv':
      return recv(peerOf(a[0]), (a[1] ?? {}) as { count?: number; timeoutMs?: number });
    case 'errors': {
      const p = peerOf(a[0]);
      return p.errors.splice(0);
    }
    case 'close': {
      const p = peerOf(a[0]);
      peers.delete(a[0] as number);
      await new Promise<void>((resolve) => p.sock.close(() => resolve()));
      return null;
    }
    default:
      throw Object.assign(new Error(`unknown method ${JSON.stringify(method)}`), { code: 'ENOSYS' });
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let req: { id?: unknown; method?: unknown; params?: unknown };
  try {
    req = JSON.parse(line) as typeof req;
  } catch {
    emit({ event: 'bad-request', line: line.slice(0, 200) });
    return;
  }
  const id = req.id;
  if (typeof id !== 'number' || typeof req.method !== 'string') {
    emit({ event: 'bad-request', line: line.slice(0, 200) });
    return;
  }
  dispatch(req.method, Array.isArray(req.params) ? req.params : []).then(
    (result) => emit({ id, result: result ?? null }),
    (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      emit({ id, error: { message: e?.message ?? String(err), code: e?.code === undefined ? undefined : String(e.code) } });
    },
  );
});
rl.on('close', () => {
  for (const p of peers.values()) p.sock.close();
  process.exit(0);
});
emit({ event: 'ready', pid: process.pid });
