// Llama family (Llama 2, Llama 3, TinyLlama, Mistral 7B): the baseline every other family is a
// delta of. Keys follow llama.cpp's LLM_KV names ("<arch>.embedding_length", ...).
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
  if (auto scale = f.find_float(a + ".rope.scale_linear")) s.rope_freq_scale = static_cast<float>(1.0 / *scale);
  s.rope_style = RopeStyle::interleaved;
  s.activation = Activation::silu;
  return s;
}

}  // namespace owl
