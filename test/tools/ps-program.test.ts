/**
 * The program `ffnet ps` names for a Node stack is its main script, whatever options Node was given
 * before it (a preloaded module is not the program); without a script, how Node got its code. (A C
 * program on ff_init is named after its executable: test/tools/access.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns } from '../../testbed/netns.js';
import { quietNamespace } from '../stack/kernel-peer.js';
import { cliJson, REPO, startNodeApp, tmpDir, waitForStack, type NodeAppOptions } from './harness.js';

describe('mainProgram', () => {
  const show = `import(${JSON.stringify(join(REPO, 'dist/native/index.js'))}).then((m) => console.log(m.mainProgram()))`;
  const run = (args: string[], input?: string) =>
    spawnSync(process.execPath, args, { input: input ?? '', encoding: 'utf8', timeout: 20_000 }).stdout.trim();

  it('is [eval] for -e and --eval=, [stdin] for a script piped in', () => {
    expect(run(['-e', show])).toBe('[eval]');
    expect(run([`--eval=${show}`])).toBe('[eval]');
    expect(run([], show)).toBe('[stdin]');
    expect(run(['-'], show)).toBe('[stdin]');
  });
});

interface Info { pid: number; program: string; argv: string[] }

describe('ffnet ps names the program', () => {
  let ns: Netns;
  let dir: string;

  beforeAll(async () => {
    ns = await quietNamespace('tools-psname');
    dir = tmpDir();
    writeFileSync(join(dir, 'preload.mjs'), 'globalThis.preloaded = true;\n');
    writeFileSync(join(dir, 'preload.cjs'), 'globalThis.preloaded = true;\n');
  }, 60_000);

  afterAll(async () => {
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function programOf(opts: NodeAppOptions): Promise<Info> {
    const app = startNodeApp(ns, 'tools-psname', 9710, {}, opts);
    try {
      await app.waitForLine(/ready/);
      await waitForStack(ns, app.pid);
      const [info] = await cliJson<Info[]>(ns, ['-p', String(app.pid), 'ps']);
      return info!;
    } finally {
      await app.stop();
    }
  }

  it('node --import MODULE app.mjs is app.mjs', async () => {
    const info = await programOf({ nodeArgs: ['--import', join(dir, 'preload.mjs')], main: 'app.mjs' });
    expect(info.argv).toContain(join(dir, 'preload.mjs'));
    expect(info.program).toBe('app.mjs');
  }, 90_000);

  it('node -r MODULE app.cjs is app.cjs', async () => {
    const info = await programOf({ nodeArgs: ['-r', join(dir, 'preload.cjs')], main: 'app.cjs' });
    expect(info.argv).toContain(join(dir, 'preload.cjs'));
    expect(info.program).toBe('app.cjs');
  }, 90_000);
});
