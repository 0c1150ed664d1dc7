// npm run test:sanitize — ffnet's tests under the sanitizers, each build in its own directory:
//   build-asan/  gcc, -fsanitize=address,undefined (FFNET_SANITIZE): the C test programs, directly,
//                with leak checking; then the stack's TypeScript suites (test/stack, test/native)
//                loading the sanitized addon (FFNET_ADDON_PATH) into a Node whose process has the
//                ASan runtime preloaded
//   build-tsan/  clang, -fsanitize=thread: the C test programs, among them lcore_threads_test
//                (sockets against a data-path lcore on its own thread)
// A sanitizer report ends its program with a non-zero status, which c-suites.test.ts turns into a
// failing test showing the report. Ends with "N passed, N failed" over every part.
//
//   node scripts/test-sanitize.mjs            everything
//   node scripts/test-sanitize.mjs --c-only   the C programs only (what CI runs)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, LLVM_PACKAGES, lastSummary, log, run } from './toolchain.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
process.chdir(root);
const cOnly = process.argv.includes('--c-only');
const jobs = '2';

ensureDebianPackages(LLVM_PACKAGES);

// --- builds (incremental after the first)
log('building build-asan (gcc, address + undefined)');
run('npx', ['--no-install', 'cmake-js', 'build', '--out', 'build-asan', '--CDFFNET_SANITIZE=address,undefined',
  '--parallel', jobs]);
const testTargets = readdirSync('test/stack').filter((f) => f.endsWith('_test.c')).map((f) => f.replace(/\.c$/, ''));
log('building build-tsan (clang, thread)');
if (!existsSync('build-tsan/build.ninja')) {
  run('cmake', ['-S', '.', '-B', 'build-tsan', '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release', '-DFFNET_SANITIZE=thread'],
    { env: { ...process.env, CC: 'clang', CXX: 'clang++' } });
}
run('cmake', ['--build', 'build-tsan', '--parallel', jobs, '--target', ...testTargets]);

// The addon must carry ASan, or the TypeScript suites would prove nothing.
const addon = join(root, 'build-asan/Release/ffnet.node');
if (!execFileSync('ldd', [addon], { encoding: 'utf8' }).includes('libasan')) {
  throw new Error(`${addon} is not linked with libasan`);
}

const sanitizerEnv = {
  ...process.env,
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};

/** Runs vitest through scripts/run-tests.mjs with `env`; returns its counts. */
function suites(label, env, args) {
  log(`${label}: vitest ${args.join(' ')}`);
  const r = spawnSync('node', ['scripts/run-tests.mjs', ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout);
  const counts = lastSummary(r.stdout) ?? { passed: 0, failed: 1 };
  return { label, ...counts };
}

const parts = [];
parts.push(suites('C tests under ASan+UBSan', {
  ...sanitizerEnv,
  FFNET_C_TESTS_DIR: join(root, 'build-asan/tests'),
  // pool_accounting_test bounds the process's resident memory over 100,000 socket rounds: ASan's
  // default quarantine (256 MB of freed memory held back from reuse) would count as growth.
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:quarantine_size_mb=4',
}, ['test/stack/c-suites.test.ts']));
parts.push(suites('C tests under TSan', {
  ...sanitizerEnv,
  FFNET_C_TESTS_DIR: join(root, 'build-tsan/tests'),
  TSAN_OPTIONS: 'halt_on_error=0:exitcode=66:second_deadlock_stack=1',
}, ['test/stack/c-suites.test.ts']));
if (!cOnly) {
  const libasan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  parts.push(suites('stack suites with the ASan+UBSan addon', {
    ...sanitizerEnv,
    FFNET_ADDON_PATH: addon,
    LD_PRELOAD: libasan,
    PATH: `${join(root, 'scripts/asan-path')}:${process.env.PATH}`,
    // Node itself is not built for LeakSanitizer: its own allocations would be reported at exit.
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0',
  }, ['test/stack', 'test/native', '--exclude', 'test/stack/c-suites.test.ts']));
}

let passed = 0;
let failed = 0;
for (const p of parts) {
  console.log(`sanitize: ${p.label}: ${p.passed} passed, ${p.failed} failed`);
  passed += p.passed;
  failed += p.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
