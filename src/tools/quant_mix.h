// llama-quantize's presets ("file types"): the names people download (Q4_K_M, Q5_K_S, Q8_0, ...),
// each a base type plus, for the quantized ones, the tensors that get more bits: the output head
// (Q6_K), and for the k-quant mixes attention V, the attention output and the FFN down projection
// of chosen layers. Rows whose length does not fit a type's blocks fall back to a type that fits,
// as llama.cpp does. `--pure` keeps the base type everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "formats/model_file.h"
#include "tensor/dtype.h"

namespace owl {

enum class QuantMix {
  uniform,  // every matrix the base type (f32/f16/bf16 presets, q8_K, --pure)
  legacy,   // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q6_K: only the output head differs
  q2_k, q2_k_s, q3_k_s, q3_k_m, q3_k_l, q4_k_s, q4_k_m, q5_k_s, q5_k_m,
};

struct QuantPreset {
  std::string name;   // as llama-quantize spells it: "Q4_K_M"
  DType base;
  QuantMix mix;
  int32_t file_type;  // general.file_type (llama_ftype); -1 when llama.cpp has none (q8_K)
};

// A preset by name, any case: "q4_k_m", "Q4_K" (= Q4_K_M, as llama-quantize's alias), "q8_0", "f16", and
// owl's own q8_K; nullopt when unknown.
std::optional<QuantPreset> quant_preset(std::string_view name);
// Every name quant_preset accepts, for help texts and errors.
std::string quant_preset_names();

struct TensorTypeOptions {
  QuantPreset preset;
  bool pure = false;                  // the base type everywhere (still falling back where rows do not fit)
  std::optional<DType> output_type;   // output.weight (or the tied token_embd)
  std::optional<DType> token_embd_type;
};

// The type of each tensor of one model under a preset.
class TensorTypes {
 public:
  TensorTypes(const ModelFile& in, const TensorTypeOptions& options);

  struct Choice {
    DType type;
    bool fallback = false;  // the mix's type did not fit the row length
  };
  Choice choose(const TensorInfo& t) const;

 private:
  DType mixed(const TensorInfo& t) const;

  TensorTypeOptions o_;
  bool has_output_ = false;
  int64_t n_layer_ = 0;
  int64_t gqa_ = 0;       // query heads per KV head (layer 0)
  bool big_gqa_70b_ = false;  // Llama with 80 layers and grouped-query attention
};

}  // namespace owl
