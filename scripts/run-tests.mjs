// Runs every ffnet test (vitest suites, which also run the C test programs case by case) under the
// machine's Node, then the suites whose behaviour depends on the running Node (test/shim: node:dgram
// conformance, register, batches, the type surface, socket lifetimes; `ffnet run`, whose register hook
// goes through NODE_OPTIONS; `ffnet migrate`; the CLI's output; ffnet without its addon) under each release of FFNET_NODE_VERSIONS (default 22.12.0, 22, 24; see
// ./node-versions.mjs), and ends with the one-line summary CI reads: "N passed, N failed", the sum
// of every run. Each extra release gets a line of its own before it, in another format.
//
// `node scripts/run-tests.mjs [vitest args]` passes its arguments to the main run; with arguments the
// extra releases run only when FFNET_NODE_VERSIONS is set.
//
// A test file with a failing test is run once more on its own (most suites drive real stacks, network
// namespaces and the kernel on a shared 2-core machine, where a slow moment can fail a timing check):
// its counts are then the second run's, and every test that failed the first time is listed under
// "failed once, passed when run again" (and in build/flaky-tests.txt), so a flaky test stays visible
// and is fixed, not forgotten. Tests that still fail are listed by name before the summary line (and
// in build/failed-tests.txt).
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, delimiter, relative } from 'node:path';
import { ensureNode, requestedVersions, satisfies } from './node-versions.mjs';

/** The suites whose behaviour depends on the running Node, run again under each extra release. */
const PER_VERSION_SUITES = [
  'test/shim',
  'test/tools/run.test.ts',
  'test/tools/migrate.test.ts',
  'test/tools/cli-pipe.test.ts',
  'test/package/no-addon.test.ts',
];

mkdirSync('build', { recursive: true });

/** Runs vitest with a JSON report at `resultsPath`; returns { status, passed, failed, skipped, report }. */
function runVitestOnce(node, vitestArgs, resultsPath, env) {
  rmSync(resultsPath, { force: true });
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${resultsPath}`];
  const run = node
    ? spawnSync(node, ['node_modules/vitest/vitest.mjs', 'run', ...reporters, ...vitestArgs], { stdio: 'inherit', env })
    : spawnSync('npx', ['--no-install', 'vitest', 'run', ...reporters, ...vitestArgs], { stdio: 'inherit', env });
  const counts = { status: run.status, passed: 0, failed: 0, skipped: 0, report: undefined };
  try {
    const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
    counts.report = results;
    counts.passed = results.numPassedTests;
    counts.failed = results.numFailedTests;
    counts.skipped = results.numPendingTests + results.numTodoTests;
    // A suite that failed to load counts as a failure even though none of its tests ran.
    counts.failed += results.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  } catch (err) {
    console.error(`could not read ${resultsPath}: ${err.message}`);
    counts.failed += 1;
  }
  return counts;
}

/** A file's tests by outcome in a JSON report (a file that failed to load: one failure). */
function fileCounts(file) {
  const n = (status) => file.assertionResults.filter((a) => a.status === status).length;
  const loadFailure = file.status === 'failed' && file.assertionResults.length === 0 ? 1 : 0;
  return { passed: n('passed'), failed: n('failed') + loadFailure, skipped: n('pending') + n('todo') + n('skipped') };
}

/** Names of a file's failed tests ("path > title"), or the file itself when it failed to load. */
function failedNames(file) {
  const rel = relative(process.cwd(), file.name);
  const names = file.assertionResults.filter((a) => a.status === 'failed').map((a) => `${rel} > ${a.fullName}`);
  return names.length || file.status !== 'failed' ? names : [`${rel} (failed to load: ${(file.message ?? '').split('\n')[0]})`];
}

const flaky = [];
const stillFailing = [];

/**
 * Runs vitest, then each file with a failure once more on its own, counting that file by its second
 * run. Returns { status, passed, failed, skipped }.
 */
function runVitest(node, vitestArgs, resultsPath, env = process.env, label = '') {
  const first = runVitestOnce(node, vitestArgs, resultsPath, env);
  const failedFiles = first.report ? first.report.testResults.filter((f) => fileCounts(f).failed > 0) : [];
  if (failedFiles.length === 0 || failedFiles.length > 8) {
    for (const f of failedFiles) stillFailing.push(...failedNames(f).map((n) => label + n));
    return first;
  }
  const counts = { ...first };
  const retryArgs = failedFiles.map((f) => relative(process.cwd(), f.name));
  console.log(`\n=== running again on their own: ${retryArgs.join(', ')} ===`);
  const second = runVitestOnce(node, retryArgs, resultsPath.replace(/\.json$/, '-again.json'), env);
  for (const f of failedFiles) {
    const before = fileCounts(f);
    counts.passed -= before.passed;
    counts.failed -= before.failed;
    counts.skipped -= before.skipped;
    const again = second.report?.testResults.find((g) => g.name === f.name);
    const after = again ? fileCounts(again) : { passed: 0, failed: Math.max(1, before.failed), skipped: 0 };
    counts.passed += after.passed;
    counts.failed += after.failed;
    counts.skipped += after.skipped;
    const failingNow = new Set(again ? failedNames(again) : failedNames(f));
    for (const name of failedNames(f)) (failingNow.has(name) ? stillFailing : flaky).push(label + name);
    for (const name of failingNow) if (!failedNames(f).includes(name)) stillFailing.push(label + name);
  }
  counts.status = counts.failed === 0 ? 0 : 1;
  return counts;
}

const cliArgs = process.argv.slice(2);
const main = runVitest(undefined, cliArgs, 'build/test-results.json');
let { passed, failed, skipped } = main;
let ok = main.status === 0;

let versions = [];
try {
  if (cliArgs.length === 0 || process.env.FFNET_NODE_VERSIONS !== undefined) versions = requestedVersions();
} catch (err) {
  console.error(err.message);
  failed += 1;
  ok = false;
}
const lines = [];
for (const spec of versions) {
  if (satisfies(process.version, spec)) {
    lines.push(`[node ${spec}] per-release suites: skipped, the main run already used node ${process.version}`);
    continue;
  }
  let node;
  try {
    node = ensureNode(spec);
  } catch (err) {
    console.error(err.message);
    lines.push(`[node ${spec}] per-release suites: no node binary — counted as 1 failure`);
    failed += 1;
    ok = false;
    continue;
  }
  console.log(`\n=== per-release suites under node ${node.version} (${node.bin}) ===`);
  const started = Date.now();
  // First on PATH too, so that a test's child `node` is this release as well as process.execPath.
  const env = { ...process.env, PATH: `${dirname(node.bin)}${delimiter}${process.env.PATH ?? ''}` };
  const r = runVitest(node.bin, PER_VERSION_SUITES, `build/test-results-node${spec}.json`, env, `[node ${node.version}] `);
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
  ok &&= r.status === 0;
  const fetched = node.installed ? `downloaded in ${node.seconds.toFixed(1)} s` : 'cached';
  lines.push(`[node ${node.version}] per-release suites — ${r.passed} passed / ${r.failed} failed${r.skipped ? ` / ${r.skipped} skipped` : ''}`
    + ` (${((Date.now() - started) / 1000).toFixed(1)} s; binary ${fetched})`);
}

if (lines.length) console.log(`\n[node ${process.version}] main run — ${main.passed} passed / ${main.failed} failed${main.skipped ? ` / ${main.skipped} skipped` : ''}`);
for (const line of lines) console.log(line);
writeFileSync('build/flaky-tests.txt', flaky.map((n) => `${n}\n`).join(''));
writeFileSync('build/failed-tests.txt', stillFailing.map((n) => `${n}\n`).join(''));
if (flaky.length) console.log(`\nfailed once, passed when run again (${flaky.length}):\n${flaky.map((n) => `  ${n}`).join('\n')}`);
if (stillFailing.length) console.log(`\nfailed (${stillFailing.length}):\n${stillFailing.map((n) => `  ${n}`).join('\n')}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok && failed === 0 ? 0 : 1);
