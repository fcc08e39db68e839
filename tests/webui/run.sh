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
# shellcheck source=SCRIPTDIR/../node_tests.sh
source "$here/../node_tests.sh"

owl_test_args "$@"
OWL_CHROMIUM="${OWL_CHROMIUM:-/usr/bin/chromium}"
require_fixture
require_owl_binary
ensure_node "playwright-core and the test runner's --test-concurrency"

if [[ ! -x "$OWL_CHROMIUM" ]]; then
  if [[ "$OWL_CHROMIUM" != /usr/bin/chromium ]]; then
    echo "error: OWL_CHROMIUM is not an executable: $OWL_CHROMIUM" >&2
    exit 1
  fi
  echo "chromium not found: installing Debian's chromium"
  apt_install chromium
fi

# The page's tests share tests/clients/helpers.mjs, which imports the clients' packages.
cd "$here/../clients"
npm_ci_if_needed
cd "$here"
npm_ci_if_needed

make_scratch webui
mkdir -p "$tmp/models" "$tmp/state"
export OWL_STATE_DIR="$tmp/state"
convert_stories "$tmp/models/stories260K.gguf"
# Random weights: gibberish, but slow enough on a CPU to watch a reply grow and to stop it.
"$OWL_BINARY" bench --synthetic 100m --type q4_0 -o "$tmp/models/synthetic-100m.gguf"

export OWL_BINARY OWL_CHROMIUM
export OWL_TEST_MODEL_DIR="$tmp/models"
export OWL_TEST_TMP="$tmp"
unset OWL_API_KEY

# No `exec`: the EXIT trap must still remove $tmp.
node --test --test-concurrency=1 ./*.test.mjs
