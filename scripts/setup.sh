#!/usr/bin/env bash
# Brings a Debian 12 machine to the point where ffnet builds, runs and tests: Debian packages,
# npm dependencies, the native build (cmake-js) and the TypeScript build. Every step checks first,
# so a second run on a ready machine takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages: the DPDK 22.11 LTS development files, libpcap (capture filters), DPDK's own tools
# (dpdk-dev: dpdk-dumpcap, dpdk-telemetry.py), libxdp1 and libbpf1 (net_af_xdp's; libdpdk-dev pulls them in
# through librte-net-af-xdp23, named here as what a port on net_af_xdp needs at run time) and the test
# bench's peers and probes (ethtool: a veth peer's checksum offload in the af_packet / af_xdp tests;
# bind9-dnsutils: dig, the kernel-side DNS client of the tests that run real npm packages on the stack).
packages=(libdpdk-dev libpcap-dev dpdk-dev libxdp1 libbpf1 pkg-config cmake make g++ iproute2 iputils-ping arping tcpdump tshark netcat-openbsd radvd ethtool bind9-dnsutils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}" >&2
fi

# --- npm dependencies: exactly what package-lock.json records (npm ci never rewrites the lock), again
# whenever package.json or the lock changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2
  touch node_modules/.package-lock.json
fi

# --- native build: the addon, the C tests, the test-bench tools and the benchmarks; skipped when nothing changed.
addon=build/Release/ffnet.node
newer=""
if [ -f "$addon" ]; then
  newer=$(find CMakeLists.txt stack native posix test/stack test/config testbed bench -newer "$addon" \
            \( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.hh' -o -name CMakeLists.txt \) -print -quit 2>/dev/null || true)
fi
if [ ! -f "$addon" ] || [ -n "$newer" ]; then
  log "building native code"
  npx --no-install cmake-js build --out build --parallel "$(nproc)" >&2
  touch "$addon"
fi

# --- TypeScript (incremental), after the modules generated from the stack's C tables.
node scripts/gen-tables.mjs --module
npx --no-install tsc -p tsconfig.json >&2
