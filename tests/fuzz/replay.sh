#!/usr/bin/env bash
# CI replay of kiln's fuzz targets (ctest `fuzz-replay`): builds the two libFuzzer targets with
# clang-14 in BUILD_DIR (only kiln_ir, kiln_frontend and the targets, at -O1 without debug info to
# keep it short), then runs every input once (-runs=0): the checked-in minimized corpus
# (tests/fuzz/corpus/<target>/), every crasher ever found (tests/fuzz/crashers/<target>/), and the
# seeds make_seeds.py collects from the machine (examples, lit models, the ONNX node suite of
# libonnx-testdata, weightless copies of the cached zoo models, the lit .kir files). Any crash,
# sanitizer report, timeout or out-of-memory fails the test. Without clang-14 and its fuzzer runtime
# the test prints why and exits 77, which ctest reports as skipped.
#
# Usage: replay.sh BUILD_DIR
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="$1"
PYTHON=/usr/bin/python3

skip() {
  echo "SKIPPED: fuzz replay ($1)"
  exit 77
}
command -v clang++-14 >/dev/null || skip "clang++-14 not found; apt-get install clang-14"
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long) { return 0; }' \
  >"$probe/probe.cpp"
clang++-14 -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" 2>/dev/null ||
  skip "clang-14 has no libFuzzer runtime; apt-get install libclang-rt-14-dev"

start=$(date +%s)
CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -G Ninja -DKILN_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O1 >/dev/null
ninja -C "$BUILD" fuzz >/dev/null
echo "fuzz targets built in $(($(date +%s) - start)) s"

"$PYTHON" "$HERE/make_seeds.py" "$ROOT" "$probe/onnx" "$probe/kir"
# -runs=0 executes each input once. libFuzzer may write inputs into the first corpus directory it
# is given: that is a scratch directory, never the source tree.
run() {
  local target="$1"
  shift
  mkdir -p "$probe/scratch-$target"
  local dirs=("$probe/scratch-$target") d
  for d in "$@"; do
    [ -d "$d" ] && dirs+=("$d")
  done
  if "$BUILD/tests/fuzz/$target" -runs=0 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$probe/" "${dirs[@]}" >"$probe/$target.log" 2>&1; then
    echo "$target: $(tail -n 1 "$probe/$target.log")"
  else
    tail -n 60 "$probe/$target.log"
    echo "FAILED: $target crashed, timed out or ran out of memory on an input (report above)"
    return 1
  fi
}
run FuzzOnnxImport "$HERE/corpus/onnx" "$HERE/crashers/onnx" "$probe/onnx"
run FuzzKirParser "$HERE/corpus/kir" "$HERE/crashers/kir" "$probe/kir"
echo "fuzz replay done in $(($(date +%s) - start)) s"
