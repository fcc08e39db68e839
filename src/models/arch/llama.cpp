// Llama family (Llama 2, Llama 3/3.1/3.2, TinyLlama, Mistral 7B): the baseline every other family
// is a delta of (llama.cpp src/models/llama.cpp). Llama 3.1's frequency factors arrive as the
// rope_freqs tensor; Mistral's sliding window, when a file declares one, applies to every layer.
#include "formats/gguf.h"
#include "models/arch/families.h"

namespace owl {

ModelSpec llama_spec(const gguf::File& f) {
  ModelSpec s = common_spec(f);
  const std::string a = f.get_string("general.architecture");
  const float scale = linear_rope_scale(f);
  const int64_t window = static_cast<int64_t>(f.find_uint(a + ".attention.sliding_window").value_or(0));
  for (LayerSpec& l : s.layers) {
    l.rope_freq_scale = scale;
    l.sliding_window = window;
  }
  return s;
}

}  // namespace owl
