# shellcheck shell=bash
# Shared bash of the Node test runners tests/clients/run.sh and tests/webui/run.sh, sourced by
# both (after `set -euo pipefail`). Each function either does its job or ends the script.
#
#   owl_test_args "$@"      OWL_BINARY and OWL_FIXTURES from the arguments, else the environment,
#                           else build/owl and ../shared/fixtures from the repository root
#   require_fixture         sets $fixture (stories260K); without it prints "skipped: ..." and exits 0
#   require_owl_binary      fails unless $OWL_BINARY is executable; makes it an absolute path
#   apt_install PKG...      apt-get install as root (through sudo when not root)
#   ensure_node WHY         installs Debian's nodejs and npm when node is missing; fails on node < 20
#   npm_ci_if_needed        in the current folder: npm ci when node_modules is missing or older than
#                           package-lock.json (installing Debian's npm first if needed)
#   make_scratch NAME       sets $tmp to a new temporary folder owl-NAME.XXXXXX, removed on exit
#   convert_stories OUT     converts the stories260K fixture to the GGUF file OUT

node_tests_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

owl_test_args() {
  OWL_BINARY="${1:-${OWL_BINARY:-$node_tests_repo/build/owl}}"
  OWL_FIXTURES="${2:-${OWL_FIXTURES:-$node_tests_repo/../shared/fixtures}}"
}

require_fixture() {
  fixture="$OWL_FIXTURES/llama2c-stories260K"
  if [[ ! -f "$fixture/stories260K.bin" ]]; then
    echo "skipped: fixtures not found at $fixture/stories260K.bin"
    exit 0
  fi
}

require_owl_binary() {
  if [[ ! -x "$OWL_BINARY" ]]; then
    echo "error: owl binary not found or not executable: $OWL_BINARY" >&2
    exit 1
  fi
  OWL_BINARY="$(cd "$(dirname "$OWL_BINARY")" && pwd)/$(basename "$OWL_BINARY")"
}

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1; then
    echo "node not found: installing Debian's nodejs and npm"
    apt_install nodejs npm
  fi
  local node_major
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  if (( node_major < 20 )); then
    echo "error: node $(node --version) is too old: these tests need node 20 or newer ($1)" >&2
    exit 1
  fi
}

npm_ci_if_needed() {
  # npm ci writes node_modules/.package-lock.json; -nt is also true when it does not exist.
  if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "npm not found: installing Debian's npm"
      apt_install npm
    fi
    npm ci --no-audit --no-fund
  fi
}

make_scratch() {
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/owl-$1.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
}

convert_stories() {
  "$OWL_BINARY" convert --from llama2c "$fixture/stories260K.bin" --tokenizer "$fixture/tok512.bin" -o "$1"
}
