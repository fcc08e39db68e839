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
# shellcheck source=SCRIPTDIR/../node_tests.sh
source "$here/../node_tests.sh"

owl_test_args "$@"
require_fixture
require_owl_binary
ensure_node "its test runner's --test-concurrency; openai 7 declares node >= 22"

cd "$here"
npm_ci_if_needed

make_scratch clients
mkdir -p "$tmp/models"
model="$tmp/models/stories260K.gguf"
convert_stories "$model"

export OWL_BINARY
export OWL_TEST_MODEL_DIR="$tmp/models"
export OWL_TEST_MODEL="$model"
export OWL_TEST_TMP="$tmp"
export OWL_STATE_DIR="$tmp/state"
# The clients read these; a developer's own settings must not redirect or alter the requests.
unset OPENAI_API_KEY OPENAI_BASE_URL OPENAI_ORG_ID OPENAI_PROJECT_ID OLLAMA_HOST OLLAMA_API_KEY

# No `exec`: the EXIT trap must still remove $tmp.
node --test --test-concurrency=1 ./*.test.mjs
