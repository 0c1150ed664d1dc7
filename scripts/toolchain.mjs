// What the reliability scripts (test-sanitize.mjs, fuzz.mjs) share:
// installing the Debian packages they need beyond `npm test`'s, running a step, and reading the
// "N passed, N failed" line every test runner of ffnet ends with.
import { spawnSync } from 'node:child_process';

/** clang 14 with libFuzzer and the sanitizer runtimes (Debian 12). */
export const LLVM_PACKAGES = ['clang', 'libfuzzer-14-dev', 'libclang-rt-14-dev'];

/** Progress on stderr, so stdout ends with the summary line alone. */
export function log(msg) {
  process.stderr.write(`[reliability] ${msg}\n`);
}

/** Runs a command with inherited stdio (output to stderr); throws when it fails. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.signal ?? `status ${r.status}`})`);
}

/** Installs the Debian packages that are missing (apt-get; sudo when not root). */
export function ensureDebianPackages(packages) {
  const missing = packages.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return !r.stdout?.includes('install ok installed');
  });
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (args) => run(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), ...args],
    { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt(['update', '-q']);
  apt(['install', '-y', '-q', ...missing]);
}

/** The last "N passed, N failed" line of a runner's output, as counts (undefined when there is none). */
export function lastSummary(text) {
  const matches = [...text.matchAll(/^(\d+) passed, (\d+) failed/gm)];
  const last = matches.at(-1);
  return last ? { passed: Number(last[1]), failed: Number(last[2]) } : undefined;
}
