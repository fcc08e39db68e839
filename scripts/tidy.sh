#!/usr/bin/env bash
# clang-tidy (the checks in .clang-tidy, warnings as errors) on the C++ files changed since a base
# revision: the files of the last commit by default, every file with --all. Run by the test suite
# (ctest Tidy.ChangedFiles) after a build, which leaves build/compile_commands.json.
# Usage: scripts/tidy.sh [BASE | --all]
set -euo pipefail
cd "$(dirname "$0")/.."

command -v clang-tidy >/dev/null || { echo "skipped: clang-tidy is not installed (scripts/setup.sh installs it)"; exit 0; }
[ -f build/compile_commands.json ] || { echo "tidy: build/compile_commands.json is missing (run scripts/setup.sh)" >&2; exit 1; }

if [ "${1:-}" = "--all" ]; then
  mapfile -t files < <(git ls-files 'src/*.cpp' 'app/*.cpp')
else
  base="${1:-HEAD~1}"
  git rev-parse -q --verify "$base^{commit}" >/dev/null || { echo "skipped: no revision $base to compare with"; exit 0; }
  # A changed header is checked through the source file of the same name, where there is one.
  mapfile -t files < <(git diff --name-only --diff-filter=AMR "$base" -- 'src/*.cpp' 'src/*.h' 'app/*.cpp' 'app/*.h' |
    sed -E 's/\.h$/.cpp/' | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "tidy: no C++ source changed"
  exit 0
fi

# The build's compile commands without g++'s precompiled header (clang cannot read a .gch), and in
# a unity build each batch's command given to every file the batch includes (CMakeFiles/*/Unity/).
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
python3 - build/compile_commands.json >"$db/compile_commands.json" <<'PY'
import json, re, sys
entries = []
for e in json.load(open(sys.argv[1])):
    command = re.sub(r" -Winvalid-pch -include \S*cmake_pch\.hxx", "", e["command"])
    if "/Unity/unity_" not in e["file"]:
        entries.append({**e, "command": command})
        continue
    if e["file"] not in command:
        sys.exit(f"tidy: cannot find {e['file']} in its compile command")
    for source in re.findall(r'^#include "([^"]+)"', open(e["file"]).read(), re.M):
        entries.append({"directory": e["directory"], "file": source, "command": command.replace(e["file"], source)})
json.dump(entries, sys.stdout)
PY

echo "tidy: ${#files[@]} files"
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -n 1 clang-tidy -p "$db" --quiet --extra-arg=-Wno-unknown-warning-option
echo "tidy: clean"
