/**
 * Live traffic against Wireshark's Aeron dissector: a publisher and a subscriber (separate processes, in a
 * private namespace) exchange a stream with loss injected — so SETUP, DATA, PAD, heartbeats, SMs, NAKs,
 * resends, RTT measurements (cubic) and the EOS close all happen — while tcpdump captures the loopback
 * (IPv6 multicast: a veth of the namespace, as Linux routes no IPv6 multicast out of lo; its multicast
 * loopback delivers to the subscriber and every datagram leaves once on the veth). tshark must decode every
 * frame as Aeron without a malformed-packet mark or a warning.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, canCreateNamespaces } from '../../testbed/netns.js';
import { sleep } from './harness.js';
import { Peer } from './peers.js';

const usable = canCreateNamespaces() && spawnSync('tshark', ['-v']).status === 0 && spawnSync('tcpdump', ['--version']).status === 0;
/** Expert severities at or above this are warnings (Wireshark's PI_WARN). */
const PI_WARN = 0x00600000;
let ns: Netns;
let dir: string;

beforeAll(async () => {
  if (!usable) return;
  ns = await Netns.create('tr-tshark');
  await ns.execOk('ip', ['link', 'set', 'lo', 'multicast', 'on']);
  await ns.execOk('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo']);
  await ns.execOk('ip', ['link', 'add', 'mc0', 'type', 'veth', 'peer', 'name', 'mc1']);
  await ns.execOk('ip', ['-6', 'addr', 'add', 'fd00:7::1/64', 'dev', 'mc0', 'nodad']);
  for (const dev of ['mc0', 'mc1']) await ns.execOk('ip', ['link', 'set', dev, 'up']);
  dir = mkdtempSync(join(tmpdir(), 'ffnet-aeron-capture-'));
}, 30_000);

afterAll(async () => {
  await ns?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Frame types per Aeron's dissector fields, as tshark lists them for one packet. */
const FIELDS = ['frame.number', '_ws.malformed', '_ws.expert.severity', 'aeron.data.type', 'aeron.pad.type', 'aeron.heartbeat.type',
  'aeron.heartbeat.flags', 'aeron.data.flags', 'aeron.nak.type', 'aeron.sm.type', 'aeron.sm.flags', 'aeron.setup.type', 'aeron.rtt.type', 'udp.length'];

async function captureExchange(name: string, channel: string, port: number, device = 'lo'): Promise<Record<string, string>[]> {
  const file = join(dir, `${name}.pcap`);
  const dump = ns.spawn('tcpdump', ['-i', device, '-U', '--immediate-mode', '-n', '-B', '65536', '-w', file, 'udp', 'and', 'port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await sleep(1000);
  const sub = Peer.start('sub', ['--role', 'sub', '--channel', channel, '--count', '1500', '--loss', '0.05', '--seed', '3'], { ns });
  await sub.event('ready', 10_000);
  const pub = Peer.start('pub', ['--role', 'pub', '--channel', channel, '--count', '1500', '--max-length', '3000', '--loss', '0.05', '--seed', '4'], { ns });
  const received = await sub.event('received', 30_000);
  expect(received.problems).toEqual([]);
  await pub.event('done', 15_000);
  expect((await sub.event('unavailable', 5000)).reason).toBe('end-of-stream');
  await sub.kill();
  await sleep(500);
  dump.kill('SIGINT');
  await new Promise((resolve) => dump.once('exit', resolve));
  const out = spawnSync('tshark', ['-r', file, '-d', `udp.port==${port},aeron`, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a',
    '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 60_000 });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout.trimEnd().split('\n').map((line) => Object.fromEntries(line.split('\t').map((v, i) => [FIELDS[i] ?? '?', v])));
}

function checkRows(rows: Record<string, string>[], cubic: boolean): void {
  expect(rows.length).toBeGreaterThan(100);
  const malformed = rows.filter((r) => r['_ws.malformed'] !== '');
  expect(malformed.map((r) => r['frame.number'])).toEqual([]);
  const warned = rows.filter((r) => (r['_ws.expert.severity'] ?? '').split(',').filter(Boolean).some((s) => Number(s) >= PI_WARN));
  expect(warned.map((r) => `${r['frame.number']}: ${r['_ws.expert.severity']}`)).toEqual([]);
  const has = (field: string): boolean => rows.some((r) => (r[field] ?? '') !== '');
  for (const field of ['aeron.data.type', 'aeron.pad.type', 'aeron.heartbeat.type', 'aeron.nak.type', 'aeron.sm.type', 'aeron.setup.type']) {
    expect(has(field), field).toBe(true);
  }
  if (cubic) expect(has('aeron.rtt.type'), 'aeron.rtt.type').toBe(true);
  // The close: an EOS heartbeat and the receiver's EOS status message (flags 0x40).
  // tshark shows an EOS heartbeat as a zero-length data frame with flags 0xe0.
  expect(rows.some((r) => `${r['aeron.heartbeat.flags']},${r['aeron.data.flags']}`.includes('0xe0')), 'EOS heartbeat').toBe(true);
  expect(rows.some((r) => (r['aeron.sm.flags'] ?? '').includes('0x40')), `EOS status message among ${JSON.stringify([...new Set(rows.map((r) => r['aeron.sm.flags']))])}`).toBe(true);
  // Every packet was dissected as Aeron (no bare UDP payloads).
  const undissected = rows.filter((r) => FIELDS.slice(3, 13).every((f) => (r[f] ?? '') === ''));
  expect(undissected.map((r) => r['frame.number'])).toEqual([]);
}

describe.skipIf(!usable)("tshark's Aeron dissector reads a live exchange", () => {
  it('unicast with CUBIC congestion control, 5% loss', async () => {
    const port = 42001;
    checkRows(await captureExchange('unicast', `aeron:udp?endpoint=127.0.0.1:${port}|term-length=64k|cc=cubic`, port), true);
  }, 90_000);

  it('multicast, 5% loss', async () => {
    const port = 42003;
    checkRows(await captureExchange('multicast', `aeron:udp?endpoint=239.7.1.1:${port}|interface=127.0.0.1|term-length=64k`, port), false);
  }, 90_000);

  it('IPv6 multicast, 5% loss', async () => {
    const port = 42005;
    checkRows(await captureExchange('multicast6', `aeron:udp?endpoint=[ff02::7:1:1]:${port}|interface=[fd00:7::1]/64|term-length=64k`, port, 'mc0'), false);
  }, 90_000);
});
