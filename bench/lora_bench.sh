#!/usr/bin/env bash
# LoRA training speed (issue 14): owl finetune against the same LoRA step in plain PyTorch
# (bench/lora_torch.py, Debian's python3-torch; for a fair BLAS install libopenblas0-pthread,
# which Debian's "generic BLAS" torch then uses), same shapes, batch, sequence length, rank and
# targets, 2 threads, random tokens. Prints tokens/s and peak memory of each.
# Usage: bench/lora_bench.sh BUILD DIR [SHAPE [TYPE]]   SHAPE: 100m (default), tinyllama or stories260k;
# TYPE: the base's weight type for the synthetic shapes, f32 (default) or a quantized one (q8_0, q4_0:
# QLoRA; PyTorch, which trains on float weights, is then not run).
set -euo pipefail
owl="$(cd "$1" && pwd)/owl"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$2" && cd "$2"
shape=${3:-100m}
type=${4:-f32}
if [ "$shape" = 100m ]; then
  torch_args=(--vocab 32000 --embd 768 --ff 2048 --layers 12 --heads 12 --kv-heads 12)
  batch=4 seq=128 steps=4
  model=m100-$type.gguf vocab=32000
  [ -f "$model" ] || "$owl" bench --synthetic 100m --type "$type" -o "$model"
elif [ "$shape" = tinyllama ]; then
  torch_args=(--vocab 32000 --embd 2048 --ff 5632 --layers 22 --heads 32 --kv-heads 4)
  batch=1 seq=128 steps=3
  model=tinyllama-$type.gguf vocab=32000
  [ -f "$model" ] || "$owl" bench --synthetic tinyllama --type "$type" -o "$model"
else
  torch_args=(--vocab 512 --embd 64 --ff 172 --layers 5 --heads 8 --kv-heads 4)
  batch=4 seq=39 steps=100
  model=${STORIES_GGUF:?set STORIES_GGUF to stories260K as GGUF (owl convert --from llama2c)}
  vocab=512
fi
/usr/bin/python3 - "$vocab" "$seq" "$((batch * (steps + 2)))" > data.jsonl <<'PY'
import json, random, sys
vocab, seq, n = map(int, sys.argv[1:])
random.seed(0)
for _ in range(n):
    print(json.dumps({"tokens": [random.randrange(vocab) for _ in range(seq)]}))
PY
if [ "$type" = f32 ]; then
  echo "== PyTorch ($shape, batch $batch x $seq, rank 8, q,v, 2 threads)"
  /usr/bin/python3 "$here/lora_torch.py" "${torch_args[@]}" --batch "$batch" --seq "$seq" --steps "$steps" --warmup 2 --threads 2
fi
echo "== owl finetune ($type base)"
rm -rf adapter
/usr/bin/time -f "peak_rss_mb %M KB" "$owl" finetune "$model" --data data.jsonl -o adapter --iters "$((steps + 2))" \
  --batch-size "$batch" --targets q,v --rank 8 --no-shuffle --json -t 2 2> time.txt |
  /usr/bin/python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin]
a, b = lines[1], lines[-1]  # the first two steps are warm-up, as for PyTorch
print(json.dumps({"tokens_per_second": (b["tokens_per_second"] * b["seconds"] - a["tokens_per_second"] * a["seconds"]) / (b["seconds"] - a["seconds"])}))'
grep peak_rss time.txt | awk '{print "peak_rss_mb", $2 / 1024}'
