// Phi-3 as a delta of Llama (HF modeling_phi3.py; llama.cpp src/models/phi3.cpp): NeoX RoPE,
// partial rotary from rope.dimension_count, fused attn_qkv and gate-up tensors (split by the
// binder), LongRoPE factors (rope_factors_short/long tensors) with an attention factor on cos/sin.
// llama.cpp ignores phi3.attention.sliding_window, and so does owl (the reference has none).
#include <cmath>
#include <vector>

#include "formats/gguf.h"
#include "models/arch/families.h"
#include "models/arch/hf_config.h"

namespace owl {

ModelSpec phi3_spec(const ModelFile& f) {
  ModelSpec s = common_spec(f);
  const std::string a = f.get_string("general.architecture");
  s.rope_style = RopeStyle::halves;
  const float scale = linear_rope_scale(f, "longrope");
  for (LayerSpec& l : s.layers) l.rope_freq_scale = scale;
  s.rope_orig_ctx = static_cast<int64_t>(f.find_uint(a + ".rope.scaling.original_context_length").value_or(0));
  s.rope_attn_factor = static_cast<float>(f.find_float(a + ".rope.scaling.attn_factor").value_or(1.0));
  return s;
}

namespace {

constexpr HfName kPhi3Names[] = {
    {"model.layers.{}.self_attn.qkv_proj.weight", "blk.{}.attn_qkv.weight"},
    {"model.layers.{}.mlp.gate_up_proj.weight", "blk.{}.ffn_up.weight"},
};

// LongRoPE: both factor lists become tensors, and cos/sin get sqrt(1 + ln(s)/ln(orig)) with s the
// context extension (transformers' _compute_longrope_parameters), unless the config gives it.
void phi3_hf_metadata(const HfModelConfig& c, AssembledModelFile& out) {
  const int64_t max_pos = c.find_int("max_position_embeddings").value_or(4096);
  const int64_t orig = c.find_int("original_max_position_embeddings").value_or(max_pos);
  if (orig <= 0 || orig > 0xFFFFFFFFll) c.bad("original_max_position_embeddings", "out of range");
  out.set("phi3.rope.scaling.original_context_length", gguf::Value{static_cast<uint32_t>(orig)});
  const nlohmann::json& s = c.rope_scaling();
  const std::string type = s.value("rope_type", s.value("type", "default"));
  if (type == "default" || type == "linear") return;
  if (type != "longrope" && type != "su") c.bad("rope_scaling", "rope type '" + type + "' is not supported for phi3");
  const int64_t n_rot = static_cast<int64_t>(out.get_uint("phi3.rope.dimension_count"));
  for (const char* which : {"short_factor", "long_factor"}) {
    const auto it = s.find(which);
    if (it == s.end() || !it->is_array() || static_cast<int64_t>(it->size()) != n_rot / 2) {
      c.bad(std::string("rope_scaling.") + which, "expected a list of rope dimension / 2 numbers");
    }
    std::vector<float> f;
    for (const auto& v : *it) {
      if (!v.is_number()) c.bad(std::string("rope_scaling.") + which, "expected numbers");
      f.push_back(v.get<float>());
    }
    add_f32_tensor(out, std::string("rope_factors_") + (which[0] == 's' ? "short" : "long") + ".weight", f);
  }
  double factor = 1.0;
  if (const auto af = s.find("attention_factor"); af != s.end() && af->is_number()) {
    factor = af->get<double>();
  } else if (max_pos > orig) {
    const double scale = static_cast<double>(max_pos) / static_cast<double>(orig);
    factor = std::sqrt(1.0 + std::log(scale) / std::log(static_cast<double>(orig)));
  }
  out.set("phi3.rope.scaling.type", gguf::Value{std::string("longrope")});
  out.set("phi3.rope.scaling.attn_factor", gguf::Value{static_cast<float>(factor)});
}

void phi3_hf_config_out(const ModelFile& f, const ModelSpec& s, nlohmann::json& c) {
  c["original_max_position_embeddings"] = s.rope_orig_ctx > 0 ? s.rope_orig_ctx : s.n_ctx_train;
  const TensorInfo* shorts = f.find_tensor("rope_factors_short.weight");
  const TensorInfo* longs = f.find_tensor("rope_factors_long.weight");
  if (shorts == nullptr || longs == nullptr) return;
  nlohmann::json scaling = {{"type", "longrope"}, {"short_factor", tensor_f32(*shorts)}, {"long_factor", tensor_f32(*longs)}};
  const double orig = static_cast<double>(c["original_max_position_embeddings"].get<int64_t>());
  const double scale = static_cast<double>(s.n_ctx_train) / orig;
  const double implied = scale > 1.0 ? std::sqrt(1.0 + std::log(scale) / std::log(orig)) : 1.0;
  if (std::fabs(implied - s.rope_attn_factor) > 1e-6) scaling["attention_factor"] = s.rope_attn_factor;
  c["rope_scaling"] = scaling;
}

}  // namespace

const Family kPhi3Family{"phi3", "Phi3ForCausalLM", &phi3_spec, kPhi3Names, kHfPlain, &phi3_hf_metadata, "phi3",
                         &phi3_hf_config_out, "phi3"};

}  // namespace owl
