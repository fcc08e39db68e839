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
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || echo "(page cache not dropped: not permitted)"; }
drop
read_s=$(dd if=l7b-f16.gguf of=/dev/null bs=16M 2>&1 | tail -1 | tee /dev/stderr | awk '{print $(NF-3)}')
write_line=$(dd if=/dev/zero of=ddtest.bin bs=16M count=256 oflag=direct 2>&1 | tail -1 | tee /dev/stderr)
rm -f ddtest.bin

echo "== owl convert F16 -> Q4_0, 2 threads, cold page cache (3 runs)"
for run in 1 2 3; do
  rm -f l7b-q4_0.gguf
  drop
  /usr/bin/time -f "%e" -o time.txt "$owl" convert l7b-f16.gguf l7b-q4_0.gguf --type q4_0 -t 2 > /dev/null 2>&1
  wall=$(cat time.txt)
  python3 - "$read_s" "$write_line" "$wall" "$(stat -c %s l7b-q4_0.gguf)" <<'PY'
import sys
read_s, write_line, wall, out_bytes = float(sys.argv[1]), sys.argv[2].split(), float(sys.argv[3]), int(sys.argv[4])
write_rate = int(write_line[0]) / float(write_line[-4])  # bytes / seconds of the dd line
bound = read_s + out_bytes / write_rate
print(f"wall {wall:.2f} s; disk bound {bound:.2f} s (read {read_s:.2f} s + write {out_bytes / write_rate:.2f} s): {bound / wall:.2f} of the bound")
PY
done
rm -f time.txt
ls -l l7b-f16.gguf l7b-q4_0.gguf
