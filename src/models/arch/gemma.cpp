// Gemma 1, 2 and 3 as deltas of Llama (HF modeling_gemma*.py; llama.cpp src/models/gemma*.cpp):
// GeGLU with tanh-GELU, embeddings times sqrt(n_embd), NeoX RoPE, tied output. The GGUF norm
// weights already include Gemma's "1 + w". Gemma 2 adds soft-capping and alternating local /
// global layers; Gemma 3 has q/k norms (tensors) and its own RoPE for local layers.
#include <cmath>

#include "formats/gguf.h"
#include "models/arch/families.h"
#include "models/arch/hf_config.h"

namespace owl {

ModelSpec gemma_spec(const ModelFile& f) {
  ModelSpec s = common_spec(f);
  s.rope_style = RopeStyle::halves;
  s.activation = Activation::gelu_tanh;
  s.embd_scale = std::sqrt(static_cast<float>(s.n_embd));
  const float scale = linear_rope_scale(f);
  for (LayerSpec& l : s.layers) l.rope_freq_scale = scale;
  return s;
}

ModelSpec gemma2_spec(const ModelFile& f) {
  ModelSpec s = gemma_spec(f);
  const std::string a = f.get_string("general.architecture");
  s.attn_softcap = static_cast<float>(f.find_float(a + ".attn_logit_softcapping").value_or(0.0));
  s.final_softcap = static_cast<float>(f.find_float(a + ".final_logit_softcapping").value_or(0.0));
  // HF's query_pre_attn_scalar; without it llama.cpp scales by n_embd/n_head only for the
  // 46-layer 27B model and by head_dim otherwise.
  if (auto q = f.find_float(a + ".attention.query_pre_attn_scalar")) {
    s.attn_scale = static_cast<float>(1.0 / std::sqrt(*q));
  } else if (s.n_layer == 46) {
    const int64_t per_head = s.n_embd / s.n_head;  // an integer division, as llama.cpp's
    s.attn_scale = 1.0f / std::sqrt(static_cast<float>(per_head));
  }
  const int64_t window = static_cast<int64_t>(f.find_uint(a + ".attention.sliding_window").value_or(4096));
  const int64_t period = static_cast<int64_t>(f.find_uint(a + ".attention.sliding_window_pattern").value_or(2));
  alternate_sliding_layers(s, window, period);
  return s;
}

ModelSpec gemma3_spec(const ModelFile& f) {
  ModelSpec s = gemma_spec(f);
  const std::string a = f.get_string("general.architecture");
  if (auto q = f.find_float(a + ".attention.query_pre_attn_scalar")) s.attn_scale = static_cast<float>(1.0 / std::sqrt(*q));
  s.final_softcap = static_cast<float>(f.find_float(a + ".final_logit_softcapping").value_or(0.0));
  const int64_t window = static_cast<int64_t>(f.find_uint(a + ".attention.sliding_window").value_or(512));
  const int64_t period = static_cast<int64_t>(f.find_uint(a + ".attention.sliding_window_pattern").value_or(6));
  alternate_sliding_layers(s, window, period);
  // Local layers: their own base, no scaling. Global layers keep freq_base and the linear scale.
  const float local_base = static_cast<float>(f.find_float(a + ".rope.freq_base_swa").value_or(10000.0));
  for (LayerSpec& l : s.layers) {
    if (l.sliding_window > 0) {
      l.rope_base = local_base;
      l.rope_freq_scale = 1.0f;
    }
  }
  return s;
}

namespace {

// Gemma 2/3 have four norms per layer; HF's post_attention_layernorm is the attention output's.
constexpr HfName kGemma2Names[] = {
    {"model.layers.{}.post_attention_layernorm.weight", "blk.{}.post_attention_norm.weight"},
    {"model.layers.{}.pre_feedforward_layernorm.weight", "blk.{}.ffn_norm.weight"},
    {"model.layers.{}.post_feedforward_layernorm.weight", "blk.{}.post_ffw_norm.weight"},
};

void set_f32(AssembledModelFile& out, const std::string& key, std::optional<double> v) {
  if (v && *v != 0.0) out.set(key, gguf::Value{static_cast<float>(*v)});
}

void gemma_hf_metadata(const HfModelConfig&, AssembledModelFile&) {}

void gemma2_hf_metadata(const HfModelConfig& c, AssembledModelFile& out) {
  set_f32(out, "gemma2.attn_logit_softcapping", c.find_float("attn_logit_softcapping"));
  set_f32(out, "gemma2.final_logit_softcapping", c.find_float("final_logit_softcapping"));
  set_f32(out, "gemma2.attention.query_pre_attn_scalar", c.find_float("query_pre_attn_scalar"));
  out.set("gemma2.attention.sliding_window", gguf::Value{static_cast<uint32_t>(c.find_int("sliding_window").value_or(4096))});
  // llama.cpp's converter writes no pattern key: only a period other than the default needs one.
  if (const int64_t p = hf_sliding_period(c, 2); p != 2) {
    out.set("gemma2.attention.sliding_window_pattern", gguf::Value{static_cast<uint32_t>(p)});
  }
}

void gemma3_hf_metadata(const HfModelConfig& c, AssembledModelFile& out) {
  set_f32(out, "gemma3.final_logit_softcapping", c.find_float("final_logit_softcapping"));
  set_f32(out, "gemma3.attention.query_pre_attn_scalar", c.find_float("query_pre_attn_scalar"));
  out.set("gemma3.attention.sliding_window", gguf::Value{static_cast<uint32_t>(c.find_int("sliding_window").value_or(512))});
  if (const int64_t p = hf_sliding_period(c, 6); p != 6) {
    out.set("gemma3.attention.sliding_window_pattern", gguf::Value{static_cast<uint32_t>(p)});
  }
  set_f32(out, "gemma3.rope.freq_base_swa", c.local_rope_theta());
}

void gemma_hf_config_out(const ModelFile&, const ModelSpec&, nlohmann::json& c) {
  c["hidden_activation"] = "gelu_pytorch_tanh";
}

// What Gemma 2 and 3 share: soft-caps, the query scale, and the layer pattern in both spellings.
void gemma2_hf_config_out(const ModelFile& f, const ModelSpec& s, nlohmann::json& c) {
  gemma_hf_config_out(f, s, c);
  c["attn_logit_softcapping"] = s.attn_softcap > 0 ? nlohmann::json(s.attn_softcap) : nlohmann::json();
  c["final_logit_softcapping"] = s.final_softcap > 0 ? nlohmann::json(s.final_softcap) : nlohmann::json();
  c["query_pre_attn_scalar"] = s.attn_scale > 0 ? 1.0 / (static_cast<double>(s.attn_scale) * s.attn_scale)
                                                : static_cast<double>(s.head_dim);
  nlohmann::json types = nlohmann::json::array();
  int64_t window = 0, period = s.n_layer + 1;
  for (size_t il = 0; il < s.layers.size(); ++il) {
    const bool slides = s.layers[il].sliding_window > 0;
    types.push_back(slides ? "sliding_attention" : "full_attention");
    if (slides) window = s.layers[il].sliding_window;
    if (!slides && period > s.n_layer) period = static_cast<int64_t>(il) + 1;
  }
  c["layer_types"] = types;
  c["sliding_window"] = window > 0 ? nlohmann::json(window) : nlohmann::json();
  c["sliding_window_pattern"] = period;
}

void gemma3_hf_config_out(const ModelFile& f, const ModelSpec& s, nlohmann::json& c) {
  gemma2_hf_config_out(f, s, c);
  c.erase("attn_logit_softcapping");
  for (const LayerSpec& l : s.layers) {
    if (l.sliding_window > 0) c["rope_local_base_freq"] = l.rope_base;
  }
}

}  // namespace

const Family kGemmaFamily{"gemma", "GemmaForCausalLM", &gemma_spec, {}, kHfNormPlusOne, &gemma_hf_metadata,
                          "gemma", &gemma_hf_config_out, "gemma"};
const Family kGemma2Family{"gemma2", "Gemma2ForCausalLM", &gemma2_spec, kGemma2Names, kHfNormPlusOne,
                           &gemma2_hf_metadata, "gemma2", &gemma2_hf_config_out, "gemma"};
const Family kGemma3Family{"gemma3", "Gemma3ForCausalLM Gemma3ForConditionalGeneration", &gemma3_spec, kGemma2Names,
                           kHfNormPlusOne, &gemma3_hf_metadata, "gemma3_text", &gemma3_hf_config_out, "gemma"};

}  // namespace owl
