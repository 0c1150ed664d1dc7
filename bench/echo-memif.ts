/**
 * `npm run bench:echo`: ffnet's C UDP echo path over net_memif, against the raw memif PMD.
 *
 * In a private network namespace (memif's sockets are abstract, so they stay inside it), for 64- and
 * 1400-byte sizes, repeated `--repeats` times (default 5), min / median / max reported:
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
 * The target: the echo per lcore at 64 B at or above 0.37× the raw memif PMD rate of the same repeat
 * (the raw rate differs threefold between machines of one kind, so an absolute rate would measure the
 * machine): checked on the median of the per-repeat ratios. A program that crashed (a signal), timed out
 * or failed makes that run a failed run — recorded with why, never a figure — and the target is then not
 * met. The ends of each memif link leave it in turn, so neither unmaps the rings under the other's
 * polling (udp_blast --idle-file, udp_load --hold-file; bench/common.ts, "leaving a memif link").
 *
 * Writes one JSON document to bench/results/echo-memif.json and prints a table.
 *   node dist/bench/echo-memif.js [--seconds 5] [--repeats 5] [--sizes 64,1400] [--quiet-wait 30]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot } from '../testbed/netns.js';
import { attempt, fmtTarget, judge, lastJson, linkFiles, median, memifListening, spread, why } from './common.js';
import { setQuietWait, waitQuiet } from './machine.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'build', 'bin');
const RESULTS = join(ROOT, 'bench', 'results', 'echo-memif.json');
/** The target for the echo path: datagrams per second per lcore at 64 bytes, as a share of the raw memif PMD rate of the same run. */
const TARGET_RATIO_TO_RAW = 0.37;
/** Ethernet + IPv4 + UDP headers around an echoed payload. */
const HEADERS = 14 + 20 + 8;

interface Options {
  seconds: number;
  repeats: number;
  sizes: number[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 5, repeats: 5, sizes: [64, 1400] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--seconds') o.seconds = intIn(a, v, 1, 60);
    else if (a === '--repeats') o.repeats = intIn(a, v, 1, 9);
    else if (a === '--sizes') o.sizes = v.split(',').map((s) => intIn(a, s, 60, 1472));
    else if (a === '--quiet-wait') setQuietWait(intIn(a, v, 0, 300));
    else throw new Error(`unknown option ${a} (known: --seconds, --repeats, --sizes, --quiet-wait)`);
    i++;
  }
  return o;
}

function intIn(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} takes an integer in ${min}..${max}, got ${v}`);
  return n;
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

async function rawRun(ns: Netns, dir: string, size: number, seconds: number, n: number): Promise<number> {
  const sock = join(dir, `raw-${size}-${n}.sock`);
  const common = ['--socket', sock, '--size', String(size), '--seconds', String(seconds)];
  const rx = ns.exec(join(BIN, 'memif_raw'), ['--role', 'rx', '--cpu', '1', ...common], { timeoutMs: (seconds + 40) * 1000 });
  await memifListening(ns, sock);
  const tx = await ns.exec(join(BIN, 'memif_raw'), ['--role', 'tx', '--cpu', '0', ...common], { timeoutMs: (seconds + 30) * 1000 });
  const r = await rx;
  if (tx.code !== 0 || r.code !== 0) {
    throw new Error(`memif_raw failed (tx: ${why(tx)}, rx: ${why(r)}):\n${tx.stderr}\n${r.stderr}`);
  }
  return Number(lastJson(r.stdout, 'memif_raw rx').pps ?? 0);
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
  await memifListening(ns, sock);
  // udp_blast stops polling once done and leaves after udp_echo (whose --seconds ends later) has disconnected.
  const blast = await ns.exec(
    join(BIN, 'udp_blast'),
    ['--socket', sock, '--cpu', '0', '--mac', LOAD_MAC, '--size', String(size), '--seconds', String(seconds), '--idle-file', linkFiles(join(dir, `blast-link-${size}-${n}`)).aIdle],
    { timeoutMs: (seconds + 90) * 1000 },
  );
  const e = await echo;
  if (blast.code !== 0 || e.code !== 0) {
    throw new Error(`udp_blast/udp_echo failed (blast: ${why(blast)}, echo: ${why(e)}):\n${blast.stderr}\n${e.stderr}`);
  }
  const j = lastJson(blast.stdout, 'udp_blast');
  return { echoedPps: Number(j.echoed_pps ?? 0), txPps: Number(j.tx_pps ?? 0), bad: Number(j.bad ?? 0) };
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
  await memifListening(ns, sock);
  // udp_load, done, no longer turns its stack; it leaves once udp_echo (which ends later) has gone.
  const hold = join(dir, `load-hold-${size}-${n}`);
  const loading = ns.exec(
    join(BIN, 'udp_load'),
    ['--conf', loadIni, '--dst', '10.88.0.2', '--port', '7', '--size', String(size), '--seconds', String(seconds), '--hold-file', hold],
    { timeoutMs: (seconds + 90) * 1000 },
  );
  const e = await echo;
  writeFileSync(hold, '');
  const load = await loading;
  if (load.code !== 0 || e.code !== 0) {
    throw new Error(`udp_load/udp_echo failed (load: ${why(load)}, echo: ${why(e)}):\n${load.stderr}\n${e.stderr}`);
  }
  const j = lastJson(load.stdout, 'udp_load');
  return { pps: Number(j.pps_echoed ?? 0), sent: Number(j.sent ?? 0), echoed: Number(j.echoed ?? 0), lost: Number(j.lost ?? 0) };
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
  const runs: Array<Record<string, unknown>> = [];
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  /** Runs one measurement on a quiet machine; a failed run is logged and recorded, and gives no figure. */
  const one = async <T>(size: number, kind: string, rep: number, fn: () => Promise<T>, value: (x: T) => number): Promise<T | null> => {
    const busy = await waitQuiet();
    const r = await attempt(fn);
    if (r.ok) {
      runs.push({ size, kind, rep, busy_before: busy, value: Math.round(value(r.value)) });
      return r.value;
    }
    runs.push({ size, kind, rep, busy_before: busy, failed: r.failed, detail: r.detail });
    log(`size ${size} ${kind} run ${rep + 1}/${o.repeats}: FAILED: ${r.failed}`);
    return null;
  };
  const mpps = (x: number | undefined): string => (x === undefined ? 'failed' : `${(x / 1e6).toFixed(2)} Mpps`);
  try {
    for (const size of o.sizes) {
      const raw: number[] = [];
      const blast: BlastSample[] = [];
      const echo: EchoSample[] = [];
      /** Echo ÷ raw of the same repeat, for repeats where both gave a figure. */
      const ratios: number[] = [];
      const failed = { raw: 0, echo: 0, ffnet_to_ffnet: 0 };
      for (let rep = 0; rep < o.repeats; rep++) {
        const r = await one(size, 'raw', rep, () => rawRun(ns, dir, size, o.seconds, rep), (x) => x);
        const b = await one(size, 'echo', rep, () => blastRun(ns, dir, size, o.seconds, rep), (x) => x.echoedPps);
        const e = await one(size, 'ffnet_to_ffnet', rep, () => echoRun(ns, dir, size, o.seconds, rep), (x) => x.pps);
        if (r === null) failed.raw++;
        else raw.push(r);
        if (b === null) failed.echo++;
        else blast.push(b);
        if (e === null) failed.ffnet_to_ffnet++;
        else echo.push(e);
        if (r !== null && b !== null && r > 0) ratios.push(Math.round((b.echoedPps / r) * 1000) / 1000);
        log(`size ${size} run ${rep + 1}/${o.repeats}: raw ${mpps(r ?? undefined)}, echo ${mpps(b?.echoedPps)} (offered ${mpps(b?.txPps)}), ffnet↔ffnet ${mpps(e?.pps)}`);
      }
      results.push({
        size,
        raw_frame_bytes: size,
        echo_payload_bytes: size,
        echo_frame_bytes: size + HEADERS,
        raw_pps: spread(raw, failed.raw),
        echo_pps_per_lcore: spread(blast.map((b) => b.echoedPps), failed.echo),
        ffnet_to_ffnet_pps: spread(echo.map((e) => e.pps), failed.ffnet_to_ffnet),
        echo_ratio_to_raw: spread(ratios, o.repeats - ratios.length, 3),
        echo_ratio_samples: ratios,
        echo_offered_pps: blast.length ? Math.round(median(blast.map((b) => b.txPps))) : null,
        echo_bad_frames: blast.reduce((a, b) => a + b.bad, 0),
        ffnet_to_ffnet_lost: echo.reduce((a, e) => a + e.lost, 0),
        ffnet_to_ffnet_sent: echo.reduce((a, e) => a + e.sent, 0),
      });
    }
  } finally {
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const c = cpus();
  const at64 = results.find((r) => r.size === 64);
  const target = judge({
    target: `echo per lcore at 64 B ≥ ${TARGET_RATIO_TO_RAW}× the raw memif PMD rate of the same run`,
    values: at64?.echo_ratio_samples ?? [],
    failed: at64 ? at64.echo_ratio_to_raw?.failed ?? o.repeats : 0,
    atLeast: TARGET_RATIO_TO_RAW,
  });
  const doc = {
    bench: 'echo-memif',
    date: new Date().toISOString(),
    machine: { cpus: c.length, model: c[0]?.model ?? 'unknown' },
    setup: {
      seconds_per_run: o.seconds,
      repeats: o.repeats,
      statistic: 'min / median / max over the runs that gave a figure; the echo\'s ratio to raw per repeat (both measured in that repeat)',
      raw: 'memif_raw: tx (memif client) on CPU 0 → rx (memif server) on CPU 1; rx-side packets/s',
      echo: 'udp_blast (10.88.0.1, raw memif PMD, one lcore on CPU 0, transmitting as fast as the link takes frames) ⇄ udp_echo (10.88.0.2, inline lcore on CPU 1); valid echoed datagrams/s counted at the generator — the echo server lcore receives and sends every one',
      ffnet_to_ffnet: 'udp_load (10.88.0.1, ffnet, inline lcore on CPU 0, windowed) ⇄ udp_echo (10.88.0.2, inline lcore on CPU 1); echoed datagrams/s, each lcore receives and sends every one',
      oversubscribed: false,
      failed_run: 'a program that crashed, timed out or exited non-zero: recorded in runs[] with why, never a figure; a target with a failed run is not met',
    },
    target,
    results,
    runs,
  };
  const text = JSON.stringify(doc, null, 2);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${text}\n`);
  const m = (x: { min: number; median: number; max: number } | null): string => (x === null ? '—' : `${(x.min / 1e6).toFixed(2)} / ${(x.median / 1e6).toFixed(2)} / ${(x.max / 1e6).toFixed(2)}`);
  const lines = [`Mpps, min / median / max of ${o.repeats} runs`, '  size   raw memif PMD         echo per lcore        echo ÷ raw (same run)   ffnet ↔ ffnet'];
  for (const r of results) {
    const q = r.echo_ratio_to_raw;
    lines.push(`  ${String(r.size).padStart(4)}   ${m(r.raw_pps).padEnd(20)}  ${m(r.echo_pps_per_lcore).padEnd(20)}  ${(q ? `${q.min} / ${q.median} / ${q.max}` : '—').padEnd(22)}  ${m(r.ffnet_to_ffnet_pps)}`);
  }
  lines.push('target', fmtTarget('echo_ratio_to_raw', target));
  const failedRuns = runs.filter((r) => r.failed !== undefined);
  if (failedRuns.length) lines.push(`failed runs: ${failedRuns.map((f) => `${String(f.kind)} ${String(f.size)} B run ${Number(f.rep) + 1}: ${String(f.failed)}`).join('; ')}`);
  lines.push(`(JSON: ${RESULTS})`);
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
