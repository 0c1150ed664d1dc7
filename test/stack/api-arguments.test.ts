/**
 * Arguments at the API edges of a running stack: ffnet/posix refuses a descriptor that is not a
 * non-negative int32 with EBADF, as the kernel does, rather than letting it wrap onto another socket;
 * the socket table holds the 4096 descriptors it documents; `Stack.sysctl` refuses a value that is
 * not an integer. Each case runs in a child process with a loopback-only stack, inside a namespace
 * of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { runChild } from './child-stack.js';
import { uniquePrefix } from './kernel-peer.js';

let ns: Netns;

beforeAll(async () => {
  requireRoot();
  ns = await Netns.create('api-args');
});
afterAll(async () => {
  await ns?.destroy();
});

/** Runs `body` after starting a loopback-only stack (`stack`) and importing ffnet/posix (`P`). */
async function withStack<T>(label: string, body: string): Promise<T> {
  const prefix = uniquePrefix(label);
  const r = await runChild<T>(ns, `import { Stack } from 'ffnet';\nimport * as P from 'ffnet/posix';\n`
    + `const stack = Stack.startSync({ config: { dpdk: { file_prefix: ${JSON.stringify(prefix)} } } });\n${body}\nstack.close();\n`, { prefixes: [prefix] });
  if (r.report === undefined) throw new Error(`the child reported nothing (code ${r.code}, signal ${r.signal})\n${r.stderr}\n${r.stdout}`);
  return r.report;
}

describe('ffnet/posix descriptors', () => {
  it('refuses descriptors that are not non-negative int32s with EBADF, leaving socket 0 alone', async () => {
    const report = await withStack<{ fd0: number; results: Record<string, string>; port: number; open: string }>('api-fd', `
      const K = P.constants;
      const fd0 = P.ff_socket(K.AF_INET, K.SOCK_DGRAM, 0);
      // Non-blocking, so that a call that wrongly reaches socket 0 returns instead of waiting.
      P.ff_ioctl(fd0, K.FIONBIO, 1);
      const addr = { address: '127.0.0.1', port: 0 };
      const bad = [2 ** 40, 2 ** 32, 1.5, -1, NaN, Infinity, 2 ** 31, '0', null];
      const calls = {
        ff_bind: (fd) => P.ff_bind(fd, addr),
        ff_connect: (fd) => P.ff_connect(fd, { address: '127.0.0.1', port: 9 }),
        ff_sendto: (fd) => P.ff_sendto(fd, 'x', 0, { address: '127.0.0.1', port: 9 }),
        ff_recvfrom: (fd) => P.ff_recvfrom(fd, new Uint8Array(8)),
        ff_sendmmsg: (fd) => P.ff_sendmmsg(fd, [{ data: 'x', to: { address: '127.0.0.1', port: 9 } }]),
        ff_recvmmsg: (fd) => P.ff_recvmmsg(fd, new P.RecvArena(2, 64)),
        ff_getsockname: (fd) => P.ff_getsockname(fd),
        ff_getpeername: (fd) => P.ff_getpeername(fd),
        ff_setsockopt: (fd) => P.ff_setsockopt(fd, K.SOL_SOCKET, K.SO_REUSEADDR, 1),
        ff_getsockopt: (fd) => P.ff_getsockopt(fd, K.SOL_SOCKET, K.SO_REUSEADDR),
        ff_ioctl: (fd) => P.ff_ioctl(fd, K.FIONBIO, 1),
        ff_fcntl: (fd) => P.ff_fcntl(fd, K.F_GETFL, 0),
        ff_epoll_ctl: (fd) => P.ff_epoll_ctl(fd, K.EPOLL_CTL_ADD, fd0, { events: K.EPOLLIN, data: 1 }),
        ff_epoll_wait: (fd) => P.ff_epoll_wait(fd, 4, 0),
        ff_close: (fd) => P.ff_close(fd),
      };
      const results = {};
      for (const [name, call] of Object.entries(calls)) {
        for (const fd of bad) {
          let what;
          try {
            call(fd);
            what = 'returned';
          } catch (e) {
            what = \`\${e.syscall} \${e.code}\`;
          }
          results[\`\${name}(\${String(fd)})\`] = what;
        }
      }
      let open;
      try {
        P.ff_getsockname(fd0);
        open = 'open';
      } catch (e) {
        open = e.code;
      }
      report({ fd0, results, port: P.ff_getsockname(fd0).port, open });
    `);
    expect(report.fd0).toBe(0);
    const expected = Object.fromEntries(Object.keys(report.results).map((k) => [k, `${k.slice(0, k.indexOf('('))} EBADF`]));
    expect(report.results).toEqual(expected);
    // None of them reached socket 0: it is still open and unbound.
    expect(report.open).toBe('open');
    expect(report.port).toBe(0);
  });
});

describe('ffnet/posix socket table', () => {
  it('holds 4096 sockets (descriptors 0..4095); the next is refused with EMFILE and nothing printed', async () => {
    const prefix = uniquePrefix('api-socks');
    const r = await runChild<{ opened: number; last: number; refusal: string; reopened: number }>(ns, `
      import { Stack } from 'ffnet';
      import * as P from 'ffnet/posix';
      const stack = Stack.startSync({ config: { dpdk: { file_prefix: ${JSON.stringify(prefix)}, log: 'stderr' } } });
      const K = P.constants;
      const fds = [];
      let refusal = 'none';
      for (let i = 0; i < 5000; i++) {
        try {
          fds.push(P.ff_socket(K.AF_INET, K.SOCK_DGRAM, 0));
        } catch (e) {
          refusal = e.code;
          break;
        }
      }
      const opened = fds.length;
      const last = fds[fds.length - 1];
      for (const fd of fds) P.ff_close(fd);
      let reopened = 0;
      for (let i = 0; i < 4096; i++) reopened += P.ff_socket(K.AF_INET, K.SOCK_DGRAM, 0) >= 0 ? 1 : 0;
      report({ opened, last, refusal, reopened });
      stack.close();
    `, { prefixes: [prefix], timeoutMs: 60_000 });
    expect(r.report, r.stderr).toEqual({ opened: 4096, last: 4095, refusal: 'EMFILE', reopened: 4096 });
    // With DPDK's log on stderr: the refusal is the caller's errno, not log lines.
    expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('TELEMETRY:'))).toEqual([]);
  });
});

describe('Stack.sysctl', () => {
  it('refuses a value that is not an integer with a RangeError, leaving the tunable unchanged', async () => {
    const report = await withStack<{ errors: string[]; ttl: number }>('api-sysctl', `
      const errors = [];
      for (const v of [1.5, NaN, Infinity, 2 ** 53 + 2]) {
        try {
          stack.sysctl('net.inet.ip.ttl', v);
          errors.push('set');
        } catch (e) {
          errors.push(\`\${e.constructor.name}: \${e.message}\`);
        }
      }
      report({ errors, ttl: stack.sysctl('net.inet.ip.ttl') });
    `);
    expect(report.errors).toEqual([
      'RangeError: sysctl net.inet.ip.ttl: 1.5 is not an integer',
      'RangeError: sysctl net.inet.ip.ttl: NaN is not an integer',
      'RangeError: sysctl net.inet.ip.ttl: Infinity is not an integer',
      'RangeError: sysctl net.inet.ip.ttl: 9007199254740994 is not an integer',
    ]);
    expect(report.ttl).toBe(64);
  });
});

describe('routes at run time', () => {
  it('Stack.addRoute/deleteRoute check their arguments and report the stack\'s errors with codes; ff_route_ctl from TypeScript', async () => {
    const prefix = uniquePrefix('api-routes');
    const r = await runChild<{ errors: string[]; routes: unknown[]; afterDelete: unknown[] }>(ns, `import { Stack } from 'ffnet';\n`
      + `import * as P from 'ffnet/posix';\n`
      + `const stack = Stack.startSync({ config: { dpdk: { file_prefix: ${JSON.stringify(prefix)}, vdev: 'net_null0' },\n`
      + `  port0: { addr: '10.0.0.1', netmask: '255.255.255.0', route: '10.99.0.0/16 via 10.0.0.9 metric 3' } } });\n`
      + `const errors = [];
      const attempt = (f) => { try { f(); errors.push('ok'); } catch (e) { errors.push(\`\${e.constructor.name} \${e.code ?? ''} \${e.message}\`); } };
      attempt(() => stack.addRoute({ dest: '10.98.0.0', via: '10.0.0.9' }));
      attempt(() => stack.addRoute({ dest: '10.98.0.1/16', via: '10.0.0.9' }));
      attempt(() => stack.addRoute({ dest: '10.98.0.0/16', via: 'gw' }));
      attempt(() => stack.addRoute({ dest: '10.98.0.0/16', via: '10.0.0.9', metric: -1 }));
      attempt(() => stack.addRoute({ dest: '10.98.0.0/16', via: '10.0.0.9', src: '10.0.0.2' }));
      attempt(() => stack.addRoute({ dest: '10.98.0.0/16', via: '10.5.0.9' }));
      attempt(() => stack.addRoute({ dest: '10.99.0.0/16', via: '10.0.0.8', metric: 3 }));
      attempt(() => stack.addRoute({ dest: '10.98.0.0/16', via: '10.0.0.9', src: '10.0.0.1', metric: 7 }));
      attempt(() => stack.deleteRoute('10.97.0.0/16'));
      attempt(() => stack.deleteRoute('10.0.0.0/24'));
      attempt(() => P.ff_route_ctl(P.constants.FF_ROUTE_ADD, P.constants.FF_RTF_GATEWAY, '172.16.0.0', '10.0.0.7', '255.240.0.0'));
      attempt(() => P.ff_route_ctl(P.constants.FF_ROUTE_ADD, P.constants.FF_RTF_HOST, '172.16.0.9', '10.7.0.7'));
      const routes = stack.routes();
      stack.deleteRoute('10.98.0.0/16', { metric: 7 });
      P.ff_route_ctl(P.constants.FF_ROUTE_DEL, P.constants.FF_RTF_GATEWAY, '172.16.0.0', null, '255.240.0.0');
      report({ errors, routes, afterDelete: stack.routes() });\nstack.close();\n`, { prefixes: [prefix] });
    if (r.report === undefined) throw new Error(`the child reported nothing (code ${r.code}, signal ${r.signal})\n${r.stderr}\n${r.stdout}`);
    expect(r.report.errors).toEqual([
      'TypeError  addRoute: dest "10.98.0.0" is not NET/LEN or default',
      'TypeError  addRoute: 10.98.0.1/16 has host bits set (the network of a /16 ends in zeros)',
      'TypeError  addRoute: via "gw" is not an IPv4 address',
      'RangeError  addRoute: metric must be an integer 0..4294967295, got -1',
      'StackSystemError EADDRNOTAVAIL addRoute EADDRNOTAVAIL 10.98.0.0/16',
      'StackSystemError ENETUNREACH addRoute ENETUNREACH 10.98.0.0/16',
      'StackSystemError EEXIST addRoute EEXIST 10.99.0.0/16',
      'ok',
      'StackSystemError ESRCH deleteRoute ESRCH 10.97.0.0/16',
      'StackSystemError EPERM deleteRoute EPERM 10.0.0.0/24',
      'ok',
      'FfError ENETUNREACH ff_route_ctl ENETUNREACH',
    ]);
    expect(r.report.routes).toEqual([
      { dest: '10.0.0.0/24', via: null, src: null, metric: 0, portId: 0, kind: 'connected' },
      { dest: '10.99.0.0/16', via: '10.0.0.9', src: null, metric: 3, portId: 0, kind: 'static' },
      { dest: '10.98.0.0/16', via: '10.0.0.9', src: '10.0.0.1', metric: 7, portId: 0, kind: 'static' },
      { dest: '172.16.0.0/12', via: '10.0.0.7', src: null, metric: 0, portId: 0, kind: 'static' },
    ]);
    expect(r.report.afterDelete).toEqual([
      { dest: '10.0.0.0/24', via: null, src: null, metric: 0, portId: 0, kind: 'connected' },
      { dest: '10.99.0.0/16', via: '10.0.0.9', src: null, metric: 3, portId: 0, kind: 'static' },
    ]);
  });
});
