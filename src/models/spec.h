// ModelSpec: the knobs model families differ on. A family file (models/arch/<family>.cpp) maps
// its GGUF metadata to a spec; the one decoder (models/decoder.cpp) reads nothing else. Optional
// tensors (biases, q/k norms, post-norms, fused projections) switch features on in the binder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace owl {

enum class RopeStyle { interleaved, halves };  // pairs (2i, 2i+1) (Meta, llama.cpp "normal") vs (i, i + n_rot/2) (NeoX)
enum class Activation { silu, gelu_tanh };     // gate activation of the gated feed-forward (SwiGLU / GeGLU)

// What may differ from one layer to the next (Gemma 2/3 alternate local and global layers).
struct LayerSpec {
  int64_t sliding_window = 0;  // 0: full causal attention; w: query i sees keys j with 0 <= i - j < w
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // linear RoPE scaling: positions are multiplied by this
  bool rope_factors = true;      // whether the model's RoPE frequency factors apply to this layer
};

struct ModelSpec {
  std::string arch;           // general.architecture
  std::string name;           // general.name, when present
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;    // context length the model was trained with
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;       // n_embd / n_head unless the file says otherwise (Gemma, Qwen3)
  int64_t n_ff = 0;
  float norm_eps = 1e-5f;
  int64_t n_rot = 0;          // rotated dimensions per head
  RopeStyle rope_style = RopeStyle::interleaved;
  float rope_attn_factor = 1.0f;  // LongRoPE: cos and sin are multiplied by this
  int64_t rope_orig_ctx = 0;      // LongRoPE: contexts above this use the long factors
  Activation activation = Activation::silu;
  float embd_scale = 1.0f;        // Gemma: embeddings times sqrt(n_embd)
  float attn_scale = 0.0f;        // q·k scale; 0 means 1/sqrt(head_dim)
  float attn_softcap = 0.0f;      // Gemma 2: s = c·tanh(s/c) on attention scores; 0 = off
  float final_softcap = 0.0f;     // Gemma 2: the same on the output logits; 0 = off
  bool tied_output = false;       // output projection shares token_embd (set by the weight binder)
  std::vector<LayerSpec> layers;  // n_layer entries
};

}  // namespace owl
