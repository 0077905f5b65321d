#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds kiln and its tests, then runs unit (gtest),
# lit (diagnostics, IR round-trip, emitted code) and end-to-end (model zoo) tiers through ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${KILN_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/build.sh"
cd "$BUILD"
ctest --output-on-failure "$@"
