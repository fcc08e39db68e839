#!/usr/bin/env bash
# Reproduces the model figures of bench/RESULTS.md: writes the synthetic models (random weights,
# real shapes) when missing, then runs `owl bench` on each. Needs about 30 GB of disk for all of them.
# Usage: bench/reproduce.sh [BUILD_DIR (default build)] [MODEL_DIR (default models)] [REPS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
dir=${2:-models}
reps=${3:-3}
owl="$build/owl"
mkdir -p "$dir"

model() {  # shape type -> path, written on first use
  local path="$dir/$1-$2.gguf"
  [ -f "$path" ] || "$owl" bench --synthetic "$1" --type "$2" -o "$path" >&2
  echo "$path"
}

echo "owl $(git rev-parse --short HEAD), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
for type in q4_0 q8_0 q4_k_m; do
  echo "== llama2-7b $type, 2 threads"
  "$owl" bench -m "$(model llama2-7b "$type")" -p 512 -n 128 -r "$reps" -t 2
done
echo "== llama2-7b f16, 2 threads (fewer tokens: 13.5 GB per token)"
"$owl" bench -m "$(model llama2-7b f16)" -p 64 -n 16 -r 1 -t 2
echo "== tinyllama q4_0, 2 threads"
"$owl" bench -m "$(model tinyllama q4_0)" -p 512 -n 128 -r "$reps" -t 2
echo "== thread scaling: 7B q4_0 prefill, 1 then 2 threads"
"$owl" bench -m "$(model llama2-7b q4_0)" -p 128 -n 0 -r "$reps" -t 1
"$owl" bench -m "$(model llama2-7b q4_0)" -p 128 -n 0 -r "$reps" -t 2
echo "== the same 7B q4_0 on the AVX2 kernels, with weights used in place (OWL_PACK=0), and on the scalar kernels"
OWL_CPU=avx2 "$owl" bench -m "$(model llama2-7b q4_0)" -p 64 -n 16 -r 1 -t 2
OWL_PACK=0 "$owl" bench -m "$(model llama2-7b q4_0)" -p 64 -n 16 -r 1 -t 2
OWL_CPU=ref "$owl" bench -m "$(model llama2-7b q4_0)" -p 8 -n 4 -r 1 -t 2
