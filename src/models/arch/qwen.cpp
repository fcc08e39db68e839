// Qwen 2 / 2.5 / 3 as deltas of Llama (HF modeling_qwen2.py / modeling_qwen3.py): NeoX RoPE.
// Qwen2's Q/K/V biases and Qwen3's q/k norms are optional tensors the binder picks up.
#include "formats/gguf.h"
#include <nlohmann/json.hpp>

#include "models/arch/families.h"

namespace owl {

ModelSpec qwen2_spec(const ModelFile& f) {
  ModelSpec s = llama_spec(f);
  s.rope_style = RopeStyle::halves;
  return s;
}

ModelSpec qwen3_spec(const ModelFile& f) { return qwen2_spec(f); }

namespace {
// Published Qwen2 configs carry use_sliding_window false; llama.cpp ignores the window, as owl does.
void qwen_hf_metadata(const HfModelConfig&, AssembledModelFile&) {}
void qwen_hf_config_out(const ModelFile&, const ModelSpec&, nlohmann::json& c) { c["use_sliding_window"] = false; }
}  // namespace

const Family kQwen2Family{"qwen2", "Qwen2ForCausalLM", &qwen2_spec, {}, kHfPlain, &qwen_hf_metadata, "qwen2",
                          &qwen_hf_config_out, "chatml"};
const Family kQwen3Family{"qwen3", "Qwen3ForCausalLM", &qwen3_spec, {}, kHfPlain, &qwen_hf_metadata, "qwen3",
                          &qwen_hf_config_out, "chatml"};

}  // namespace owl
