// The inverse of hf_import.cpp: GGUF conventions -> transformers' config.json and tensor names.
#include "models/hf_export.h"

#include <fmt/format.h>

#include <string>

#include "base/error.h"
#include "models/arch/families.h"
#include "models/hf_import.h"
#include "models/registry.h"
#include "models/weights.h"

namespace owl {

using nlohmann::json;

namespace {

bool made_from_config(std::string_view gguf_name) {
  return gguf_name == "rope_freqs.weight" || gguf_name == "rope_factors_short.weight" ||
         gguf_name == "rope_factors_long.weight";
}

// A float32 as the shortest decimal that reads back to it (1e-06, not 9.9999999747e-07).
double short_float(float f) { return std::stod(fmt::format("{}", f)); }

std::optional<int64_t> metadata_id(const ModelFile& f, const char* key) {
  const auto v = f.find(key);
  if (v == nullptr || !v->is_integer()) return std::nullopt;
  const int64_t id = v->to_int(key);
  return id >= 0 && id != 0xFFFFFFFF ? std::optional(id) : std::nullopt;
}

json common_config(const ModelFile& f, const Family& family, const ModelSpec& s) {
  json c;
  std::string_view first = family.hf_architectures.substr(0, family.hf_architectures.find(' '));
  c["architectures"] = {std::string(first)};
  c["model_type"] = std::string(family.hf_model_type);
  c["hidden_size"] = s.n_embd;
  c["intermediate_size"] = s.n_ff;
  c["num_hidden_layers"] = s.n_layer;
  c["num_attention_heads"] = s.n_head;
  c["num_key_value_heads"] = s.n_head_kv;
  if (s.head_dim * s.n_head != s.n_embd || family.gguf_arch != "phi3") c["head_dim"] = s.head_dim;
  if (s.n_rot != s.head_dim) c["partial_rotary_factor"] = static_cast<double>(s.n_rot) / static_cast<double>(s.head_dim);
  c["max_position_embeddings"] = s.n_ctx_train;
  c["rms_norm_eps"] = short_float(s.norm_eps);
  c["vocab_size"] = s.n_vocab;
  c["tie_word_embeddings"] = s.tied_output;
  c["hidden_act"] = s.activation == Activation::silu ? "silu" : "gelu_pytorch_tanh";
  // The global layers carry the model's RoPE (Gemma 3's local layers have their own base).
  const LayerSpec* global = &s.layers.front();
  for (const LayerSpec& l : s.layers) {
    if (l.sliding_window == 0) global = &l;
  }
  c["rope_theta"] = short_float(global->rope_base);
  c["rope_scaling"] = global->rope_freq_scale != 1.0f ? json{{"rope_type", "linear"}, {"factor", short_float(1.0f / global->rope_freq_scale)}}
                                                      : json();
  c["attention_bias"] = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  if (auto bos = metadata_id(f, "tokenizer.ggml.bos_token_id")) c["bos_token_id"] = *bos;
  if (auto eos = metadata_id(f, "tokenizer.ggml.eos_token_id")) c["eos_token_id"] = *eos;
  return c;
}

}  // namespace

HfLayout hf_layout(const ModelFile& f) {
  const std::string arch = f.get_string("general.architecture");
  const Family* family = family_by_gguf(arch);
  if (family == nullptr) fail("{}: architecture '{}' has no Hugging Face form in owl", f.path(), arch);
  ModelSpec spec = spec_from_gguf(f);
  const TensorInfo& embd = f.tensor("token_embd.weight");
  spec.n_vocab = embd.shape.empty() ? 0 : embd.shape[0];
  spec.tied_output = f.find_tensor("output.weight") == nullptr;

  HfLayout out;
  out.family = arch;
  out.config = common_config(f, *family, spec);
  family->hf_config_out(f, spec, out.config);
  out.generation = {{"_from_model_config", true}};
  if (out.config.contains("bos_token_id")) out.generation["bos_token_id"] = out.config["bos_token_id"];
  if (out.config.contains("eos_token_id")) out.generation["eos_token_id"] = out.config["eos_token_id"];

  for (const TensorInfo& t : f.tensors()) {
    if (made_from_config(t.name)) continue;
    auto name = hf_tensor_name(*family, t.name);
    if (!name) fail("{}: tensor '{}' has no Hugging Face name for {}", f.path(), t.name, arch);
    HfTensorPlan p{*name, &t};
    if ((family->hf_rules & kHfPermuteQK) != 0 && t.rope_halves_heads == 0) {
      const RopeRows role = rope_rows(t.name);
      if (role != RopeRows::none) p.unpermute_heads = role == RopeRows::q ? spec.n_head : spec.n_head_kv;
    }
    p.norm_minus_one = (family->hf_rules & kHfNormPlusOne) != 0 && t.name.ends_with("norm.weight");
    out.tensors.push_back(std::move(p));
  }
  return out;
}

}  // namespace owl
