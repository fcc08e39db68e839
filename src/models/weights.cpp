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

Weight matrix(const ModelFile& f, const std::string& name, int64_t rows, int64_t cols) {
  const gguf::TensorInfo& t = f.tensor(name);
  if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols) {
    fail("{}: tensor '{}' has shape [{}], expected [{}, {}]", f.path(), name, fmt::join(t.shape, ", "), rows, cols);
  }
  if (cols % dtype_traits(t.type).block_size != 0) {
    fail("{}: tensor '{}': {} columns are not a multiple of the {} block size", f.path(), name, cols, dtype_name(t.type));
  }
  Weight w{name, t.type, t.data, rows, cols};
  w.float_activations = t.float_activations;
  return w;
}

// Rows [first, first + count) of a matrix, as a matrix of its own (rows are contiguous).
Weight row_slice(const Weight& w, const std::string& name, int64_t first, int64_t count) {
  Weight s{name, w.type, w.row(first), count, w.cols};
  s.float_activations = w.float_activations;
  return s;
}

std::vector<float> vector_f32(const ModelFile& f, const std::string& name, int64_t n) {
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

std::vector<float> optional_vector(const ModelFile& f, const std::string& name, int64_t n) {
  return f.find_tensor(name) != nullptr ? vector_f32(f, name, n) : std::vector<float>{};
}

// RoPE frequency factors divide angles: they must be finite and positive.
std::vector<float> rope_factors(const ModelFile& f, const std::string& name, int64_t n) {
  std::vector<float> v = optional_vector(f, name, n);
  for (float x : v) {
    if (!std::isfinite(x) || x <= 0.0f) fail("{}: tensor '{}' holds {}, not a positive factor", f.path(), name, x);
  }
  return v;
}

void bind_attention(const ModelFile& f, const ModelSpec& s, const std::string& p, LayerWeights& l) {
  const int64_t q_dim = s.n_head * s.head_dim;
  const int64_t kv_dim = s.n_head_kv * s.head_dim;
  if (f.find_tensor(p + "attn_qkv.weight") != nullptr) {  // Phi-3: rows [Q; K; V]
    const Weight qkv = matrix(f, p + "attn_qkv.weight", q_dim + 2 * kv_dim, s.n_embd);
    l.attn_q = row_slice(qkv, p + "attn_qkv.weight[q]", 0, q_dim);
    l.attn_k = row_slice(qkv, p + "attn_qkv.weight[k]", q_dim, kv_dim);
    l.attn_v = row_slice(qkv, p + "attn_qkv.weight[v]", q_dim + kv_dim, kv_dim);
  } else {
    l.attn_q = matrix(f, p + "attn_q.weight", q_dim, s.n_embd);
    l.attn_k = matrix(f, p + "attn_k.weight", kv_dim, s.n_embd);
    l.attn_v = matrix(f, p + "attn_v.weight", kv_dim, s.n_embd);
  }
  l.attn_q_bias = optional_vector(f, p + "attn_q.bias", q_dim);
  l.attn_k_bias = optional_vector(f, p + "attn_k.bias", kv_dim);
  l.attn_v_bias = optional_vector(f, p + "attn_v.bias", kv_dim);
  l.attn_q_norm = optional_vector(f, p + "attn_q_norm.weight", s.head_dim);
  l.attn_k_norm = optional_vector(f, p + "attn_k_norm.weight", s.head_dim);
  l.attn_output = matrix(f, p + "attn_output.weight", s.n_embd, q_dim);
  l.post_attn_norm = optional_vector(f, p + "post_attention_norm.weight", s.n_embd);
}

void bind_feed_forward(const ModelFile& f, const ModelSpec& s, const std::string& p, LayerWeights& l) {
  if (f.find_tensor(p + "ffn_gate.weight") != nullptr) {
    l.ffn_gate = matrix(f, p + "ffn_gate.weight", s.n_ff, s.n_embd);
    l.ffn_up = matrix(f, p + "ffn_up.weight", s.n_ff, s.n_embd);
  } else {  // Phi-3: ffn_up holds rows [gate; up]
    const Weight gate_up = matrix(f, p + "ffn_up.weight", 2 * s.n_ff, s.n_embd);
    l.ffn_gate = row_slice(gate_up, p + "ffn_up.weight[gate]", 0, s.n_ff);
    l.ffn_up = row_slice(gate_up, p + "ffn_up.weight[up]", s.n_ff, s.n_ff);
  }
  l.ffn_down = matrix(f, p + "ffn_down.weight", s.n_embd, s.n_ff);
  l.post_ffn_norm = optional_vector(f, p + "post_ffw_norm.weight", s.n_embd);
}

// Hugging Face checkpoints keep q/k rows in rotate-half order (TensorInfo::rope_halves_heads); with
// every q and k so, rotating halves is the same attention as GGUF's pairs on permuted rows.
void use_rope_order_of_rows(const ModelFile& f, ModelSpec& spec) {
  size_t halves = 0, total = 0;
  for (const TensorInfo& t : f.tensors()) {
    if (rope_rows(t.name) == RopeRows::none) continue;
    ++total;
    halves += t.rope_halves_heads > 0 ? 1 : 0;
  }
  if (halves == 0) return;
  if (halves != total) fail("{}: some q/k projections are in Hugging Face row order and some are not", f.path());
  if (spec.rope_style != RopeStyle::interleaved || spec.n_rot != spec.head_dim) {
    fail("{}: q/k rows in Hugging Face order need interleaved RoPE over the whole head", f.path());
  }
  spec.rope_style = RopeStyle::halves;
}

}  // namespace

ModelWeights bind_weights(const ModelFile& f, ModelSpec& spec) {
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
  w.rope_freqs = rope_factors(f, "rope_freqs.weight", spec.n_rot / 2);
  w.rope_factors_short = rope_factors(f, "rope_factors_short.weight", spec.n_rot / 2);
  w.rope_factors_long = rope_factors(f, "rope_factors_long.weight", spec.n_rot / 2);

  use_rope_order_of_rows(f, spec);
  w.layers.resize(static_cast<size_t>(spec.n_layer));
  for (int64_t i = 0; i < spec.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = fmt::format("blk.{}.", i);
    l.attn_norm = vector_f32(f, p + "attn_norm.weight", spec.n_embd);
    bind_attention(f, spec, p, l);
    l.ffn_norm = vector_f32(f, p + "ffn_norm.weight", spec.n_embd);
    bind_feed_forward(f, spec, p, l);
  }
  return w;
}

}  // namespace owl
