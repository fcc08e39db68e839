// A model-file view laid out as a Hugging Face directory: config.json and generation_config.json
// from the spec and metadata, and for each tensor its Hugging Face name and the inverse of the
// family's rewrites. Tensors config.json implies (rope_freqs, LongRoPE factors) go into the config.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/model_file.h"

namespace owl {

struct HfTensorPlan {
  std::string hf_name;
  const TensorInfo* source = nullptr;
  int64_t unpermute_heads = 0;  // > 0: q/k rows back from GGUF's pairs to HF's halves, per head
  bool norm_minus_one = false;  // Gemma: GGUF's 1 + w back to w
};

struct HfLayout {
  std::string family;          // GGUF architecture name
  nlohmann::json config;       // config.json without torch_dtype (the writer knows the dtype)
  nlohmann::json generation;   // generation_config.json
  std::vector<HfTensorPlan> tensors;
};

// owl::Error naming the file when the family or a tensor has no Hugging Face form.
HfLayout hf_layout(const ModelFile& file);

}  // namespace owl
