#!/usr/bin/env bash
# The main job, end to end: installs dependencies, builds kiln, compiles the bundled model
# (examples/tiny_cnn/tiny_cnn.onnx) into tiny_cnn.h / tiny_cnn.cpp, builds the pair with a plain C
# host program and runs it on a fixed image, comparing with torch's output for that image.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${KILN_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/build.sh" kiln

EX="$ROOT/examples/tiny_cnn"
OUT="$BUILD/demo"
rm -rf "$OUT"
echo "== kiln compile $EX/tiny_cnn.onnx -o $OUT"
"$BUILD/compiler/kiln" compile "$EX/tiny_cnn.onnx" -o "$OUT"
ls -l "$OUT"
echo "== building the generated pair with a C host program"
g++ -std=c++17 -O2 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -c "$OUT/tiny_cnn.cpp" -o "$OUT/tiny_cnn.o"
gcc -std=c99 -O2 -Wall -Wextra -Werror -I"$OUT" -c "$EX/main.c" -o "$OUT/main.o"
g++ "$OUT/main.o" "$OUT/tiny_cnn.o" -lm -o "$OUT/tiny_cnn_demo"
echo "== running"
"$OUT/tiny_cnn_demo" "$EX/input.bin" "$EX/expected.bin"
