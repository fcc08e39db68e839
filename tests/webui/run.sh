#!/usr/bin/env bash
# End-to-end browser tests of the chat page of `owl serve` (webui/), in headless Chromium driven
# by playwright-core.
#
#   tests/webui/run.sh [OWL_BINARY [OWL_FIXTURES]]
#
# OWL_BINARY   the built owl (argument or environment; default: build/owl)
# OWL_FIXTURES the fixtures root (argument or environment; default: ../shared/fixtures from the
#              repository root). Without llama2c-stories260K/ in it the run is skipped (exit 0).
# OWL_CHROMIUM the browser (environment; default /usr/bin/chromium, installed from Debian's
#              `chromium` package with apt-get when missing). playwright-core downloads none.
#
# Installs the locked npm packages when node_modules is missing or older than package-lock.json,
# converts stories260K to GGUF and writes a slow random-weight model (owl bench --synthetic 100m)
# into a temporary models folder, and runs every *.test.mjs with node's test runner, one file at a
# time. Exit status: node's (0 when every test passed). The screenshots in docs/ are written by
# screenshots.mjs, run by hand (see its header), not by this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

OWL_BINARY="${1:-${OWL_BINARY:-$repo/build/owl}}"
OWL_FIXTURES="${2:-${OWL_FIXTURES:-$repo/../shared/fixtures}}"
OWL_CHROMIUM="${OWL_CHROMIUM:-/usr/bin/chromium}"

fixture="$OWL_FIXTURES/llama2c-stories260K"
if [[ ! -f "$fixture/stories260K.bin" ]]; then
  echo "skipped: fixtures not found at $fixture/stories260K.bin"
  exit 0
fi
if [[ ! -x "$OWL_BINARY" ]]; then
  echo "error: owl binary not found or not executable: $OWL_BINARY" >&2
  exit 1
fi
OWL_BINARY="$(cd "$(dirname "$OWL_BINARY")" && pwd)/$(basename "$OWL_BINARY")"

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

if ! command -v node >/dev/null 2>&1; then
  echo "node not found: installing Debian's nodejs and npm"
  apt_install nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
  echo "error: node $(node --version) is too old: these tests need node 20 or newer" \
       "(playwright-core and the test runner's --test-concurrency)" >&2
  exit 1
fi

if [[ ! -x "$OWL_CHROMIUM" ]]; then
  if [[ "$OWL_CHROMIUM" != /usr/bin/chromium ]]; then
    echo "error: OWL_CHROMIUM is not an executable: $OWL_CHROMIUM" >&2
    exit 1
  fi
  echo "chromium not found: installing Debian's chromium"
  apt_install chromium
fi

cd "$here"
# npm ci writes node_modules/.package-lock.json; -nt is also true when it does not exist.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: installing Debian's npm"
    apt_install npm
  fi
  npm ci --no-audit --no-fund
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/owl-webui.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/models" "$tmp/state"
export OWL_STATE_DIR="$tmp/state"
"$OWL_BINARY" convert --from llama2c "$fixture/stories260K.bin" --tokenizer "$fixture/tok512.bin" \
  -o "$tmp/models/stories260K.gguf"
# Random weights: gibberish, but slow enough on a CPU to watch a reply grow and to stop it.
"$OWL_BINARY" bench --synthetic 100m --type q4_0 -o "$tmp/models/synthetic-100m.gguf"

export OWL_BINARY OWL_CHROMIUM
export OWL_TEST_MODEL_DIR="$tmp/models"
export OWL_TEST_TMP="$tmp"
unset OWL_API_KEY

# No `exec`: the EXIT trap must still remove $tmp.
node --test --test-concurrency=1 ./*.test.mjs
