#!/usr/bin/env bash
# Quick start, part 1: set up, build, and tell a story with owl's own model (models/owl-stories-f16.gguf,
# trained from scratch by owl: models/README.md), then check it as a user would before adopting a model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

model=models/owl-stories-f16.gguf
echo "== owl run: a story from owl's own model (greedy)"
build/owl run -m "$model" -p "Once upon a time" -n 160 --temp 0
echo
echo "== owl run: another one, sampled"
build/owl run -m "$model" -p "One sunny morning, a little fox named Pip" -n 160 --temp 0.8 --seed 7
echo
echo "== owl check: license, openness, fit and runtimes"
build/owl check "$model" || [ $? -eq 2 ]  # 2: conditions or warnings, still runnable
cat <<'MSG'

More: build/owl chat, build/owl serve models/owl-stories-f16.gguf (OpenAI and Ollama APIs, a chat
page at http://127.0.0.1:11435/), build/owl finetune (LoRA), and any GGUF, Hugging Face or MLX
model you have: build/owl run -m path/to/model.gguf -p "Hello".
MSG
