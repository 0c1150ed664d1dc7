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
 * Every echo case runs for each of `--families` (default udp4,udp6): the udp6 twin is the same over IPv6,
 * fd00:88::1 ⇄ fd00:88::2 (udp_blast --ipv6, udp_load --dst fd00:88::2, udp_echo --ipv6 with addr6
 * fd00:88::2/64 resolving its peer by Neighbor Discovery), beside the same repeat's raw rate; each udp6
 * row shows its ratio to the udp4 row (udp6 ÷ udp4, medians), and the target "IPv6 within 10% of IPv4"
 * is checked per size on the echo per lcore and on ffnet ↔ ffnet (ratio of the medians ≥ 0.9).
 *
 * Writes one JSON document to bench/results/echo-memif.json (or --results) and prints a table.
 *   node dist/bench/echo-memif.js [--seconds 5] [--repeats 5] [--sizes 64,1400] [--families udp4,udp6]
 *                                 [--quiet-wait 30] [--results PATH]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot } from '../testbed/netns.js';
import {
  attempt, fmtTarget, judge, judgeFamilies, lastJson, linkFiles, median, memifListening, parseFamilies, spread, why, RECV_ADDR6, SEND_ADDR6, type Family, type TargetResult,
} from './common.js';
import { setQuietWait, waitQuiet } from './machine.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'build', 'bin');
const RESULTS = join(ROOT, 'bench', 'results', 'echo-memif.json');
/** The target for the echo path: datagrams per second per lcore at 64 bytes, as a share of the raw memif PMD rate of the same run. */
const TARGET_RATIO_TO_RAW = 0.37;
/** Ethernet + IP + UDP headers around an echoed payload, per family. */
const HEADERS: Record<Family, number> = { udp4: 14 + 20 + 8, udp6: 14 + 40 + 8 };

interface Options {
  seconds: number;
  repeats: number;
  sizes: number[];
  families: Family[];
  results: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 5, repeats: 5, sizes: [64, 1400], families: ['udp4', 'udp6'], results: RESULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--seconds') o.seconds = intIn(a, v, 1, 60);
    else if (a === '--repeats') o.repeats = intIn(a, v, 1, 9);
    else if (a === '--sizes') o.sizes = v.split(',').map((s) => intIn(a, s, 60, 1472));
    else if (a === '--quiet-wait') setQuietWait(intIn(a, v, 0, 300));
    else if (a === '--families') o.families = parseFamilies(v);
    else if (a === '--results') o.results = resolve(v);
    else throw new Error(`unknown option ${a} (known: --seconds, --repeats, --sizes, --families, --quiet-wait, --results)`);
    i++;
  }
  if (o.families.includes('udp6') && o.sizes.some((x) => x > 1452)) throw new Error('--sizes: udp6 takes at most 1452 bytes (1500 − 40 − 8)');
  return o;
}

function intIn(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} takes an integer in ${min}..${max}, got ${v}`);
  return n;
}

/** memif MACs: 10.88.0.1 / fd00:88::1 (the load) and 10.88.0.2 / fd00:88::2 (the echo server). */
const LOAD_MAC = '02:00:00:00:00:01';
const ECHO_MAC = '02:00:00:00:00:02';

function ini(name: string, cpu: number, role: string, sock: string, addr: string, mac: string, arp: string[] = [], addr6?: string): string {
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
    ...(addr6 ? [`addr6[] = ${addr6}/64`] : []),
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

/** The echo server's ini: 10.88.0.2 (and for udp6 fd00:88::2/64), inline on CPU 1, memif server, 10.88.0.1 in its ARP table. */
function writeEchoIni(dir: string, sock: string, family: Family): string {
  const echoIni = join(dir, 'echo.ini');
  writeFileSync(echoIni, ini('echo', 1, 'server', sock, '10.88.0.2', ECHO_MAC, [`10.88.0.1 ${LOAD_MAC}`], family === 'udp6' ? RECV_ADDR6 : undefined));
  return echoIni;
}

/** udp_echo's command line: the port, its lifetime, and --ipv6 for udp6. */
function echoArgs(echoIni: string, seconds: number, family: Family): string[] {
  return ['--conf', echoIni, '--port', '7', '--seconds', String(seconds + 5), ...(family === 'udp6' ? ['--ipv6'] : [])];
}

/** udp_echo driven by the raw-PMD generator udp_blast: the echo server's own capacity. */
async function blastRun(ns: Netns, dir: string, size: number, seconds: number, n: number, family: Family): Promise<BlastSample> {
  const sock = join(dir, `blast-${size}-${family}-${n}.sock`);
  const echoIni = writeEchoIni(dir, sock, family);
  // The echo server outlives the generator: its start, the generator's start and probing take a few seconds.
  const echo = ns.exec(join(BIN, 'udp_echo'), echoArgs(echoIni, seconds, family), {
    timeoutMs: (seconds + 30) * 1000,
  });
  await memifListening(ns, sock);
  // udp_blast stops polling once done and leaves after udp_echo (whose --seconds ends later) has disconnected.
  const blast = await ns.exec(
    join(BIN, 'udp_blast'),
    ['--socket', sock, '--cpu', '0', '--mac', LOAD_MAC, '--size', String(size), '--seconds', String(seconds), '--idle-file', linkFiles(join(dir, `blast-link-${size}-${family}-${n}`)).aIdle,
      ...(family === 'udp6' ? ['--ipv6'] : [])],
    { timeoutMs: (seconds + 90) * 1000 },
  );
  const e = await echo;
  if (blast.code !== 0 || e.code !== 0) {
    throw new Error(`udp_blast/udp_echo failed (blast: ${why(blast)}, echo: ${why(e)}):\n${blast.stderr}\n${e.stderr}`);
  }
  const j = lastJson(blast.stdout, 'udp_blast');
  return { echoedPps: Number(j.echoed_pps ?? 0), txPps: Number(j.tx_pps ?? 0), bad: Number(j.bad ?? 0) };
}

async function echoRun(ns: Netns, dir: string, size: number, seconds: number, n: number, family: Family): Promise<EchoSample> {
  const sock = join(dir, `echo-${size}-${family}-${n}.sock`);
  const echoIni = writeEchoIni(dir, sock, family);
  const loadIni = join(dir, 'load.ini');
  writeFileSync(loadIni, ini('load', 0, 'client', sock, '10.88.0.1', LOAD_MAC, [], family === 'udp6' ? SEND_ADDR6 : undefined));
  // The echo server outlives the load: its start, the load's start and its probing take a few seconds.
  const echo = ns.exec(join(BIN, 'udp_echo'), echoArgs(echoIni, seconds, family), {
    timeoutMs: (seconds + 30) * 1000,
  });
  await memifListening(ns, sock);
  // udp_load, done, no longer turns its stack; it leaves once udp_echo (which ends later) has gone.
  const hold = join(dir, `load-hold-${size}-${family}-${n}`);
  const loading = ns.exec(
    join(BIN, 'udp_load'),
    ['--conf', loadIni, '--dst', family === 'udp6' ? RECV_ADDR6 : '10.88.0.2', '--port', '7', '--size', String(size), '--seconds', String(seconds), '--hold-file', hold],
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
  const one = async <T>(size: number, kind: string, family: Family | null, rep: number, fn: () => Promise<T>, value: (x: T) => number): Promise<T | null> => {
    const busy = await waitQuiet();
    const r = await attempt(fn);
    if (r.ok) {
      runs.push({ size, kind, family, rep, busy_before: busy, value: Math.round(value(r.value)) });
      return r.value;
    }
    runs.push({ size, kind, family, rep, busy_before: busy, failed: r.failed, detail: r.detail });
    log(`size ${size} ${kind}${family ? ` ${family}` : ''} run ${rep + 1}/${o.repeats}: FAILED: ${r.failed}`);
    return null;
  };
  const mpps = (x: number | undefined): string => (x === undefined ? 'failed' : `${(x / 1e6).toFixed(2)} Mpps`);
  /** One family's samples at one size. */
  interface Acc { blast: BlastSample[]; echo: EchoSample[]; ratios: number[]; failed: { echo: number; ffnet_to_ffnet: number } }
  try {
    for (const size of o.sizes) {
      const raw: number[] = [];
      let rawFailed = 0;
      const acc = new Map<Family, Acc>(o.families.map((f) => [f, { blast: [], echo: [], ratios: [], failed: { echo: 0, ffnet_to_ffnet: 0 } }]));
      for (let rep = 0; rep < o.repeats; rep++) {
        const r = await one(size, 'raw', null, rep, () => rawRun(ns, dir, size, o.seconds, rep), (x) => x);
        if (r === null) rawFailed++;
        else raw.push(r);
        const said: string[] = [];
        for (const family of o.families) {
          const a = acc.get(family) as Acc;
          const b = await one(size, 'echo', family, rep, () => blastRun(ns, dir, size, o.seconds, rep, family), (x) => x.echoedPps);
          const e = await one(size, 'ffnet_to_ffnet', family, rep, () => echoRun(ns, dir, size, o.seconds, rep, family), (x) => x.pps);
          if (b === null) a.failed.echo++;
          else a.blast.push(b);
          if (e === null) a.failed.ffnet_to_ffnet++;
          else a.echo.push(e);
          // Echo ÷ raw of the same repeat, for repeats where both gave a figure.
          if (r !== null && b !== null && r > 0) a.ratios.push(Math.round((b.echoedPps / r) * 1000) / 1000);
          said.push(`${family} echo ${mpps(b?.echoedPps)} (offered ${mpps(b?.txPps)}), ffnet↔ffnet ${mpps(e?.pps)}`);
        }
        log(`size ${size} run ${rep + 1}/${o.repeats}: raw ${mpps(r ?? undefined)}, ${said.join('; ')}`);
      }
      for (const family of o.families) {
        const a = acc.get(family) as Acc;
        const v4 = acc.get('udp4');
        const twin = (xs: number[], ys: number[] | undefined): number | null => (family === 'udp6' && ys?.length && xs.length ? Math.round((median(xs) / median(ys)) * 1000) / 1000 : null);
        results.push({
          size,
          family,
          raw_frame_bytes: size,
          echo_payload_bytes: size,
          echo_frame_bytes: size + HEADERS[family],
          raw_pps: spread(raw, rawFailed),
          echo_pps_per_lcore: spread(a.blast.map((b) => b.echoedPps), a.failed.echo),
          ffnet_to_ffnet_pps: spread(a.echo.map((e) => e.pps), a.failed.ffnet_to_ffnet),
          echo_ratio_to_raw: spread(a.ratios, o.repeats - a.ratios.length, 3),
          echo_ratio_samples: a.ratios,
          echo_offered_pps: a.blast.length ? Math.round(median(a.blast.map((b) => b.txPps))) : null,
          echo_bad_frames: a.blast.reduce((x, b) => x + b.bad, 0),
          ffnet_to_ffnet_lost: a.echo.reduce((x, e) => x + e.lost, 0),
          ffnet_to_ffnet_sent: a.echo.reduce((x, e) => x + e.sent, 0),
          /** udp6 rows: the medians' ratio to the udp4 row of the same size. */
          echo_udp6_to_udp4: twin(a.blast.map((b) => b.echoedPps), v4?.blast.map((b) => b.echoedPps)),
          ffnet_to_ffnet_udp6_to_udp4: twin(a.echo.map((e) => e.pps), v4?.echo.map((e) => e.pps)),
          samples: { echo: a.blast.map((b) => b.echoedPps), ffnet_to_ffnet: a.echo.map((e) => e.pps) },
        });
      }
    }
  } finally {
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const c = cpus();
  const at64 = results.find((r) => r.size === 64 && r.family === 'udp4');
  const target = judge({
    target: `echo per lcore at 64 B ≥ ${TARGET_RATIO_TO_RAW}× the raw memif PMD rate of the same run`,
    values: at64?.echo_ratio_samples ?? [],
    failed: at64 ? at64.echo_ratio_to_raw?.failed ?? o.repeats : 0,
    atLeast: TARGET_RATIO_TO_RAW,
  });
  // IPv6 within 10% of IPv4, per size: the echo per lcore and ffnet ↔ ffnet against their udp4 twins.
  const targetsUdp6: Record<string, TargetResult> = {};
  if (o.families.includes('udp6')) {
    for (const size of o.sizes) {
      const r4 = results.find((r) => r.size === size && r.family === 'udp4');
      const r6 = results.find((r) => r.size === size && r.family === 'udp6');
      const failed = (k: 'echo_pps_per_lcore' | 'ffnet_to_ffnet_pps'): number => (r4 && r6 ? (r4[k]?.failed ?? o.repeats) + (r6[k]?.failed ?? o.repeats) : 0);
      targetsUdp6[`udp6_echo_${size}B`] = judgeFamilies({ what: 'rate', udp4: r4?.samples.echo ?? [], udp6: r6?.samples.echo ?? [], failed: failed('echo_pps_per_lcore') });
      targetsUdp6[`udp6_ffnet_${size}B`] = judgeFamilies({ what: 'rate', udp4: r4?.samples.ffnet_to_ffnet ?? [], udp6: r6?.samples.ffnet_to_ffnet ?? [], failed: failed('ffnet_to_ffnet_pps') });
    }
  }
  const doc = {
    bench: 'echo-memif',
    date: new Date().toISOString(),
    machine: { cpus: c.length, model: c[0]?.model ?? 'unknown' },
    setup: {
      seconds_per_run: o.seconds,
      repeats: o.repeats,
      families: o.families,
      statistic: 'min / median / max over the runs that gave a figure; the echo\'s ratio to raw per repeat (both measured in that repeat); *_udp6_to_udp4: a udp6 row\'s median over its udp4 twin\'s',
      raw: 'memif_raw: tx (memif client) on CPU 0 → rx (memif server) on CPU 1; rx-side packets/s',
      echo: 'udp_blast (10.88.0.1, raw memif PMD, one lcore on CPU 0, transmitting as fast as the link takes frames) ⇄ udp_echo (10.88.0.2, inline lcore on CPU 1); valid echoed datagrams/s counted at the generator — the echo server lcore receives and sends every one',
      ffnet_to_ffnet: 'udp_load (10.88.0.1, ffnet, inline lcore on CPU 0, windowed) ⇄ udp_echo (10.88.0.2, inline lcore on CPU 1); echoed datagrams/s, each lcore receives and sends every one',
      udp6: 'the same over IPv6: udp_blast --ipv6 / udp_load --dst fd00:88::2 from fd00:88::1 ⇄ udp_echo --ipv6 (AF_INET6 socket, addr6 fd00:88::2/64, its peer resolved by Neighbor Discovery)',
      oversubscribed: false,
      failed_run: 'a program that crashed, timed out or exited non-zero: recorded in runs[] with why, never a figure; a target with a failed run is not met',
    },
    target,
    targets_udp6: targetsUdp6,
    results: results.map(({ samples: _s, ...r }) => r),
    runs,
  };
  const text = JSON.stringify(doc, null, 2);
  mkdirSync(dirname(o.results), { recursive: true });
  writeFileSync(o.results, `${text}\n`);
  const m = (x: { min: number; median: number; max: number } | null): string => (x === null ? '—' : `${(x.min / 1e6).toFixed(2)} / ${(x.median / 1e6).toFixed(2)} / ${(x.max / 1e6).toFixed(2)}`);
  const x6 = (x: number | null): string => (x === null ? '' : ` (${x.toFixed(3)})`);
  const lines = [`Mpps, min / median / max of ${o.repeats} runs; udp6: (udp6 ÷ udp4) of the medians`, '  size  family  raw memif PMD         echo per lcore                echo ÷ raw (same run)   ffnet ↔ ffnet'];
  for (const r of results) {
    const q = r.echo_ratio_to_raw;
    lines.push(`  ${String(r.size).padStart(4)}  ${r.family}    ${m(r.raw_pps).padEnd(20)}  ${`${m(r.echo_pps_per_lcore)}${x6(r.echo_udp6_to_udp4)}`.padEnd(28)}  ${(q ? `${q.min} / ${q.median} / ${q.max}` : '—').padEnd(22)}  ${m(r.ffnet_to_ffnet_pps)}${x6(r.ffnet_to_ffnet_udp6_to_udp4)}`);
  }
  lines.push('targets', fmtTarget('echo_ratio_to_raw', target));
  for (const [k, t] of Object.entries(targetsUdp6)) lines.push(fmtTarget(k, t));
  const failedRuns = runs.filter((r) => r.failed !== undefined);
  if (failedRuns.length) lines.push(`failed runs: ${failedRuns.map((f) => `${String(f.kind)}${f.family ? ` ${String(f.family)}` : ''} ${String(f.size)} B run ${Number(f.rep) + 1}: ${String(f.failed)}`).join('; ')}`);
  lines.push(`(JSON: ${o.results})`);
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
