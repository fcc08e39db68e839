// ModelSpec: the knobs model families differ on. A family file (models/arch/<family>.cpp) maps
// its GGUF metadata to a spec; the one decoder (models/decoder.cpp) reads nothing else.
#pragma once

#include <cstdint>
#include <string>

namespace owl {

enum class RopeStyle { interleaved, halves };  // pairs (2i, 2i+1) vs (i, i + n_rot/2)
enum class Activation { silu };                // gate activation of the gated feed-forward

struct ModelSpec {
  std::string arch;           // general.architecture
  std::string name;           // general.name, when present
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;    // context length the model was trained with
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;       // n_embd / n_head unless the file says otherwise
  int64_t n_ff = 0;
  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // linear RoPE scaling: positions are multiplied by this
  int64_t n_rot = 0;             // rotated dimensions per head
  RopeStyle rope_style = RopeStyle::interleaved;
  Activation activation = Activation::silu;
  bool tied_output = false;      // output projection shares token_embd (set by the weight binder)
};

}  // namespace owl
