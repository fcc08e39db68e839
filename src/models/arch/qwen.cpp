// Qwen 2 / 2.5 / 3 as deltas of Llama (HF modeling_qwen2.py / modeling_qwen3.py): NeoX RoPE.
// Qwen2's Q/K/V biases and Qwen3's q/k norms are optional tensors the binder picks up.
#include "formats/gguf.h"
#include "models/arch/families.h"

namespace owl {

ModelSpec qwen2_spec(const gguf::File& f) {
  ModelSpec s = llama_spec(f);
  s.rope_style = RopeStyle::halves;
  return s;
}

ModelSpec qwen3_spec(const gguf::File& f) { return qwen2_spec(f); }

}  // namespace owl
