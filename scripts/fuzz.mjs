// npm run fuzz — fuzz/stack_input_fuzz.c (arbitrary frames into a running stack's receive path)
// under libFuzzer with ASan+UBSan, built in build-fuzz/ with clang.
//
//   node scripts/fuzz.mjs                 10 million inputs (-runs), about 15 minutes on one core
//   node scripts/fuzz.mjs --runs=N        N inputs
//   node scripts/fuzz.mjs --time=S        for S seconds (CI: a short run that passes if nothing crashes)
//   node scripts/fuzz.mjs --fuzzer=wire_ipv6_fuzz
//                                         another harness of fuzz/: wire_ipv6_fuzz.c feeds IPv6 packets
//                                         to the wire parsers alone (seeds: the IPv6 packets of the
//                                         frame seeds; corpus build-fuzz/corpus-NAME; regressions in
//                                         fuzz/regressions/NAME/)
//
// The corpus starts from fuzz/make-seeds.mjs's seeds (the test fixtures' frames and frames built for
// the harness's sockets) and grows in build-fuzz/corpus between runs; the inputs of
// fuzz/regressions/ (earlier findings) run first. A crash, a sanitizer report or an mbuf the stack
// did not give back stops the run: the input is saved in build-fuzz/artifacts/ and the run fails.
// Ends with one line: "1 passed, 0 failed" (no finding) or "0 passed, 1 failed".
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, LLVM_PACKAGES, log, run } from './toolchain.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);
const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const time = arg('time');
const runs = arg('runs') ?? (time ? undefined : '10000000');
const name = arg('fuzzer') ?? 'stack_input_fuzz';
const main = name === 'stack_input_fuzz';
const seeds = main ? 'build-fuzz/seeds' : `build-fuzz/seeds-${name}`;
const corpus = main ? 'build-fuzz/corpus' : `build-fuzz/corpus-${name}`;
const regressionDir = main ? 'fuzz/regressions' : `fuzz/regressions/${name}`;

ensureDebianPackages(LLVM_PACKAGES);
log('building build-fuzz (clang, libFuzzer + address + undefined)');
if (!existsSync('build-fuzz/build.ninja')) {
  run('cmake', ['-S', '.', '-B', 'build-fuzz', '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release',
    '-DFFNET_SANITIZE=address,undefined', '-DFFNET_FUZZ=ON'], { env: { ...process.env, CC: 'clang', CXX: 'clang++' } });
}
run('cmake', ['--build', 'build-fuzz', '--parallel', '2', '--target', name]);
run('node', ['fuzz/make-seeds.mjs', 'build-fuzz/seeds', '--wire-ipv6=build-fuzz/seeds-wire_ipv6_fuzz']);
for (const d of [corpus, 'build-fuzz/artifacts']) mkdirSync(d, { recursive: true });

const regressions = existsSync(regressionDir)
  ? readdirSync(regressionDir).filter((f) => f.endsWith('.bin')).map((f) => join(regressionDir, f))
  : [];
const env = {
  ...process.env,
  // LeakSanitizer cannot see pointers kept in DPDK's memory (not malloc'd): the harness checks the
  // packet pools instead, after every input.
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};
const fuzzer = `build-fuzz/fuzz/${name}`;

let ok = true;
if (regressions.length) {
  log(`replaying ${regressions.length} input(s) of fuzz/regressions`);
  ok = spawnSync(fuzzer, regressions, { env, stdio: ['ignore', 2, 2] }).status === 0;
}

let stats = '';
if (ok) {
  const args = ['-dict=fuzz/stack_input.dict', '-artifact_prefix=build-fuzz/artifacts/', '-print_final_stats=1',
    '-max_len=4096', '-timeout=10', '-rss_limit_mb=2048',
    ...(runs ? [`-runs=${runs}`] : []), ...(time ? [`-max_total_time=${time}`] : []),
    corpus, seeds];
  log(`${fuzzer} ${args.join(' ')}`);
  const r = spawnSync(fuzzer, args, { env, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'], maxBuffer: 1 << 30 });
  // libFuzzer reports on stderr; keep its status lines and final statistics, not every new unit.
  const lines = r.stderr.split('\n');
  process.stderr.write(lines.filter((l) => !/^#\d+\s+(NEW|REDUCE)/.test(l)).join('\n'));
  stats = lines.filter((l) => l.startsWith('stat::')).join('\n');
  ok = r.status === 0;
}

const stat = (name) => Number(stats.match(new RegExp(`stat::${name}:\\s+(\\d+)`))?.[1]);
if (stats) {
  console.log(`fuzz: ${stat('number_of_executed_units')} inputs, ${stat('average_exec_per_sec')} exec/s, ` +
    `${stat('peak_rss_mb')} MB peak RSS${ok ? ', no finding' : ''}`);
}
if (!ok) console.log('fuzz: a finding: see the report above and build-fuzz/artifacts/');
console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
process.exit(ok ? 0 : 1);
