#!/usr/bin/env bash
# Model formats (issue 13): load time of a Hugging Face directory against the same weights as a
# GGUF file, and `owl convert` F16 -> Q4_0 GGUF against the disk's read and write bound, on a
# synthetic 7B-shape model. Needs ~35 GB free in DIR. Usage: bench/formats_bench.sh BUILD DIR
set -euo pipefail
owl="$(cd "$1" && pwd)/owl"
mkdir -p "$2" && cd "$2"

[ -f l7b-f16.gguf ] || "$owl" bench --synthetic llama2-7b --type f16 -o l7b-f16.gguf
[ -d l7b-hf ] || "$owl" convert l7b-f16.gguf l7b-hf --to hf -t 2

echo "== load seconds (owl bench load_seconds; each file twice, alternating)"
for m in l7b-f16.gguf l7b-hf l7b-f16.gguf l7b-hf; do
  printf '%s ' "$m"
  "$owl" bench -m "$m" -p 0 -n 2 -r 1 --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["load_seconds"])'
done

echo "== disk bound: sequential read of the F16 file, direct write of 4 GiB"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || echo "(page cache not dropped: not permitted)"
dd if=l7b-f16.gguf of=/dev/null bs=16M 2>&1 | tail -1
dd if=/dev/zero of=ddtest.bin bs=16M count=256 oflag=direct 2>&1 | tail -1
rm -f ddtest.bin

echo "== owl convert F16 -> Q4_0, 2 threads"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
/usr/bin/time -f "wall %e s, user %U s, sys %S s" "$owl" convert l7b-f16.gguf l7b-q4_0.gguf --type q4_0 -t 2 2>&1 | tail -2
ls -l l7b-f16.gguf l7b-q4_0.gguf
