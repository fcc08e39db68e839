// Llama family (Llama 2, Llama 3, TinyLlama, Mistral 7B): the baseline every other family is a
// delta of. Keys follow llama.cpp's LLM_KV names ("<arch>.embedding_length", ...).
#include "base/error.h"
#include "formats/gguf.h"
#include "models/arch/families.h"

namespace owl {

ModelSpec llama_spec(const gguf::File& f) {
  const std::string a = f.get_string("general.architecture");
  ModelSpec s;
  s.n_ctx_train = static_cast<int64_t>(f.get_uint(a + ".context_length"));
  s.n_embd = static_cast<int64_t>(f.get_uint(a + ".embedding_length"));
  s.n_layer = static_cast<int64_t>(f.get_uint(a + ".block_count"));
  s.n_ff = static_cast<int64_t>(f.get_uint(a + ".feed_forward_length"));
  s.n_head = static_cast<int64_t>(f.get_uint(a + ".attention.head_count"));
  s.n_head_kv = static_cast<int64_t>(f.find_uint(a + ".attention.head_count_kv").value_or(s.n_head));
  s.head_dim = s.n_head > 0 ? s.n_embd / s.n_head : 0;
  s.head_dim = static_cast<int64_t>(f.find_uint(a + ".attention.key_length").value_or(s.head_dim));
  s.n_rot = static_cast<int64_t>(f.find_uint(a + ".rope.dimension_count").value_or(s.head_dim));
  s.norm_eps = static_cast<float>(f.find_float(a + ".attention.layer_norm_rms_epsilon").value_or(1e-5));
  s.rope_base = static_cast<float>(f.find_float(a + ".rope.freq_base").value_or(10000.0));
  // RoPE scaling as llama.cpp's converters write it: rope.scaling.{type,factor}, or the older
  // rope.scale_linear. A factor of 0 means none. Llama 3.1+ frequency factors come as the
  // rope_freqs.weight tensor (bound with the weights).
  const std::string scaling = f.find_string(a + ".rope.scaling.type").value_or("linear");
  if (scaling != "none" && scaling != "linear") {
    fail("{}: metadata '{}.rope.scaling.type': '{}' scaling is not supported yet (none, linear)", f.path(), a, scaling);
  }
  auto factor = f.find_float(a + ".rope.scaling.factor");
  if (!factor) factor = f.find_float(a + ".rope.scale_linear");
  if (scaling == "linear" && factor && *factor != 0.0) s.rope_freq_scale = static_cast<float>(1.0 / *factor);
  s.rope_style = RopeStyle::interleaved;
  s.activation = Activation::silu;
  return s;
}

}  // namespace owl
