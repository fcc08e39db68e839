#!/usr/bin/env bash
# Quick start, part 2: set up, build with warnings as errors, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DOWL_WERROR=ON
export OWL_FIXTURES="${OWL_FIXTURES:-$(cd .. && pwd)/shared/fixtures}"
cd build && ctest --output-on-failure -j"$(nproc)" "$@"
