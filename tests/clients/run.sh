#!/usr/bin/env bash
# End-to-end tests of `owl serve` with the official OpenAI and Ollama JavaScript clients.
#
#   tests/clients/run.sh [OWL_BINARY [OWL_FIXTURES]]
#
# OWL_BINARY   the built owl (argument or environment; default: build/owl)
# OWL_FIXTURES the fixtures root (argument or environment; default: ../shared/fixtures from the
#              repository root). Without llama2c-stories260K/ in it the run is skipped (exit 0).
#
# Installs the locked npm packages when node_modules is missing or older than package-lock.json,
# converts stories260K to GGUF in a temporary folder and runs every *.test.mjs with node's test
# runner, one file at a time. Exit status: node's (0 when every test passed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

OWL_BINARY="${1:-${OWL_BINARY:-$repo/build/owl}}"
OWL_FIXTURES="${2:-${OWL_FIXTURES:-$repo/../shared/fixtures}}"

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

if ! command -v node >/dev/null 2>&1; then
  echo "node not found: installing Debian's nodejs and npm"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
  echo "error: node $(node --version) is too old: these tests need node 20 or newer" \
       "(its test runner's --test-concurrency; openai 7 declares node >= 22)" >&2
  exit 1
fi

cd "$here"
# npm ci writes node_modules/.package-lock.json; -nt is also true when it does not exist.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: installing Debian's npm"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm
  fi
  npm ci --no-audit --no-fund
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/owl-clients.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/models"
model="$tmp/models/stories260K.gguf"
"$OWL_BINARY" convert --from llama2c "$fixture/stories260K.bin" --tokenizer "$fixture/tok512.bin" -o "$model"

export OWL_BINARY
export OWL_TEST_MODEL_DIR="$tmp/models"
export OWL_TEST_MODEL="$model"
export OWL_TEST_TMP="$tmp"
export OWL_STATE_DIR="$tmp/state"
# The clients read these; a developer's own settings must not redirect or alter the requests.
unset OPENAI_API_KEY OPENAI_BASE_URL OPENAI_ORG_ID OPENAI_PROJECT_ID OLLAMA_HOST OLLAMA_API_KEY

# No `exec`: the EXIT trap must still remove $tmp.
node --test --test-concurrency=1 ./*.test.mjs
