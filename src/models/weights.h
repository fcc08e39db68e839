// The tensors of a decoder, bound by their GGUF names (token_embd, blk.N.attn_q, ...) with every
// shape checked against the spec. Vectors (norms, biases) are converted to float32 once at load;
// an empty vector means the optional tensor is absent. Fused tensors (Phi-3's attn_qkv, gate-up
// ffn_up) are split into row views here, so the decoder never sees them.
#pragma once

#include <string_view>
#include <vector>

#include "models/spec.h"
#include "tensor/weight.h"

namespace owl {
class ModelFile;

struct LayerWeights {
  std::vector<float> attn_norm;       // (n_embd)
  Weight attn_q;                      // (n_head*head_dim, n_embd)
  Weight attn_k;                      // (n_head_kv*head_dim, n_embd)
  Weight attn_v;                      // (n_head_kv*head_dim, n_embd)
  std::vector<float> attn_q_bias;     // (n_head*head_dim) or empty (Qwen2)
  std::vector<float> attn_k_bias;     // (n_head_kv*head_dim) or empty
  std::vector<float> attn_v_bias;     // (n_head_kv*head_dim) or empty
  std::vector<float> attn_q_norm;     // (head_dim) or empty (Gemma 3, Qwen3)
  std::vector<float> attn_k_norm;     // (head_dim) or empty
  Weight attn_output;                 // (n_embd, n_head*head_dim)
  std::vector<float> post_attn_norm;  // (n_embd) or empty (Gemma 2/3)
  std::vector<float> ffn_norm;        // (n_embd)
  Weight ffn_gate;                    // (n_ff, n_embd)
  Weight ffn_up;                      // (n_ff, n_embd)
  Weight ffn_down;                    // (n_embd, n_ff)
  std::vector<float> post_ffn_norm;   // (n_embd) or empty (Gemma 2/3)
};

struct ModelWeights {
  Weight token_embd;                    // (n_vocab, n_embd)
  std::vector<float> output_norm;       // (n_embd)
  Weight output;                        // (n_vocab, n_embd); token_embd when tied
  std::vector<float> rope_freqs;        // (n_rot/2) RoPE frequency divisors (Llama 3.1+), or empty
  std::vector<float> rope_factors_short;  // (n_rot/2) LongRoPE (Phi-3), or empty
  std::vector<float> rope_factors_long;   // (n_rot/2) or empty
  std::vector<LayerWeights> layers;
};

// Which RoPE-rotated projection a GGUF tensor is (a q or k weight or bias): the rows whose order
// differs between Hugging Face and GGUF conventions.
enum class RopeRows { none, q, k };
inline RopeRows rope_rows(std::string_view name) {
  if (name.ends_with("attn_q.weight") || name.ends_with("attn_q.bias")) return RopeRows::q;
  if (name.ends_with("attn_k.weight") || name.ends_with("attn_k.bias")) return RopeRows::k;
  return RopeRows::none;
}

// Binds the weights; sets spec.n_vocab and spec.tied_output from the tensors found.
ModelWeights bind_weights(const ModelFile& file, ModelSpec& spec);

}  // namespace owl
