// Runs every ffnet test (vitest suites, which also run the C test programs case by case) under the
// machine's Node, then the suites whose behaviour depends on the running Node (test/shim: node:dgram
// conformance, register, batches, the type surface, socket lifetimes; `ffnet run`, whose register hook
// goes through NODE_OPTIONS; `ffnet migrate`; the CLI's output; ffnet without its addon) under each release of FFNET_NODE_VERSIONS (default 22.12.0, 22, 24; see
// ./node-versions.mjs), and ends with the one-line summary CI reads: "N passed, N failed", the sum
// of every run. Each extra release gets a line of its own before it, in another format.
//
// `node scripts/run-tests.mjs [vitest args]` passes its arguments to the main run; with arguments the
// extra releases run only when FFNET_NODE_VERSIONS is set.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, delimiter } from 'node:path';
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

/** Runs vitest with a JSON report at `resultsPath`; returns { status, passed, failed, skipped }. */
function runVitest(node, vitestArgs, resultsPath, env = process.env) {
  rmSync(resultsPath, { force: true });
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${resultsPath}`];
  const run = node
    ? spawnSync(node, ['node_modules/vitest/vitest.mjs', 'run', ...reporters, ...vitestArgs], { stdio: 'inherit', env })
    : spawnSync('npx', ['--no-install', 'vitest', 'run', ...reporters, ...vitestArgs], { stdio: 'inherit', env });
  const counts = { status: run.status, passed: 0, failed: 0, skipped: 0 };
  try {
    const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
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
  const r = runVitest(node.bin, PER_VERSION_SUITES, `build/test-results-node${spec}.json`, env);
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
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok && failed === 0 ? 0 : 1);
