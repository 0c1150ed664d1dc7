/**
 * The tools suites' fixtures: running `ffnet` (dist/tools/cli.js) as a child process, as this user
 * or another, and stack programs to point it at — Node programs on ffnet/dgram and the C example
 * udp_echo on ff_init — each in a namespace the test made, on a net_tap port facing the kernel
 * (10.77.0.2 for the stack, 10.77.0.1 for the kernel, as test/stack/kernel-peer.ts). Every run is
 * bounded: the CLI and programs are killed after their timeouts, and go away with the namespace.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { Netns } from '../../testbed/netns.js';
import { IFACE, KERNEL_IP, STACK_IP, quietNamespace, uniquePrefix } from '../stack/kernel-peer.js';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(REPO, 'dist/tools/cli.js');
export const UDP_ECHO = join(REPO, 'build/bin/udp_echo');
export { IFACE, KERNEL_IP, STACK_IP };

/** What a CLI run gave. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** What {@link ffnet} gave. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ffnet -p PID args...` from this process; resolves with its exit status and output (20 s at most). */
export function ffnet(pid: number, args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, '-p', String(pid), ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

/** Options of {@link cli}. */
export interface CliOptions {
  timeoutMs?: number;
  /** Run as uid/gid 65534 (nobody) with no supplementary groups (setpriv). */
  asNobody?: boolean;
  /** Run in a mount namespace where /var/run/dpdk is an empty tmpfs: no stack is visible. */
  noStacks?: boolean;
}

/** A directory anyone may traverse, where another user's CLI sees the checkout (see {@link cli}). */
let publicMount: string | undefined;
function publicMountPoint(): string {
  if (publicMount === undefined) {
    publicMount = mkdtempSync(join(tmpdir(), 'ffnet-cli-'));
    chmodSync(publicMount, 0o755);
  }
  return publicMount;
}

const shellQuote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`;

/**
 * Runs `node dist/tools/cli.js ...args` (in `ns`, whose network it shares; Unix sockets are files).
 * As nobody, the CLI runs from the checkout bind-mounted on a directory anyone may traverse, in a
 * mount namespace of its own: the checkout may live below a directory only its owner can enter (a
 * CI's mktemp -d), and the test is about the stack's socket refusing that user, not the checkout.
 */
export async function cli(ns: Netns, args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const setup: string[] = [];
  let argv = [process.execPath, CLI, ...args];
  if (opts.asNobody) {
    const mnt = publicMountPoint();
    setup.push(`mount --bind ${shellQuote(REPO)} ${shellQuote(mnt)}`);
    argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'env', '-u', 'XDG_RUNTIME_DIR', process.execPath,
      join(mnt, relative(REPO, CLI)), ...args];
  }
  if (opts.noStacks) setup.push('mount -t tmpfs none /var/run/dpdk');
  let cmd = argv[0]!;
  if (setup.length > 0) {
    argv = ['--mount', '--propagation', 'private', 'sh', '-c', `${setup.join(' && ')} && exec ${argv.map(shellQuote).join(' ')}`];
    cmd = 'unshare';
  } else {
    argv = argv.slice(1);
  }
  const t0 = Date.now();
  const r = await ns.exec(cmd, argv, { timeoutMs: opts.timeoutMs ?? 20_000 });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut, ms: Date.now() - t0 };
}

/** Runs the CLI with --json and parses stdout; throws with its output when it failed. */
export async function cliJson<T>(ns: Netns, args: string[], opts: CliOptions = {}): Promise<T> {
  const r = await cli(ns, [...args, '--json'], opts);
  if (r.code !== 0) throw new Error(`ffnet ${args.join(' ')} --json: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** An ffnet.ini for one net_tap port (ff0) at 10.77.0.2/24; `dpdk` keys override. */
export function tapIni(dir: string, prefix: string, dpdk: Record<string, string> = {}): string {
  const keys = { lcore_mask: '0x1', file_prefix: prefix, 'vdev[]': `net_tap0,iface=${IFACE}`, ...dpdk };
  const path = join(dir, 'ffnet.ini');
  writeFileSync(path, `[dpdk]\n${Object.entries(keys).map(([k, v]) => `${k} = ${v}`).join('\n')}\n[port0]\naddr = ${STACK_IP}\nnetmask = 255.255.255.0\n`);
  return path;
}

/** A stack program running in a namespace. */
export interface StackProgram {
  child: ChildProcess;
  pid: number;
  prefix: string;
  /** Everything it printed on stdout so far. */
  stdout(): string;
  /** Waits (bounded) until stdout holds a line matching re. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Writes a line to its stdin. */
  send(line: string): void;
  /** Kills it (SIGKILL unless told) and waits for its exit; removes its EAL runtime dir. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function track(ns: Netns, child: ChildProcess, prefix: string, dir: string): StackProgram {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return {
    child,
    pid: child.pid ?? -1,
    prefix,
    stdout: () => out,
    async waitForLine(re, timeoutMs = 30_000) {
      await ns.waitFor(async () => re.test(out) || child.exitCode !== null, `a line matching ${re}`, timeoutMs);
      if (!re.test(out)) throw new Error(`the program exited (${child.exitCode}) before printing ${re}\nstdout:\n${out}\nstderr:\n${err}`);
    },
    send(line) {
      child.stdin?.write(`${line}\n`);
    },
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(join('/var/run/dpdk', prefix), { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How {@link startNodeApp} runs Node. */
export interface NodeAppOptions {
  /** Node's own options before the main script (`--import`, `-r`, ...). */
  nodeArgs?: string[];
  /** The main script's file name (.mjs or .cjs), which loads the program; default: the program itself. */
  main?: string;
}

/**
 * A Node program on ffnet/dgram (FFNET_CONFIG = a one-port tap ini) in `ns`: binds UDP port `port`
 * on the stack, prints "ready", then obeys lines on stdin: "udp6 PORT" binds a udp6 socket to [::1]:PORT
 * ("bound6"), "block MS" blocks its JavaScript thread
 * (Atomics.wait) for MS ms and prints "unblocked"; "send PORT" sends one datagram to the kernel
 * side's PORT from a new socket and prints "sent"; "exit" closes and exits.
 */
export function startNodeApp(ns: Netns, label: string, port: number, dpdk: Record<string, string> = {}, opts: NodeAppOptions = {}): StackProgram {
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-tools-'));
  const prefix = uniquePrefix(label);
  const ini = tapIni(dir, prefix, dpdk);
  const app = join(dir, 'tools-app.mjs');
  // A CommonJS main script loads the program (an ES module) with import().
  let main = app;
  if (opts.main) {
    main = join(dir, opts.main);
    writeFileSync(main, opts.main.endsWith('.cjs') ? `import(${JSON.stringify(pathToFileURL(app).href)});\n` : `import ${JSON.stringify(pathToFileURL(app).href)};\n`);
  }
  writeFileSync(app, `import dgram from ${JSON.stringify(pathToFileURL(join(REPO, 'dist/shim/dgram.js')).href)};
import { createInterface } from 'node:readline';
const s = dgram.createSocket('udp4');
s.on('message', () => {});
s.bind(${port}, () => {
  process.stdout.write('ready\\n');
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [cmd, arg] = line.split(' ');
    if (cmd === 'block') {
      process.stdout.write('blocking\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(arg));
      process.stdout.write('unblocked\\n');
    } else if (cmd === 'send') {
      // A new socket: it takes the stack's default TTL now (net.inet.ip.ttl), as on FreeBSD and Linux.
      const out = dgram.createSocket('udp4');
      out.send(Buffer.from('ffnet'), Number(arg), '${KERNEL_IP}', (err) => {
        process.stdout.write(err ? 'send failed ' + err.message + '\\n' : 'sent\\n');
        out.close();
      });
    } else if (cmd === 'udp6') {
      const s6 = dgram.createSocket('udp6');
      s6.on('message', () => {});
      s6.bind(Number(arg), '::1', () => process.stdout.write('bound6\\n'));
    } else if (cmd === 'exit') {
      s.close(() => process.exit(0));
    }
  });
});
`);
  const child = ns.spawn('env', ['-u', 'NODE_OPTIONS', `FFNET_CONFIG=${ini}`, process.execPath, ...(opts.nodeArgs ?? []), main], { stdio: ['pipe', 'pipe', 'pipe'] });
  return track(ns, child, prefix, dir);
}

/** The C example udp_echo (ff_init; echoes UDP port 7) in `ns`, for at most `seconds`. */
export function startUdpEcho(ns: Netns, label: string, seconds = 60): StackProgram {
  if (!existsSync(UDP_ECHO)) throw new Error(`${UDP_ECHO} not built (npm run build)`);
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-tools-'));
  const prefix = uniquePrefix(label);
  const ini = tapIni(dir, prefix);
  const child = ns.spawn(UDP_ECHO, ['--conf', ini, '--seconds', String(seconds)], { stdio: ['pipe', 'pipe', 'pipe'] });
  return track(ns, child, prefix, dir);
}

/** Waits until the CLI finds the stack of `pid` (its control socket answers). */
export async function waitForStack(ns: Netns, pid: number, timeoutMs = 30_000): Promise<void> {
  await ns.waitFor(async () => (await cli(ns, ['-p', String(pid), 'ps'])).code === 0, `ffnet to see stack ${pid}`, timeoutMs, 200);
}

/** Brings ff0 up with 10.77.0.1/24 on the kernel side. */
export async function kernelSide(ns: Netns): Promise<void> {
  await ns.waitFor(async () => (await ns.exec('ip', ['link', 'show', IFACE])).code === 0, `${IFACE} to exist`, 30_000, 100);
  await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', IFACE]);
  await ns.execOk('ip', ['link', 'set', IFACE, 'up']);
}

/**
 * Sends `count` UDP datagrams of `size` bytes from the kernel (a python3 socket in `ns`) to the stack's
 * `port`, at `rate` per second (0: as fast as it can). Resolves when the last one is sent.
 */
export async function kernelSend(ns: Netns, port: number, count: number, rate = 0, size = 32): Promise<void> {
  const script = `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start = time.monotonic()
for i in range(${count}):
    if ${rate} > 0:
        due = start + i / ${rate}
        now = time.monotonic()
        if due > now: time.sleep(due - now)
    s.sendto(bytes(${size}), ('${STACK_IP}', ${port}))
`;
  const bound = rate > 0 ? (count / rate) * 1000 + 15_000 : 15_000;
  await ns.execOk('python3', ['-c', script], { timeoutMs: bound });
}

/** A Node stack (startNodeApp) in a namespace of its own, shared by the tests of a describe block. */
export interface NodeStack {
  ns: Netns;
  app: StackProgram;
  /** The CLI's words that pick this stack: ['-p', pid]. */
  p: string[];
  /** Its EAL runtime directory (ps's runtime_dir), where its control and telemetry sockets are. */
  runtimeDir: string;
  /** Its control socket's path. */
  ctlSocket: string;
}

/**
 * Declares, in the describe block it is called in, a Node stack for its tests: before them a new
 * namespace (`label`), the program (`dpdk` keys in its ini) bound to UDP `port` with ff0 up on the
 * kernel side, seen by the CLI; after them the program stopped and the namespace gone. The fields
 * are set when the tests run.
 */
export function nodeStackSuite(label: string, port: number, dpdk: Record<string, string> = {}): NodeStack {
  const stack = {} as NodeStack;
  beforeAll(async () => {
    stack.ns = await quietNamespace(label);
    stack.app = startNodeApp(stack.ns, label, port, dpdk);
    await stack.app.waitForLine(/ready/);
    await kernelSide(stack.ns);
    await waitForStack(stack.ns, stack.app.pid);
    stack.p = ['-p', String(stack.app.pid)];
    stack.runtimeDir = (await cliJson<Array<{ runtime_dir: string }>>(stack.ns, [...stack.p, 'ps']))[0]!.runtime_dir;
    stack.ctlSocket = join(stack.runtimeDir, `ffnet.${stack.app.pid}.sock`);
  }, 60_000);
  afterAll(async () => {
    await stack.app?.stop();
    await stack.ns?.destroy();
  });
  return stack;
}

/** A new temporary directory. */
export function tmpDir(): string {
  return mkdtempSync(join(tmpdir(), 'ffnet-tools-'));
}
