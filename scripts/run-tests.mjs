// Runs every ffnet test (vitest suites, which also run the C test programs case by case) and ends
// with the one-line summary CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';

mkdirSync('build', { recursive: true });
const resultsPath = 'build/test-results.json';
const args = ['--no-install', 'vitest', 'run', '--reporter=default', '--reporter=json',
  `--outputFile.json=${resultsPath}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests;
  skipped = results.numPendingTests + results.numTodoTests;
  // A suite that failed to load counts as a failure even though none of its tests ran.
  failed += results.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
} catch (err) {
  console.error(`could not read ${resultsPath}: ${err.message}`);
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
