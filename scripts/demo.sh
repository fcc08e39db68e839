#!/usr/bin/env bash
# Quick start, part 1: set up, build, and generate text. Until owl ships a model of its own, it
# converts the stories260K llama2.c checkpoint from ../shared/fixtures when that is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

fixtures="${OWL_FIXTURES:-../shared/fixtures}"
stories="$fixtures/llama2c-stories260K"
if [ -f "$stories/stories260K.bin" ]; then
  mkdir -p models
  build/owl convert --from llama2c "$stories/stories260K.bin" --tokenizer "$stories/tok512.bin" -o models/stories260K.gguf
  build/owl run -m models/stories260K.gguf -p "Once upon a time" -n 200 --temp 0
else
  cat <<'MSG'
owl is built (build/owl). No model was found to run: the stories260K fixture is not at
../shared/fixtures (set OWL_FIXTURES to its folder). To run any Llama-family GGUF model:

  build/owl run -m path/to/model.gguf -p "Once upon a time" -n 128

GGUF models (for example TinyLlama-1.1B-Chat or Llama-2-7B in Q4_0/Q8_0) are published on
Hugging Face; a llama2.c checkpoint converts with:

  build/owl convert --from llama2c model.bin --tokenizer tokenizer.bin -o model.gguf
MSG
fi
