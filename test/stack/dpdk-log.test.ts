/**
 * DPDK's log as a program sees it. A node:dgram program moved onto the dpdk backend prints what it
 * printed before and nothing else (DPDK's telemetry notice, for one): by default DPDK's lines are only
 * kept in memory. `[dpdk] log` sends them to stderr or a file. Probing a device without RX interrupts
 * logs no error ("Rx Intr handle unset", which ethdev logs when asked for such a queue's fd). A failed start's ERR_FFNET_START error quotes the lines DPDK
 * logged during the attempt (and lists them in `dpdkLog`), says why when rte_errno does not, and
 * leaves no EAL runtime directory behind. Every child runs in a namespace of this suite.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { REPO, runChild } from './child-stack.js';
import { uniquePrefix } from './kernel-peer.js';

let ns: Netns;
const dir = mkdtempSync(join(tmpdir(), 'ffnet-dpdk-log-'));

beforeAll(async () => {
  requireRoot();
  ns = await Netns.create('dpdk-log');
});
afterAll(async () => {
  await ns?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** An echo over 127.0.0.1 written for node:dgram: it prints one line of its own. */
const DGRAM_PROGRAM = `
import dgram from 'ffnet/dgram';
const s = dgram.createSocket('udp4');
s.on('message', (msg) => {
  console.log('received', msg.toString());
  report({ backend: s.backend });
  s.close();
});
s.bind(0, '127.0.0.1', () => s.send('hello', s.address().port, '127.0.0.1'));
`;

/** Writes an ffnet.ini with `dpdkKeys` in [dpdk] (and a port when a device is given); returns its path. */
function ini(prefix: string, dpdkKeys: string, withPort: boolean): string {
  const file = join(dir, `${prefix}.ini`);
  writeFileSync(file, `[dpdk]\nfile_prefix = ${prefix}\n${dpdkKeys}${withPort ? '[port0]\naddr = 10.77.0.2\nnetmask = 255.255.255.0\n' : ''}`);
  return file;
}

const DEVICES = [
  { name: 'loopback only', vdev: '' },
  { name: 'a net_tap port', vdev: 'vdev[] = net_tap0,iface=ff0\n' },
  { name: 'a net_pcap port without RX interrupts', vdev: 'vdev[] = net_pcap0,iface=lo\n' },
];

describe.each(DEVICES)('a node:dgram program on the dpdk backend ($name)', ({ vdev }) => {
  it('prints only its own output', async () => {
    const prefix = uniquePrefix('dgram-quiet');
    const r = await runChild<{ backend: string }>(ns, DGRAM_PROGRAM, { env: { FFNET_CONFIG: ini(prefix, vdev, vdev !== '') }, prefixes: [prefix] });
    expect(r.report, r.stderr).toEqual({ backend: 'dpdk' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('received hello\n');
    expect(r.stderr).toBe('');
  });

  it('sends DPDK\'s lines to stderr with log = stderr, and to a file with log = file:PATH', async () => {
    const prefix = uniquePrefix('dgram-stderr');
    const r = await runChild<{ backend: string }>(ns, DGRAM_PROGRAM, { env: { FFNET_CONFIG: ini(prefix, `${vdev}log = stderr\n`, vdev !== '') }, prefixes: [prefix] });
    expect(r.report).toEqual({ backend: 'dpdk' });
    expect(r.stdout).toBe('received hello\n');
    expect(r.stderr).toContain('TELEMETRY: No legacy callbacks, legacy socket not created');
    expect(r.stderr).not.toContain('Rx Intr handle unset');
    const logFile = join(dir, `${prefix}.log`);
    const prefix2 = uniquePrefix('dgram-file');
    const f = await runChild<{ backend: string }>(ns, DGRAM_PROGRAM, { env: { FFNET_CONFIG: ini(prefix2, `${vdev}log = file:${logFile}\n`, vdev !== '') }, prefixes: [prefix2] });
    expect(f.stdout).toBe('received hello\n');
    expect(f.stderr).toBe('');
    expect(readFileSync(logFile, 'utf8')).toContain('TELEMETRY: No legacy callbacks, legacy socket not created\n');
  });
});

/** What a child saw of a failed Stack.start(). */
interface StartFailure {
  code: string;
  message: string;
  dpdkLog: string[];
  runtimeDirLeft: boolean;
  /** What the child wrote to stderr and stdout (it prints nothing itself). */
  stderr: string;
  stdout: string;
}

/** Starts a stack from `config` in a child, expecting a failure; reports it and whether /var/run/dpdk/<prefix> is left. */
async function failedStart(prefix: string, config: object): Promise<StartFailure> {
  const r = await runChild<StartFailure>(ns, `
    import { existsSync } from 'node:fs';
    import { Stack } from 'ffnet';
    try {
      Stack.startSync({ config: ${JSON.stringify(config)} }).close();
      report({ code: 'started' });
    } catch (e) {
      report({ code: e.code, message: e.message, dpdkLog: e.dpdkLog, runtimeDirLeft: existsSync(${JSON.stringify(`/var/run/dpdk/${prefix}`)}) });
    }
  `, { prefixes: [prefix] });
  if (!r.report) throw new Error(`no report (code ${r.code}): ${r.stderr}`);
  return { ...r.report, stderr: r.stderr, stdout: r.stdout };
}

describe('a failed start', () => {
  it('in the EAL (a vdev of no driver) quotes DPDK\'s lines and removes the EAL runtime directory', async () => {
    const prefix = uniquePrefix('bad-vdev');
    const f = await failedStart(prefix, { dpdk: { file_prefix: prefix, vdev: 'net_nosuchdriver0' } });
    expect(f.code).toBe('ERR_FFNET_START');
    expect(f.message).toMatch(/^DPDK EAL initialisation failed: No such device \(rte_errno 19\)\nDPDK log:\n {2}/);
    expect(f.dpdkLog).toContain('EAL: failed to parse device "net_nosuchdriver0"');
    expect(f.stderr).toBe('');
    expect(f.message).toContain(`\nDPDK log:\n  ${f.dpdkLog.join('\n  ')}`);
    expect(f.runtimeDirLeft).toBe(false);
  });

  it('in the EAL\'s argument checks (a bad extra_args value) keeps its FATAL line off stderr and quotes it', async () => {
    const prefix = uniquePrefix('bad-eal-arg');
    const f = await failedStart(prefix, { dpdk: { file_prefix: prefix, extra_args: '--iova-mode=bogus' } });
    expect(f.code).toBe('ERR_FFNET_START');
    expect(f.dpdkLog).toContain('EAL: invalid parameters for --iova-mode');
    // rte_eal_init writes "EAL: FATAL: ..." straight to stderr: with log = none (the default) the
    // program's stderr holds nothing it did not write itself, and the error quotes the line.
    expect(f.stderr).toBe('');
    expect(f.dpdkLog).toContain('EAL: FATAL: Invalid \'command line\' arguments.');
    expect(f.message).toContain(`\nDPDK log:\n  ${f.dpdkLog.join('\n  ')}`);
    expect(f.runtimeDirLeft).toBe(false);
    // With log = stderr the line reaches stderr once, through the sink.
    const prefix2 = uniquePrefix('bad-eal-arg-stderr');
    const g = await failedStart(prefix2, { dpdk: { file_prefix: prefix2, extra_args: '--iova-mode=bogus', log: 'stderr' } });
    expect(g.code).toBe('ERR_FFNET_START');
    expect(g.stderr.split('\n').filter((l) => l === 'EAL: FATAL: Invalid \'command line\' arguments.')).toHaveLength(1);
    expect(g.stderr).toContain('EAL: invalid parameters for --iova-mode\n');
  });

  it('in a device\'s probe quotes the PMD\'s own reason', async () => {
    const prefix = uniquePrefix('bad-pcap');
    const f = await failedStart(prefix, { dpdk: { file_prefix: prefix, vdev: 'net_pcap0,rx_pcap=/nonexistent/in.pcap' } });
    expect(f.code).toBe('ERR_FFNET_START');
    expect(f.message).toMatch(/^device net_pcap0,rx_pcap=\/nonexistent\/in\.pcap: rte_dev_probe failed: /);
    expect(f.dpdkLog.some((l) => l.includes("Couldn't open /nonexistent/in.pcap"))).toBe(true);
    expect(f.message).toContain(`\nDPDK log:\n  ${f.dpdkLog.join('\n  ')}`);
  });

  it('gives DPDK\'s reason when the EAL sets no rte_errno (a secondary process with no primary)', async () => {
    const prefix = uniquePrefix('secondary');
    const child = await runChild<StartFailure>(ns, `
      import { existsSync } from 'node:fs';
      const { loadAddon } = await import(${JSON.stringify(join(REPO, 'dist', 'native', 'index.js'))});
      const { toNativeConfig, validateConfig } = await import(${JSON.stringify(join(REPO, 'dist', 'config', 'index.js'))});
      const native = toNativeConfig(validateConfig({ dpdk: { file_prefix: ${JSON.stringify(prefix)} } }, 'x'));
      native.eal.push('--proc-type=secondary');
      try {
        loadAddon().startStack(native, () => {});
        report({ code: 'started' });
      } catch (e) {
        report({ code: 'threw', message: e.message, dpdkLog: e.dpdkLog, runtimeDirLeft: existsSync(${JSON.stringify(`/var/run/dpdk/${prefix}`)}) });
      }
    `, { prefixes: [prefix] });
    const f = child.report;
    expect(f?.code, child.stderr).toBe('threw');
    expect(f?.message).toMatch(/^DPDK EAL initialisation failed: /);
    expect(f?.message).not.toMatch(/Success/);
    expect(f?.dpdkLog.length).toBeGreaterThan(0);
    expect(f?.runtimeDirLeft).toBe(false);
  });
});

