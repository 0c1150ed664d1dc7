/**
 * `npm run bench:echo`: ffnet's C UDP echo path over net_memif, against the raw memif PMD.
 *
 * In a private network namespace (memif's sockets are abstract, so they stay inside it), for 64- and
 * 1400-byte sizes, repeated `--repeats` times (default 3), medians reported:
 *  - raw: build/bin/memif_raw moves pre-built frames of that size one way, transmitter on CPU 0,
 *    receiver on CPU 1 — what the PMD itself does per core, with no stack;
 *  - echo (the echo server's capacity per lcore): build/bin/udp_echo (10.88.0.2, inline on CPU 1)
 *    echoes UDP datagrams with that payload sent by build/bin/udp_blast (10.88.0.1, raw PMD, one
 *    lcore on CPU 0 transmitting as fast as the link takes frames and counting the echoes). Only the
 *    echo server runs an ffnet stack; its lcore receives and sends every datagram once, so the
 *    echoed rate is the rate per lcore. Datagrams the server cannot keep up with wait in (or are
 *    refused by) the memif ring and are not echoed;
 *  - ffnet_to_ffnet: the same udp_echo driven by build/bin/udp_load (10.88.0.1, inline on CPU 0),
 *    itself an ffnet stack doing the same receive and send work per datagram, with a bounded window
 *    of outstanding datagrams.
 * Both ends have fixed memif MACs, and the echo server a static ARP entry for 10.88.0.1.
 * One process per core: nothing in the reported figures is oversubscribed. Before each run the
 * bench waits (bounded) for the machine to be idle and records how busy it was.
 *
 * Prints one JSON document and writes it to bench/results/echo-memif.json.
 *   node dist/bench/echo-memif.js [--seconds 5] [--repeats 3] [--sizes 64,1400]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot } from '../testbed/netns.js';
import type { ExecResult } from '../testbed/netns.js';
import { sleep, waitQuiet } from './machine.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'build', 'bin');
const RESULTS = join(ROOT, 'bench', 'results', 'echo-memif.json');
/** The spec's target for the echo path, datagrams per second per lcore at 64 bytes. */
const TARGET_PPS_PER_LCORE = 8_000_000;
/** Ethernet + IPv4 + UDP headers around an echoed payload. */
const HEADERS = 14 + 20 + 8;

interface Options {
  seconds: number;
  repeats: number;
  sizes: number[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 5, repeats: 3, sizes: [64, 1400] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--seconds') o.seconds = intIn(a, v, 1, 60);
    else if (a === '--repeats') o.repeats = intIn(a, v, 1, 9);
    else if (a === '--sizes') o.sizes = v.split(',').map((s) => intIn(a, s, 60, 1472));
    else throw new Error(`unknown option ${a} (known: --seconds, --repeats, --sizes)`);
    i++;
  }
  return o;
}

function intIn(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} takes an integer in ${min}..${max}, got ${v}`);
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** The last JSON object a program printed. */
function lastJson(out: string, what: string): Record<string, number> {
  const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${what} printed no JSON:\n${out}`);
  return JSON.parse(line) as Record<string, number>;
}

/** memif MACs: 10.88.0.1 (the load) and 10.88.0.2 (the echo server). */
const LOAD_MAC = '02:00:00:00:00:01';
const ECHO_MAC = '02:00:00:00:00:02';

function ini(name: string, cpu: number, role: string, sock: string, addr: string, mac: string, arp: string[] = []): string {
  return [
    '[dpdk]',
    'lcore_mask = 0x1',
    `lcores = 0@${cpu}`,
    'memory = 256',
    `file_prefix = ffbench-${name}-${process.pid}`,
    `vdev[] = net_memif0,role=${role},socket=${sock},mac=${mac}`,
    'idle_sleep = 0',
    'log_level = warning',
    'nb_mbuf = 16383',
    '[port0]',
    `addr = ${addr}`,
    'netmask = 255.255.255.0',
    ...arp.map((a) => `arp[] = ${a}`),
    '',
  ].join('\n');
}

/** How a program ended, for error messages. */
function why(r: ExecResult): string {
  return r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
}

async function rawRun(ns: Netns, dir: string, size: number, seconds: number, n: number): Promise<number> {
  const sock = join(dir, `raw-${size}-${n}.sock`);
  const common = ['--socket', sock, '--size', String(size), '--seconds', String(seconds)];
  const rx = ns.exec(join(BIN, 'memif_raw'), ['--role', 'rx', '--cpu', '1', ...common], { timeoutMs: (seconds + 40) * 1000 });
  await sleep(300);
  const tx = await ns.exec(join(BIN, 'memif_raw'), ['--role', 'tx', '--cpu', '0', ...common], { timeoutMs: (seconds + 30) * 1000 });
  const r = await rx;
  if (tx.code !== 0 || r.code !== 0) {
    throw new Error(`memif_raw failed (tx: ${why(tx)}, rx: ${why(r)}):\n${tx.stderr}\n${r.stderr}`);
  }
  return lastJson(r.stdout, 'memif_raw rx').pps ?? 0;
}

interface EchoSample {
  pps: number;
  sent: number;
  echoed: number;
  lost: number;
}

interface BlastSample {
  echoedPps: number;
  txPps: number;
  bad: number;
}

/** The echo server's ini: 10.88.0.2, inline on CPU 1, memif server, 10.88.0.1 in its ARP table. */
function writeEchoIni(dir: string, sock: string): string {
  const echoIni = join(dir, 'echo.ini');
  writeFileSync(echoIni, ini('echo', 1, 'server', sock, '10.88.0.2', ECHO_MAC, [`10.88.0.1 ${LOAD_MAC}`]));
  return echoIni;
}

/** udp_echo driven by the raw-PMD generator udp_blast: the echo server's own capacity. */
async function blastRun(ns: Netns, dir: string, size: number, seconds: number, n: number): Promise<BlastSample> {
  const sock = join(dir, `blast-${size}-${n}.sock`);
  const echoIni = writeEchoIni(dir, sock);
  // The echo server outlives the generator: its start, the generator's start and probing take a few seconds.
  const echo = ns.exec(join(BIN, 'udp_echo'), ['--conf', echoIni, '--port', '7', '--seconds', String(seconds + 5)], {
    timeoutMs: (seconds + 30) * 1000,
  });
  await sleep(500);
  const blast = await ns.exec(
    join(BIN, 'udp_blast'),
    ['--socket', sock, '--cpu', '0', '--mac', LOAD_MAC, '--size', String(size), '--seconds', String(seconds)],
    { timeoutMs: (seconds + 30) * 1000 },
  );
  const e = await echo;
  if (blast.code !== 0 || e.code !== 0) {
    throw new Error(`udp_blast/udp_echo failed (blast: ${why(blast)}, echo: ${why(e)}):\n${blast.stderr}\n${e.stderr}`);
  }
  const j = lastJson(blast.stdout, 'udp_blast');
  return { echoedPps: j.echoed_pps ?? 0, txPps: j.tx_pps ?? 0, bad: j.bad ?? 0 };
}

async function echoRun(ns: Netns, dir: string, size: number, seconds: number, n: number): Promise<EchoSample> {
  const sock = join(dir, `echo-${size}-${n}.sock`);
  const echoIni = writeEchoIni(dir, sock);
  const loadIni = join(dir, 'load.ini');
  writeFileSync(loadIni, ini('load', 0, 'client', sock, '10.88.0.1', LOAD_MAC));
  // The echo server outlives the load: its start, the load's start and its probing take a few seconds.
  const echo = ns.exec(join(BIN, 'udp_echo'), ['--conf', echoIni, '--port', '7', '--seconds', String(seconds + 5)], {
    timeoutMs: (seconds + 30) * 1000,
  });
  await sleep(500);
  const load = await ns.exec(
    join(BIN, 'udp_load'),
    ['--conf', loadIni, '--dst', '10.88.0.2', '--port', '7', '--size', String(size), '--seconds', String(seconds)],
    { timeoutMs: (seconds + 30) * 1000 },
  );
  const e = await echo;
  if (load.code !== 0 || e.code !== 0) {
    throw new Error(`udp_load/udp_echo failed (load: ${why(load)}, echo: ${why(e)}):\n${load.stderr}\n${e.stderr}`);
  }
  const j = lastJson(load.stdout, 'udp_load');
  return { pps: j.pps_echoed ?? 0, sent: j.sent ?? 0, echoed: j.echoed ?? 0, lost: j.lost ?? 0 };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  requireRoot();
  for (const b of ['memif_raw', 'udp_blast', 'udp_echo', 'udp_load']) {
    try {
      readFileSync(join(BIN, b));
    } catch {
      throw new Error(`${join(BIN, b)} is missing: run npm run build first`);
    }
  }
  const ns = await Netns.create('bench-echo');
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-bench-'));
  const results = [];
  const runs: { size: number; kind: string; rep: number; busy_before: number; value: number }[] = [];
  try {
    for (const size of o.sizes) {
      const raw: number[] = [];
      const blast: BlastSample[] = [];
      const echo: EchoSample[] = [];
      for (let rep = 0; rep < o.repeats; rep++) {
        let busy = await waitQuiet();
        const r = await rawRun(ns, dir, size, o.seconds, rep);
        raw.push(r);
        runs.push({ size, kind: 'raw', rep, busy_before: busy, value: Math.round(r) });
        busy = await waitQuiet();
        const b = await blastRun(ns, dir, size, o.seconds, rep);
        blast.push(b);
        runs.push({ size, kind: 'echo', rep, busy_before: busy, value: Math.round(b.echoedPps) });
        busy = await waitQuiet();
        const e = await echoRun(ns, dir, size, o.seconds, rep);
        echo.push(e);
        runs.push({ size, kind: 'ffnet_to_ffnet', rep, busy_before: busy, value: Math.round(e.pps) });
        process.stderr.write(
          `size ${size} run ${rep + 1}/${o.repeats}: raw ${(r / 1e6).toFixed(2)} Mpps, echo ${(b.echoedPps / 1e6).toFixed(2)} Mpps ` +
            `(offered ${(b.txPps / 1e6).toFixed(2)}), ffnet↔ffnet ${(e.pps / 1e6).toFixed(2)} Mpps\n`,
        );
      }
      const rawPps = median(raw);
      const echoPps = median(blast.map((b) => b.echoedPps));
      const ffPps = median(echo.map((e) => e.pps));
      results.push({
        size,
        raw_frame_bytes: size,
        echo_payload_bytes: size,
        echo_frame_bytes: size + HEADERS,
        raw_pps: Math.round(rawPps),
        echo_pps_per_lcore: Math.round(echoPps),
        ffnet_to_ffnet_pps: Math.round(ffPps),
        ratio_to_raw: Math.round((echoPps / rawPps) * 1000) / 1000,
        echo_offered_pps: Math.round(median(blast.map((b) => b.txPps))),
        echo_bad_frames: blast.reduce((a, b) => a + b.bad, 0),
        ffnet_to_ffnet_lost: echo.reduce((a, e) => a + e.lost, 0),
        ffnet_to_ffnet_sent: echo.reduce((a, e) => a + e.sent, 0),
        raw_samples_pps: raw.map(Math.round),
        echo_samples_pps: blast.map((b) => Math.round(b.echoedPps)),
        ffnet_to_ffnet_samples_pps: echo.map((e) => Math.round(e.pps)),
      });
    }
  } finally {
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const c = cpus();
  const at64 = results.find((r) => r.size === 64);
  const doc = {
    bench: 'echo-memif',
    date: new Date().toISOString(),
    machine: { cpus: c.length, model: c[0]?.model ?? 'unknown' },
    setup: {
      seconds_per_run: o.seconds,
      repeats: o.repeats,
      statistic: 'median',
      raw: 'memif_raw: tx (memif client) on CPU 0 → rx (memif server) on CPU 1; rx-side packets/s',
      echo: 'udp_blast (10.88.0.1, raw memif PMD, one lcore on CPU 0, transmitting as fast as the link takes frames) ⇄ udp_echo (10.88.0.2, inline lcore on CPU 1); valid echoed datagrams/s counted at the generator — the echo server lcore receives and sends every one',
      ffnet_to_ffnet: 'udp_load (10.88.0.1, ffnet, inline lcore on CPU 0, windowed) ⇄ udp_echo (10.88.0.2, inline lcore on CPU 1); echoed datagrams/s, each lcore receives and sends every one',
      oversubscribed: false,
    },
    target: {
      echo_pps_per_lcore_at_64: TARGET_PPS_PER_LCORE,
      met: at64 ? at64.echo_pps_per_lcore >= TARGET_PPS_PER_LCORE : null,
    },
    results,
    runs,
  };
  const text = JSON.stringify(doc, null, 2);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${text}\n`);
  console.log(text);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
