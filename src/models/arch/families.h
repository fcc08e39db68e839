// A model family's whole record (one per file in this folder, listed by registry.cpp): its GGUF and
// Hugging Face names, the spec its metadata gives, and how its Hugging Face checkpoints map onto
// GGUF (tensor names, weight rewrites, config keys), plus the metadata reading families share.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "models/spec.h"

namespace owl {
class ModelFile;
class AssembledModelFile;
class HfModelConfig;

// A Hugging Face tensor name and its GGUF name; "{}" stands for the layer number in both.
struct HfName {
  std::string_view hf;
  std::string_view gguf;
};

// Rewrites between the two conventions (convert_hf_to_gguf.py applies them; loading HF undoes none).
enum HfRule : unsigned {
  kHfPlain = 0,
  kHfPermuteQK = 1,   // GGUF rotates adjacent pairs: q/k rows (and biases) are reordered per head
  kHfNormPlusOne = 2, // GGUF stores Gemma's RMSNorm weight as 1 + w
};

struct Family {
  std::string_view gguf_arch;         // general.architecture
  std::string_view hf_architectures;  // space-separated config.json "architectures[0]" names
  ModelSpec (*spec)(const ModelFile& file);
  std::span<const HfName> hf_names;   // tried before the names every family shares
  unsigned hf_rules;
  // The family's own GGUF keys from config.json, and tensors config.json implies (rope_freqs);
  // the shared keys are written before it is called.
  void (*hf_metadata)(const HfModelConfig& config, AssembledModelFile& out);
  std::string_view hf_model_type;     // config.json "model_type" when writing a directory
  // The family's own config.json keys when writing a Hugging Face directory (the inverse of
  // hf_metadata); the shared keys are written before it is called.
  void (*hf_config_out)(const ModelFile& file, const ModelSpec& spec, nlohmann::json& config);
  // The chat template for a file that carries none (chat/conversation.cpp's fallbacks); "" when
  // the vocabulary decides (Llama 2 and 3 share the architecture).
  std::string_view chat_fallback;
};

extern const Family kLlamaFamily, kGemmaFamily, kGemma2Family, kGemma3Family, kQwen2Family, kQwen3Family,
    kPhi3Family;

// Reads the keys every decoder family shares ("<arch>.embedding_length", ...; llama.cpp's LLM_KV
// names), with Llama defaults: interleaved RoPE, SiLU gate, all layers global.
ModelSpec common_spec(const ModelFile& f);

// Linear RoPE scaling from "<arch>.rope.scaling.{type,factor}" or "<arch>.rope.scale_linear";
// 1 when absent. Other scaling types are refused unless listed in `also_allowed`.
float linear_rope_scale(const ModelFile& f, const std::string& also_allowed = "");

// Sets every layer's window to `window` when period divides nothing: layers with il % period <
// period - 1 are local (Gemma 3: 5 local, 1 global; Gemma 2: period 2, even layers local).
void alternate_sliding_layers(ModelSpec& s, int64_t window, int64_t period);

// The period of config.json's sliding layers (layer_types or sliding_window_pattern) in the form
// alternate_sliding_layers takes; owl::Error when the layers follow no such period.
int64_t hf_sliding_period(const HfModelConfig& c, int64_t default_period);

ModelSpec llama_spec(const ModelFile& file);
ModelSpec gemma_spec(const ModelFile& file);
ModelSpec gemma2_spec(const ModelFile& file);
ModelSpec gemma3_spec(const ModelFile& file);
ModelSpec qwen2_spec(const ModelFile& file);
ModelSpec qwen3_spec(const ModelFile& file);
ModelSpec phi3_spec(const ModelFile& file);

}  // namespace owl
