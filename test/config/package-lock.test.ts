/**
 * The committed package-lock.json is complete, so `npm ci` (what scripts/setup.sh runs) installs
 * exactly it and `npm install` has nothing to add: every dependency and optional dependency of every
 * package in the lock (the platform builds of rollup and esbuild included) has an entry of its own,
 * found the way Node resolves it (nearest node_modules up the tree).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../stack/child-stack.js';

interface LockPackage {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };

/** The lock entry `name` resolves to from the package at `from` (a key of lock.packages). */
function resolveIn(from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const key = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lock.packages[key]) return key;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

describe('package-lock.json', () => {
  it('has an entry for every dependency and optional dependency it names', () => {
    const missing: string[] = [];
    for (const [key, pkg] of Object.entries(lock.packages)) {
      const wanted = { ...pkg.dependencies, ...pkg.optionalDependencies, ...(key === '' ? pkg.devDependencies : {}) };
      for (const name of Object.keys(wanted)) {
        if (!resolveIn(key, name)) missing.push(`${key || '(root)'} → ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('is what scripts/setup.sh installs, with npm ci', () => {
    const setup = readFileSync(join(REPO, 'scripts', 'setup.sh'), 'utf8');
    expect(setup).toMatch(/^\s*npm ci\b/m);
    expect(setup).not.toMatch(/^\s*npm install\b/m);
  });
});
