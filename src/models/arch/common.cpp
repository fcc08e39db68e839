// Metadata every family shares: llama.cpp's LLM_KV keys prefixed by general.architecture.
#include <vector>

#include "base/error.h"
#include "formats/gguf.h"
#include "models/arch/families.h"
#include "models/arch/hf_config.h"

namespace owl {

ModelSpec common_spec(const ModelFile& f) {
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
  if (auto v = f.find_uint(a + ".attention.value_length"); v && static_cast<int64_t>(*v) != s.head_dim) {
    fail("{}: metadata '{}.attention.value_length' {} differs from the key length {} (not supported)", f.path(), a, *v,
         s.head_dim);
  }
  s.n_rot = static_cast<int64_t>(f.find_uint(a + ".rope.dimension_count").value_or(s.head_dim));
  s.norm_eps = static_cast<float>(f.find_float(a + ".attention.layer_norm_rms_epsilon").value_or(1e-5));
  s.rope_style = RopeStyle::interleaved;
  s.activation = Activation::silu;
  if (s.n_layer > 0 && s.n_layer <= 4096) {
    LayerSpec layer;
    layer.rope_base = static_cast<float>(f.find_float(a + ".rope.freq_base").value_or(10000.0));
    s.layers.assign(static_cast<size_t>(s.n_layer), layer);
  }
  return s;
}

float linear_rope_scale(const ModelFile& f, const std::string& also_allowed) {
  const std::string a = f.get_string("general.architecture");
  // A factor of 0 means none (llama.cpp). Llama 3.1+ frequency factors come as the rope_freqs
  // tensor (bound with the weights), not through these keys.
  const std::string type = f.find_string(a + ".rope.scaling.type").value_or("linear");
  if (type != "none" && type != "linear" && type != also_allowed) {
    fail("{}: metadata '{}.rope.scaling.type': '{}' scaling is not supported yet (none, linear)", f.path(), a, type);
  }
  if (type != "linear") return 1.0f;
  auto factor = f.find_float(a + ".rope.scaling.factor");
  if (!factor) factor = f.find_float(a + ".rope.scale_linear");
  return factor && *factor != 0.0 ? static_cast<float>(1.0 / *factor) : 1.0f;
}

void alternate_sliding_layers(ModelSpec& s, int64_t window, int64_t period) {
  // A GGUF file can say 0: a division by zero below (fuzz/gguf_reader_fuzz reports it).
  if (period <= 0) fail("metadata 'attention.sliding_window_pattern': {} is not a positive layer period", period);
  for (size_t il = 0; il < s.layers.size(); ++il) {
    if (static_cast<int64_t>(il) % period < period - 1) s.layers[il].sliding_window = window;
  }
}

int64_t hf_sliding_period(const HfModelConfig& c, int64_t default_period) {
  const int64_t n_layer = c.get_int("num_hidden_layers");
  // The spec's own bound (registry.cpp), checked before the layers are looped over: a config.json
  // saying 4000000000 layers hung here (a fuzz/hf_config_fuzz timeout).
  if (n_layer <= 0 || n_layer > 4096) c.bad("num_hidden_layers", "out of range (1..4096)");
  std::vector<bool> slides(static_cast<size_t>(n_layer));
  for (int64_t il = 0; il < n_layer; ++il) slides[static_cast<size_t>(il)] = hf_layer_slides(c, il, default_period);
  // The smallest period whose pattern (all layers slide but each period's last) is the config's.
  for (int64_t period = 1; period <= n_layer + 1; ++period) {
    bool same = true;
    for (int64_t il = 0; il < n_layer && same; ++il) same = slides[static_cast<size_t>(il)] == (il % period < period - 1);
    if (same) return period;
  }
  c.bad("layer_types", "sliding and full layers follow no repeating pattern owl supports");
}

}  // namespace owl
