#!/usr/bin/env bash
# The AVX2 table of bench/RESULTS.md (issue 20): the AVX2 kernels (OWL_CPU=avx2, also on an AVX-512
# CPU) on synthetic models of real shape, 2 threads. Each file runs on every owl binary given, one
# after the other, so their figures come from the same minutes; the synthetic files are written on
# first use (about 20 GB in all).
# Usage: bench/avx2_table.sh MODEL_DIR OWL [OWL...]
set -euo pipefail
dir=$1
shift
mkdir -p "$dir"

model() {  # shape type -> path
  local path="$dir/$1-$2.gguf"
  [ -f "$path" ] || "${owls[0]}" bench --synthetic "$1" --type "$2" -o "$path" >&2
  echo "$path"
}

owls=("$@")
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
  "AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no); kernels: avx2"
run() {  # shape type prompt gen
  local path
  path=$(model "$1" "$2")
  for owl in "${owls[@]}"; do
    echo "== $1 $2 pp$3 tg$4: $owl"
    OWL_CPU=avx2 "$owl" bench -m "$path" -p "$3" -n "$4" -r 1 -t 2 | grep -E '^(pp|tg|memory)'
  done
}
run tinyllama q4_0 512 128
run llama2-7b q4_0 256 64
run llama2-7b q4_k_m 256 64
run llama2-7b q8_0 256 64
for type in q4_k_m q5_k_m q6_k q8_0 f16; do run tinyllama "$type" 128 64; done
