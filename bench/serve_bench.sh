#!/usr/bin/env bash
# The serving figures of bench/RESULTS.md: for each synthetic model (random weights, real shape),
# `owl bench` (pp512 and tg, the single-stream bounds) and then `owl bench-serve` against an
# `owl serve` of the same file on a free loopback port, in the same run.
# Usage: bench/serve_bench.sh [BUILD_DIR (default build)] [MODEL_DIR (default models)] [SHAPES (default "tinyllama llama2-7b")]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
dir=${2:-models}
shapes=${3:-tinyllama llama2-7b}
owl="$build/owl"
mkdir -p "$dir"
echo "owl $(git rev-parse --short HEAD), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
for shape in $shapes; do
  path="$dir/$shape-q4_0.gguf"
  [ -f "$path" ] || "$owl" bench --synthetic "$shape" --type q4_0 -o "$path" >&2
  if [ "$shape" = tinyllama ]; then levels=1,2,4,8,16 requests=0 n=64; else levels=1,2,4,8 requests=8 n=32; fi
  echo "== $shape q4_0, 2 threads"
  "$owl" bench -m "$path" -p 512 -n "$n" -r 1 -t 2
  log=$(mktemp)
  "$owl" serve "$path" --port 0 --parallel 16 -c 512 -t 2 2>"$log" &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
  for _ in $(seq 600); do grep -q 'listening on' "$log" && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$log" | tail -1)
  args=(--url "$url" -n "$n" -p 32 --concurrency "$levels")
  [ "$requests" -gt 0 ] && args+=(--requests "$requests")
  "$owl" bench-serve "${args[@]}"
  kill $pid; wait $pid 2>/dev/null || true
  trap - EXIT
  rm -f "$log"
done
