#!/usr/bin/env bash
# Builds Aeron's C media driver (aeronmd) and the C samples bench:transport runs against it
# (streaming_publisher, rate_subscriber), from a source directory or a git URL, into a directory of its own.
# Nothing of Aeron's is kept in this repository: point bench:transport at the result with
# `--aeron DIR` or AERON_DIR=DIR.
#
#   scripts/build-aeron.sh SOURCE OUT [JOBS]
#     SOURCE  an Aeron checkout (a directory with Aeron's CMakeLists.txt), or a git URL to clone
#             (e.g. https://github.com/aeron-io/aeron.git; AERON_REF=<tag or branch> picks the revision)
#     OUT     the build directory; the programs end up in OUT/binaries
#     JOBS    parallel compile jobs (default 2)
# Aeron needs CMake ≥ 3.30: CMAKE=/path/to/cmake picks one other than the cmake on PATH (e.g. from
# `pip install cmake` in a virtualenv).
# Only the C client, the C driver and the three programs are built: no Java (Gradle), no archive client,
# no tests, no documentation.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 SOURCE-DIR-or-GIT-URL OUT-DIR [JOBS]" >&2
  exit 2
fi
src=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
jobs=${3:-2}

case "$src" in
  http://* | https://* | git@* | ssh://* | git://*)
    if [ ! -f "$out/src/CMakeLists.txt" ]; then
      rm -rf "$out/src"
      git clone --depth 1 ${AERON_REF:+--branch "$AERON_REF"} "$src" "$out/src"
    fi
    src=$out/src
    ;;
esac
src=$(cd "$src" && pwd)
if [ ! -f "$src/CMakeLists.txt" ] || [ ! -d "$src/aeron-driver/src/main/c" ]; then
  echo "$0: $src is not an Aeron source tree (no CMakeLists.txt or aeron-driver/src/main/c)" >&2
  exit 2
fi
cmake=${CMAKE:-cmake}
for tool in "$cmake" make cc c++; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is needed (apt-get install cmake build-essential)" >&2; exit 2; }
done

"$cmake" -S "$src" -B "$out" \
  -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_AERON_DRIVER=ON \
  -DBUILD_AERON_ARCHIVE_API=OFF \
  -DAERON_TESTS=OFF -DAERON_UNIT_TESTS=OFF -DAERON_SYSTEM_TESTS=OFF \
  -DAERON_BUILD_SAMPLES=ON \
  -DAERON_BUILD_DOCUMENTATION=OFF \
  -DAERON_INSTALL_TARGETS=OFF
"$cmake" --build "$out" --parallel "$jobs" --target aeronmd streaming_publisher rate_subscriber

for b in aeronmd streaming_publisher rate_subscriber; do
  [ -x "$out/binaries/$b" ] || { echo "$0: $out/binaries/$b was not built" >&2; exit 1; }
done
echo "Aeron C driver and samples in $out/binaries (bench:transport --aeron $out)"
