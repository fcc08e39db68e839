// Phi-3 as a delta of Llama (HF modeling_phi3.py; llama.cpp src/models/phi3.cpp): NeoX RoPE,
// partial rotary from rope.dimension_count, fused attn_qkv and gate-up tensors (split by the
// binder), LongRoPE factors (rope_factors_short/long tensors) with an attention factor on cos/sin.
// llama.cpp ignores phi3.attention.sliding_window, and so does owl (the reference has none).
#include "formats/gguf.h"
#include "models/arch/families.h"

namespace owl {

ModelSpec phi3_spec(const gguf::File& f) {
  ModelSpec s = common_spec(f);
  const std::string a = f.get_string("general.architecture");
  s.rope_style = RopeStyle::halves;
  const float scale = linear_rope_scale(f, "longrope");
  for (LayerSpec& l : s.layers) l.rope_freq_scale = scale;
  s.rope_orig_ctx = static_cast<int64_t>(f.find_uint(a + ".rope.scaling.original_context_length").value_or(0));
  s.rope_attn_factor = static_cast<float>(f.find_float(a + ".rope.scaling.attn_factor").value_or(1.0));
  return s;
}

}  // namespace owl
