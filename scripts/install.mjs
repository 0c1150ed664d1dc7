// The package's install script: builds the native addon (build/Release/ffnet.node) with cmake-js against
// Debian's libdpdk-dev when ffnet is installed as a dependency (`npm install ffnet`, `npm rebuild ffnet`).
//
// Where a prerequisite is missing (pkg-config, libdpdk >= 22.11, cmake, a C/C++ compiler, Node's headers)
// the install still succeeds: it prints one line saying what is missing and how to add it, and records
// that line in build/ffnet-native.json, where ffnet/dgram (its kernel fallback warning) and the ffnet
// commands read it. A build that fails with every prerequisite present fails the install (its output is
// above the error); FFNET_SKIP_NATIVE=1 installs without the addon on purpose.
//
// In a development checkout (the directory holds test/), `npm install` / `npm ci` leave the native build
// to scripts/setup.sh (`npm run build`), which builds the tests and tools as well: nothing is built twice.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const statusFile = join(root, 'build', 'ffnet-native.json');
const DPDK_MIN = '22.11';

/** Prints the one line this script says, prefixed like every ffnet message. */
function say(line) {
  console.log(`ffnet: ${line}`);
}

/** Records the outcome for the run time (native/index.ts reads `reason` when the addon is missing). */
function record(status) {
  mkdirSync(dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);
}

/** Installs without the addon: the reason (what is missing, then how to add it) is said once and recorded. */
function skip(reason) {
  rmSync(join(root, 'build', 'Release', 'ffnet.node'), { force: true });
  record({ built: false, reason });
  say(`the native addon is not built: ${reason}; ffnet/dgram uses the kernel's node:dgram`);
  process.exit(0);
}

/** Whether `cmd args` runs and exits 0; its trimmed stdout. */
function probe(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { ok: !r.error && r.status === 0, out: (r.stdout ?? '').trim() };
}

const rebuild = 'then npm rebuild ffnet';

if (existsSync(join(root, 'test'))) {
  say('development checkout: the native code is built by `npm run build` (scripts/setup.sh)');
  process.exit(0);
}
if (process.env.FFNET_SKIP_NATIVE === '1') skip('FFNET_SKIP_NATIVE=1 was set when ffnet was installed (unset it, then npm rebuild ffnet)');
if (process.platform !== 'linux') skip(`DPDK's ffnet stack runs on Linux only (this is ${process.platform})`);
if (!probe('pkg-config', ['--version']).ok) skip(`pkg-config and libdpdk-dev were not found when ffnet was installed (apt-get install pkg-config libdpdk-dev, ${rebuild})`);
if (!probe('pkg-config', ['--exists', 'libdpdk']).ok) skip(`libdpdk-dev was not found when ffnet was installed (apt-get install libdpdk-dev, ${rebuild})`);
const dpdkVersion = probe('pkg-config', ['--modversion', 'libdpdk']).out;
if (!probe('pkg-config', [`--atleast-version=${DPDK_MIN}`, 'libdpdk']).ok) {
  skip(`libdpdk ${dpdkVersion} was found when ffnet was installed; ffnet needs ${DPDK_MIN} or later (Debian 12's libdpdk-dev, ${rebuild})`);
}
if (!probe('cmake', ['--version']).ok) skip(`cmake was not found when ffnet was installed (apt-get install cmake, ${rebuild})`);
const cc = process.env.CC ?? 'cc';
const cxx = process.env.CXX ?? 'c++';
if (!probe(cc, ['--version']).ok || !probe(cxx, ['--version']).ok) {
  skip(`no C/C++ compiler (${cc}, ${cxx}) was found when ffnet was installed (apt-get install g++ make, ${rebuild})`);
}
// The addon waits on the stack's eventfd with libuv's uv_poll: it needs Node's own headers (uv.h).
const nodeInclude = resolve(process.execPath, '../../include/node');
if (!existsSync(join(nodeInclude, 'uv.h'))) {
  skip(`Node's headers were not found at ${nodeInclude} when ffnet was installed (use a Node from nodejs.org or NodeSource, or apt-get install libnode-dev; ${rebuild})`);
}

const cmakeJs = join(dirname(createRequire(import.meta.url).resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const parallel = String(Math.min(availableParallelism(), 8));
const build = spawnSync(process.execPath, [cmakeJs, 'build', '--out', 'build', '--parallel', parallel, '--CDFFNET_ADDON_ONLY=ON'],
  { cwd: root, stdio: 'inherit' });
const addon = join(root, 'build', 'Release', 'ffnet.node');
if (build.status !== 0 || !existsSync(addon)) {
  record({ built: false, reason: `the native build failed when ffnet was installed (npm rebuild ffnet --foreground-scripts shows why)` });
  console.error(`ffnet: the native addon failed to build against libdpdk ${dpdkVersion} (cmake-js's output is above); `
    + 'FFNET_SKIP_NATIVE=1 installs ffnet without it (kernel backend only)');
  process.exit(1);
}
// The objects and static libraries (about 10 MB) serve no one after the link; npm rebuild starts afresh.
for (const entry of readdirSync(join(root, 'build'))) {
  if (entry !== 'Release') rmSync(join(root, 'build', entry), { recursive: true, force: true });
}
record({ built: true, dpdk: dpdkVersion });
say(`the native addon is built against libdpdk ${dpdkVersion} (build/Release/ffnet.node)`);
