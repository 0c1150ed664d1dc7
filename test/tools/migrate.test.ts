/**
 * `ffnet migrate` on a sample project: TypeScript under a tsconfig (default, namespace and type-only
 * imports, a re-export, a dynamic import(), an `import x = require()` and an `import()` type), a
 * CommonJS .cjs file (require) and an ES module .mjs file (import()), plus files it must leave alone:
 * one excluded by .gitignore and one under node_modules. --dry-run prints the unified diff and writes
 * nothing; the migration rewrites exactly the specifiers (quote style, spacing and comments kept),
 * says "N files changed, M specifiers rewritten", and is idempotent; the project then type-checks
 * with tsc and runs, its sockets now ffnet/dgram's (kernel backend: no FFNET_CONFIG) where they were
 * node:dgram's before. The project resolves `ffnet` through node_modules/ffnet, a symlink to this
 * package, as an installed dependency is found. Every exchange is over 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../stack/child-stack.js';

const CLI = join(REPO, 'dist', 'tools', 'cli.js');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** A round trip through two sockets made by `create`; prints whether they are ffnet's, and the reply. */
const roundTrip = (create: string): string => `
  const a = ${create};
  const b = ${create};
  a.bind(0, '127.0.0.1', () => {
    a.on('message', (m, r) => a.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    const t = setTimeout(() => { console.log('no reply'); process.exit(1); }, 5000);
    b.on('message', (m) => {
      clearTimeout(t);
      console.log(JSON.stringify({ ffnet: 'backend' in a, reply: String(m) }));
      a.close();
      b.close();
    });
    b.send('hi', a.address().port, '127.0.0.1');
  });
`;

/** The sample project: path → content. */
const FILES: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'sample', private: true, type: 'module', dependencies: { ffnet: '*' } }, null, 2),
  'tsconfig.json': JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', rootDir: 'src', types: ['node'], skipLibCheck: true },
    include: ['src'],
  }, null, 2),
  '.gitignore': 'out/\ngenerated/\n',
  'src/echo.ts': `// An echo server on node:dgram.
import dgram from "node:dgram";
import type { RemoteInfo } from 'dgram';
import * as ns from  'node:dgram' ; // namespace import, odd spacing kept
export { Socket } from 'node:dgram';
export type Dgram = typeof import('dgram');

export function echo(msg: Buffer, rinfo: RemoteInfo, socket: dgram.Socket): void {
  socket.send(msg, rinfo.port, rinfo.address);
}
export const createSocket: typeof ns.createSocket = ns.createSocket;
`,
  'src/main.ts': `import { createSocket } from './echo.js';
const lazy = await import('dgram');
if (lazy.createSocket !== createSocket) throw new Error('two dgram modules');
${roundTrip("createSocket('udp4')")}
`,
  'legacy.cjs': `'use strict';
const dgram = require('dgram');
${roundTrip("dgram.createSocket('udp4')")}
`,
  'tool.mjs': `const { default: dgram } = await import(\`node:dgram\`);
${roundTrip("dgram.createSocket('udp4')")}
`,
  'generated/left-alone.js': "const dgram = require('dgram');\n",
};

/** Which specifiers the migration rewrites, per file: [before, after] substrings. */
const EXPECTED: Record<string, Array<[string, string]>> = {
  'src/echo.ts': [
    ['import dgram from "node:dgram";', 'import dgram from "ffnet/dgram";'],
    ["import type { RemoteInfo } from 'dgram';", "import type { RemoteInfo } from 'ffnet/dgram';"],
    ["import * as ns from  'node:dgram' ; // namespace", "import * as ns from  'ffnet/dgram' ; // namespace"],
    ["export { Socket } from 'node:dgram';", "export { Socket } from 'ffnet/dgram';"],
    ["typeof import('dgram');", "typeof import('ffnet/dgram');"],
  ],
  'src/main.ts': [["await import('dgram')", "await import('ffnet/dgram')"]],
  'legacy.cjs': [["require('dgram')", "require('ffnet/dgram')"]],
  'tool.mjs': [['import(`node:dgram`)', 'import(`ffnet/dgram`)']],
};

let dir: string;

function read(path: string): string {
  return readFileSync(join(dir, path), 'utf8');
}

function run(cmd: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FFNET_CONFIG;
  delete env.NODE_OPTIONS;
  const r = spawnSync(cmd, args, { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ffnet = (...args: string[]) => run(process.execPath, [CLI, ...args]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ffnet-migrate-'));
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), "module.exports = require('dgram');\n");
  symlinkSync(REPO, join(dir, 'node_modules', 'ffnet'));
  symlinkSync(join(REPO, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ffnet migrate', () => {
  it('before: the programs run on node:dgram', () => {
    const r = run(process.execPath, ['legacy.cjs']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ffnet: false, reply: 'echo:hi' });
  });

  it('--dry-run prints the unified diff and the summary, and writes nothing', () => {
    const r = ffnet('migrate', '--dry-run', dir);
    expect(r.code, r.stderr).toBe(0);
    for (const [path, pairs] of Object.entries(EXPECTED)) {
      expect(r.stdout).toContain(`--- a/${path}\n+++ b/${path}\n`);
      for (const [before, after] of pairs) {
        const line = (s: string) => FILES[path]!.split('\n').find((l) => l.includes(before))!.replace(before, s);
        expect(r.stdout).toContain(`\n-${line(before)}\n`);
        expect(r.stdout).toContain(`\n+${line(after)}\n`);
      }
    }
    expect(r.stdout).not.toContain('generated/');
    expect(r.stdout).not.toContain('node_modules');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('4 files changed, 8 specifiers rewritten (dry run: nothing written)');
    for (const [path, content] of Object.entries(FILES)) expect(read(path), path).toBe(content);
  });

  it('rewrites exactly the specifiers, nothing else, and a second run finds nothing', () => {
    const r = ffnet('migrate', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('4 files changed, 8 specifiers rewritten\n');
    for (const [path, content] of Object.entries(FILES)) {
      let expected = content;
      for (const [before, after] of EXPECTED[path] ?? []) expected = expected.replace(before, after);
      expect(read(path), path).toBe(expected);
    }
    expect(read('node_modules/dep/index.js')).toBe("module.exports = require('dgram');\n");
    const again = ffnet('migrate', dir);
    expect(again.stdout).toBe('0 files changed, 0 specifiers rewritten\n');
  });

  it('after: the project type-checks with tsc and every program runs on ffnet/dgram', () => {
    const tsc = run(process.execPath, [TSC, '-p', 'tsconfig.json']);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    for (const program of ['out/main.js', 'legacy.cjs', 'tool.mjs']) {
      const r = run(process.execPath, [program]);
      expect(r.code, `${program}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout), program).toEqual({ ffnet: true, reply: 'echo:hi' });
    }
  });

  it('a missing directory is a usage error of one line', () => {
    const r = ffnet('migrate', join(dir, 'nowhere'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ffnet migrate: ${join(dir, 'nowhere')}: no such directory\n`);
  });
});
