// Weight binding: looks every tensor up by name and checks its shape and type, so the forward
// pass never meets a surprise. A missing output.weight means the head is tied to token_embd.
#include "models/weights.h"

#include <fmt/format.h>

#include <cmath>

#include "base/error.h"
#include "formats/gguf.h"
#include "tensor/quant.h"

namespace owl {

namespace {

Weight matrix(const gguf::File& f, const std::string& name, int64_t rows, int64_t cols) {
  const gguf::TensorInfo& t = f.tensor(name);
  if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols) {
    fail("{}: tensor '{}' has shape [{}], expected [{}, {}]", f.path(), name, fmt::join(t.shape, ", "), rows, cols);
  }
  if (cols % dtype_traits(t.type).block_size != 0) {
    fail("{}: tensor '{}': {} columns are not a multiple of the {} block size", f.path(), name, cols, dtype_name(t.type));
  }
  return Weight{name, t.type, t.data, rows, cols};
}

std::vector<float> vector_f32(const gguf::File& f, const std::string& name, int64_t n) {
  const gguf::TensorInfo& t = f.tensor(name);
  if (t.shape.size() != 1 || t.shape[0] != n) {
    fail("{}: tensor '{}' has shape [{}], expected [{}]", f.path(), name, fmt::join(t.shape, ", "), n);
  }
  if (n % dtype_traits(t.type).block_size != 0) {
    fail("{}: tensor '{}': length {} is not a multiple of the {} block size", f.path(), name, n, dtype_name(t.type));
  }
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(t.type, t.data, out.data(), n);
  return out;
}

}  // namespace

ModelWeights bind_weights(const gguf::File& f, ModelSpec& spec) {
  ModelWeights w;
  const gguf::TensorInfo& embd = f.tensor("token_embd.weight");
  if (embd.shape.size() != 2 || embd.shape[1] != spec.n_embd) {
    fail("{}: tensor 'token_embd.weight' has shape [{}], expected [n_vocab, {}]", f.path(), fmt::join(embd.shape, ", "),
         spec.n_embd);
  }
  spec.n_vocab = embd.shape[0];
  w.token_embd = matrix(f, "token_embd.weight", spec.n_vocab, spec.n_embd);
  w.output_norm = vector_f32(f, "output_norm.weight", spec.n_embd);
  spec.tied_output = f.find_tensor("output.weight") == nullptr;
  w.output = spec.tied_output ? w.token_embd : matrix(f, "output.weight", spec.n_vocab, spec.n_embd);

  if (f.find_tensor("rope_freqs.weight") != nullptr) {
    w.rope_freqs = vector_f32(f, "rope_freqs.weight", spec.n_rot / 2);
    for (float v : w.rope_freqs) {
      if (!std::isfinite(v) || v <= 0.0f) fail("{}: tensor 'rope_freqs.weight' holds {}, not a positive factor", f.path(), v);
    }
  }
  const int64_t q_dim = spec.n_head * spec.head_dim;
  const int64_t kv_dim = spec.n_head_kv * spec.head_dim;
  w.layers.resize(static_cast<size_t>(spec.n_layer));
  for (int64_t i = 0; i < spec.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = fmt::format("blk.{}.", i);
    l.attn_norm = vector_f32(f, p + "attn_norm.weight", spec.n_embd);
    l.attn_q = matrix(f, p + "attn_q.weight", q_dim, spec.n_embd);
    l.attn_k = matrix(f, p + "attn_k.weight", kv_dim, spec.n_embd);
    l.attn_v = matrix(f, p + "attn_v.weight", kv_dim, spec.n_embd);
    l.attn_output = matrix(f, p + "attn_output.weight", spec.n_embd, q_dim);
    l.ffn_norm = vector_f32(f, p + "ffn_norm.weight", spec.n_embd);
    l.ffn_gate = matrix(f, p + "ffn_gate.weight", spec.n_ff, spec.n_embd);
    l.ffn_up = matrix(f, p + "ffn_up.weight", spec.n_ff, spec.n_embd);
    l.ffn_down = matrix(f, p + "ffn_down.weight", spec.n_embd, spec.n_ff);
  }
  return w;
}

}  // namespace owl
