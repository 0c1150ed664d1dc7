// Runs the C test programs (build/tests/*_test, built from test/stack/*_test.c) and turns each C case
// into a vitest test: describe(<program>) with one it(<case>) per line the program prints.
//
// The programs speak the protocol of test/stack/harness.h, on stdout:
//   ok <case>
//   not ok <case>: <file>:<line>: <message>     (preceded by "#   ..." diagnostic lines, if any)
//   # <P> passed, <F> failed                    (last line; exit status 1 if F > 0)
// A program that crashes, times out or ends without the summary line becomes a failing test that says
// so, with its exit status or signal and the tail of its output.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// FFNET_C_TESTS_DIR runs another build's programs (npm run test:sanitize: build-asan/tests, build-tsan/tests).
const testsDir = process.env.FFNET_C_TESTS_DIR ?? join(repoRoot, 'build', 'tests');
const fixturesDir = join(repoRoot, 'test', 'fixtures');
const timeoutMs = 60_000;
const tailLines = 20;

interface CaseResult {
  name: string;
  ok: boolean;
  message: string;
}

interface ProgramRun {
  cases: CaseResult[];
  /** Why the run as a whole is not trustworthy (crash, timeout, missing or inconsistent summary). */
  problem?: string;
}

function findPrograms(): string[] {
  if (!existsSync(testsDir)) return [];
  return readdirSync(testsDir)
    .filter((name) => name.endsWith('_test'))
    .filter((name) => {
      const st = statSync(join(testsDir, name));
      return st.isFile() && (st.mode & 0o111) !== 0;
    })
    .sort();
}

function tail(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-tailLines).join('\n');
}

function runProgram(name: string): ProgramRun {
  const run = spawnSync(join(testsDir, name), [], {
    cwd: repoRoot,
    env: { ...process.env, FFNET_FIXTURES: fixturesDir },
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = run.stdout ?? '';
  const stderr = run.stderr ?? '';
  const output = () => {
    const parts: string[] = [];
    if (stdout.trim()) parts.push(tail(stdout));
    if (stderr.trim()) parts.push(`stderr:\n${tail(stderr)}`);
    return parts.length ? `; last output:\n${parts.join('\n')}` : '; no output';
  };

  const cases: CaseResult[] = [];
  let diagnostics: string[] = [];
  let summary: { passed: number; failed: number } | undefined;
  for (const line of stdout.split('\n')) {
    const summaryMatch = /^# (\d+) passed, (\d+) failed$/.exec(line);
    if (summaryMatch) {
      summary = { passed: Number(summaryMatch[1]), failed: Number(summaryMatch[2]) };
      continue;
    }
    if (line.startsWith('#')) {
      diagnostics.push(line.replace(/^# ?/, ''));
      continue;
    }
    const notOk = /^not ok (\S+): (.*)$/.exec(line);
    if (notOk) {
      const message = [notOk[2] ?? '', ...diagnostics].join('\n');
      cases.push({ name: notOk[1] ?? '', ok: false, message });
      diagnostics = [];
      continue;
    }
    const ok = /^ok (\S+)$/.exec(line);
    if (ok) {
      cases.push({ name: ok[1] ?? '', ok: true, message: '' });
      diagnostics = [];
    }
  }

  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    const why = code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : run.error.message;
    return { cases, problem: `${name} ${why}${output()}` };
  }
  if (run.signal) {
    return { cases, problem: `${name} was killed by ${run.signal} after ${cases.length} case(s)${output()}` };
  }
  if (!summary) {
    return { cases, problem: `${name} exited with status ${run.status} without a summary line${output()}` };
  }
  const failed = cases.filter((c) => !c.ok).length;
  if (summary.passed !== cases.length - failed || summary.failed !== failed) {
    return {
      cases,
      problem: `${name} reported ${summary.passed} passed, ${summary.failed} failed but printed ` +
        `${cases.length - failed} ok and ${failed} not ok line(s)${output()}`,
    };
  }
  if (run.status !== (failed > 0 ? 1 : 0)) {
    return { cases, problem: `${name} exited with status ${run.status} after ${failed} failure(s)${output()}` };
  }
  return { cases };
}

const programs = findPrograms();

if (programs.length === 0) {
  describe('C test programs', () => {
    it('are built', () => {
      throw new Error(`C tests not built: run npm run build (no *_test programs in ${testsDir})`);
    });
  });
}

for (const program of programs) {
  const result = runProgram(program);
  describe(program, () => {
    for (const c of result.cases) {
      it(c.name, () => {
        if (!c.ok) throw new Error(c.message);
      });
    }
    if (result.problem !== undefined) {
      const problem = result.problem;
      it('runs to completion', () => {
        throw new Error(problem);
      });
    }
  });
}
