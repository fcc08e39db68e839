// The spec builders of every family (one per file in this folder), and the metadata reading
// they share.
#pragma once

#include <optional>
#include <string>

#include "models/spec.h"

namespace owl {
namespace gguf {
class File;
}

// Reads the keys every decoder family shares ("<arch>.embedding_length", ...; llama.cpp's LLM_KV
// names), with Llama defaults: interleaved RoPE, SiLU gate, all layers global.
ModelSpec common_spec(const gguf::File& f);

// Linear RoPE scaling from "<arch>.rope.scaling.{type,factor}" or "<arch>.rope.scale_linear";
// 1 when absent. Other scaling types are refused unless listed in `also_allowed`.
float linear_rope_scale(const gguf::File& f, const std::string& also_allowed = "");

// Sets every layer's window to `window` when period divides nothing: layers with il % period <
// period - 1 are local (Gemma 3: 5 local, 1 global; Gemma 2: period 2, even layers local).
void alternate_sliding_layers(ModelSpec& s, int64_t window, int64_t period);

ModelSpec llama_spec(const gguf::File& file);
ModelSpec gemma_spec(const gguf::File& file);
ModelSpec gemma2_spec(const gguf::File& file);
ModelSpec gemma3_spec(const gguf::File& file);
ModelSpec qwen2_spec(const gguf::File& file);
ModelSpec qwen3_spec(const gguf::File& file);
ModelSpec phi3_spec(const gguf::File& file);

}  // namespace owl
