#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang into build-fuzz/ (incrementally), makes their seed
# corpora from the fixtures, and runs each target for SECONDS (default 30) on one core.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   targets: gguf_reader safetensors hf_config tokenizer_json
# Each target keeps its corpus in build-fuzz/corpus/<target> (longer runs build on earlier ones) and its
# findings in build-fuzz/findings/<target>/. Prints one line per target and exits 1 when any target
# found something (the reproducer's path is in the output: rerun it with build-fuzz/<target>_fuzz FILE).
# Environment: OWL_FIXTURES (default ../shared/fixtures), OWL_FUZZ_BUILD_JOBS (default: all cores),
# OWL_FUZZ_TIMEOUT (seconds one input may take, default 10: it is wall time, so raise it for long runs
# at a low priority beside other work, where a starved target would report a false hang).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(gguf_reader safetensors hf_config tokenizer_json)
seconds=30
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=()
for t in "$@"; do
  t=${t%_fuzz}
  if [[ ! " ${all_targets[*]} " =~ " $t " ]]; then
    echo "fuzz: unknown target '$t' (targets: ${all_targets[*]})" >&2
    exit 2
  fi
  targets+=("$t")
done
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

# ---- tools: clang with libFuzzer (Debian 12: clang-14 + libclang-rt-14-dev), as setup.sh installs its own
packages=(clang libclang-rt-14-dev cmake make pkg-config libfmt-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---- build: only the sources each target needs (fuzz/CMakeLists.txt); make skips what is up to date
build=build-fuzz
start=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
cmake --build "$build" -j"${OWL_FUZZ_BUILD_JOBS:-$(nproc)}" > "$build/build.log" 2>&1 || {
  tail -n 40 "$build/build.log" >&2
  echo "fuzz: build failed (log: $build/build.log)" >&2
  exit 1
}
echo "fuzz: build done in $(($(date +%s) - start)) s"

# ---- seeds: rebuilt from the fixtures on every run (small copies), plus synthetic ones
fixtures=${OWL_FIXTURES:-$root/../shared/fixtures}
if [ -d "$fixtures" ]; then
  fixtures=$(cd "$fixtures" && pwd)
  echo "fuzz: seeds from $fixtures"
else
  echo "fuzz: no fixtures at $fixtures: using only the synthetic seeds seed_tool makes"
  fixtures=""
fi
seed_tool=$build/seed_tool
seeds=$build/seeds
for t in "${targets[@]}"; do  # only this run's targets: another run may be reading the others
  rm -rf "${seeds:?}/$t"
  "$seed_tool" synthetic "$t" "$seeds/$t"
done
# One seed per fixture file: a shrunk copy (seed_tool), or the file itself when small.
shrink() {  # KIND FILE OUT
  "$seed_tool" "$1" "$2" "$3" 2>/dev/null || echo "fuzz: no seed from $2 (seed_tool $1 refused it)" >&2
}
wants() { [[ " ${targets[*]} " =~ " $1 " ]]; }
if [ -n "$fixtures" ]; then
  shopt -s nullglob
  if wants gguf_reader; then
    for f in "$fixtures"/archs/*.gguf "$fixtures"/ollama-tiny-random-gguf/*.gguf; do
      shrink gguf "$f" "$seeds/gguf_reader/$(basename "$f")"
    done
    for f in "$fixtures"/llamacpp-vocab/*.gguf; do  # vocabulary-only files: metadata, no tensors
      shrink gguf "$f" "$seeds/gguf_reader/$(basename "$f")"
    done
  fi
  if wants safetensors; then
    for f in "$fixtures"/safetensors-format-samples/*.safetensors; do cp "$f" "$seeds/safetensors/"; done
    for d in "$fixtures"/hf-archs/*/ "$fixtures"/mlx-archs/*/; do
      for f in "$d"*.safetensors; do
        shrink safetensors "$f" "$seeds/safetensors/$(basename "$d")-$(basename "$f")"
      done
    done
  fi
  if wants hf_config; then
    for d in "$fixtures"/hf-archs/*/ "$fixtures"/mlx-archs/*/; do
      [ -f "$d/config.json" ] && cp "$d/config.json" "$seeds/hf_config/$(basename "$d").json"
    done
  fi
  if wants tokenizer_json; then
    for f in "$fixtures"/ortx-hf-tokenizers/*/tokenizer.json; do
      shrink tokenizer-json "$f" "$seeds/tokenizer_json/$(basename "$(dirname "$f")").json"
    done
    for f in "$fixtures"/llamacpp-vocab/*.gguf; do  # GGUF vocabularies load through the same entry point
      shrink gguf "$f" "$seeds/tokenizer_json/$(basename "$f")"
    done
  fi
  shopt -u nullglob
fi

# ---- run
declare -A max_len=([gguf_reader]=65536 [safetensors]=16384 [hf_config]=16384 [tokenizer_json]=65536)
declare -A dict=([gguf_reader]=gguf [safetensors]=safetensors [hf_config]=hf_config [tokenizer_json]=tokenizer_json)
scratch_base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch_base=/dev/shm
scratch=$(mktemp -d "$scratch_base/owl-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export OWL_FUZZ_TMPDIR=$scratch
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=0
summary=()
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  findings=$build/findings/$t
  log=$build/logs/$t.log
  mkdir -p "$corpus" "$findings" "$build/logs"
  echo "fuzz: $t for $seconds s (log: $log)"
  TIMEFORMAT='%R %U %S'
  rc=0
  { time "$build/${t}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout="${OWL_FUZZ_TIMEOUT:-10}" -max_len="${max_len[$t]}" \
      -dict="fuzz/dict/${dict[$t]}.dict" -artifact_prefix="$findings/" -print_final_stats=1 \
      "$corpus" "$seeds/$t" > "$log" 2>&1 || rc=$?; } 2> "$build/logs/$t.time"
  read -r wall user sys < "$build/logs/$t.time"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
  n_corpus=$(find "$corpus" -type f | wc -l)
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", u + s }')
  if [ "$rc" -eq 0 ]; then
    result="ok"
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    reason=$(grep -a -m1 -E '^==[0-9]+== ?ERROR|^SUMMARY|runtime error|owl fuzz: (invariant|an accepted)|terminate called' "$log" || true)
    result="FOUND (exit $rc): ${reason:-see log} -> ${artifact:-no reproducer written}"
    tail -n 60 "$log" >&2
  fi
  summary+=("$(printf '%-15s %4.0f s wall %5s s cpu  %10s execs (%s/s)  corpus %5s files  rss %s MB  %s' \
    "$t" "$wall" "$cpu" "${execs:-?}" "${rate:-?}" "$n_corpus" "${rss:-?}" "$result")")
done

echo "fuzz: summary"
printf '  %s\n' "${summary[@]}"
exit $failed
