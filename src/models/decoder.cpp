// The decoder forward pass (mirrors llama2.c's run.c forward(), batched over positions so a
// prompt is processed as matrix-matrix products). Family differences come only from ModelSpec.
#include "models/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"

namespace owl {

namespace {
constexpr int64_t kMaxBatch = 64;  // prompt positions per pass: bounds scratch memory

void add_in_place(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}
}  // namespace

Decoder::Decoder(const Model& model, ThreadPool& pool) : model_(model), pool_(pool) {}

void Decoder::reserve(int64_t n, int64_t n_ctx) {
  const ModelSpec& s = model_.spec();
  auto grow = [](std::vector<float>& v, int64_t size) {
    if (v.size() < static_cast<size_t>(size)) v.resize(static_cast<size_t>(size));
  };
  grow(x_, n * s.n_embd);
  grow(xn_, n * s.n_embd);
  grow(q_, n * s.n_head * s.head_dim);
  grow(k_, n * s.n_head_kv * s.head_dim);
  grow(v_, n * s.n_head_kv * s.head_dim);
  grow(att_, n * s.n_head * s.head_dim);
  grow(gate_, n * std::max(s.n_ff, s.n_embd));
  grow(up_, n * s.n_ff);
  grow(scores_, pool_.size() * n_ctx);
}

std::span<const float> Decoder::eval(KvCache& cache, std::span<const int32_t> tokens, bool all_logits) {
  const ModelSpec& s = model_.spec();
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail("nothing to evaluate: the token list is empty");
  cache.check_fits(s);
  for (int32_t t : tokens) {
    if (t < 0 || t >= s.n_vocab) fail("token id {} is out of range (vocabulary size {})", t, s.n_vocab);
  }
  if (cache.n_past() + n > cache.n_ctx()) {
    fail("context full: {} positions used + {} new exceed the context size {}", cache.n_past(), n, cache.n_ctx());
  }
  logits_.resize(static_cast<size_t>((all_logits ? n : 1) * s.n_vocab));
  reserve(std::min(kMaxBatch, n), cache.n_ctx());  // every allocation before the cache changes
  for (int64_t b = 0; b < n; b += kMaxBatch) {
    const int64_t len = std::min(kMaxBatch, n - b);
    const bool last_batch = b + len == n;
    float* out = all_logits ? logits_.data() + b * s.n_vocab : (last_batch ? logits_.data() : nullptr);
    eval_batch(cache, tokens.data() + b, len, out, all_logits);
  }
  return logits_;
}

void Decoder::eval_batch(KvCache& cache, const int32_t* tokens, int64_t n, float* logits, bool all_logits) {
  const ModelSpec& s = model_.spec();
  const ModelWeights& w = model_.weights();
  const int64_t pos0 = cache.n_past();
  const int64_t d = s.n_embd;
  const int64_t q_dim = s.n_head * s.head_dim;
  const int64_t kv_dim = s.n_head_kv * s.head_dim;
  const bool interleaved = s.rope_style == RopeStyle::interleaved;
  const float* freq_factors = w.rope_freqs.empty() ? nullptr : w.rope_freqs.data();
  const ops::AttentionShape shape{s.n_head, s.n_head_kv, s.head_dim, 1.0f / std::sqrt(static_cast<float>(s.head_dim))};

  for (int64_t t = 0; t < n; ++t) ops::weight_row(x_.data() + t * d, w.token_embd, tokens[t]);

  for (int64_t il = 0; il < s.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    // attention block
    for (int64_t t = 0; t < n; ++t) ops::rms_norm(xn_.data() + t * d, x_.data() + t * d, l.attn_norm.data(), d, s.norm_eps);
    ops::matmul(q_.data(), l.attn_q, xn_.data(), n, pool_);
    ops::matmul(k_.data(), l.attn_k, xn_.data(), n, pool_);
    ops::matmul(v_.data(), l.attn_v, xn_.data(), n, pool_);
    for (int64_t t = 0; t < n; ++t) {
      const int64_t pos = pos0 + t;
      for (int64_t h = 0; h < s.n_head; ++h) {
        ops::rope(q_.data() + t * q_dim + h * s.head_dim, s.n_rot, pos, s.rope_base, s.rope_freq_scale, freq_factors,
                  interleaved);
      }
      for (int64_t h = 0; h < s.n_head_kv; ++h) {
        ops::rope(k_.data() + t * kv_dim + h * s.head_dim, s.n_rot, pos, s.rope_base, s.rope_freq_scale, freq_factors,
                  interleaved);
      }
      std::memcpy(cache.k(il) + pos * kv_dim, k_.data() + t * kv_dim, sizeof(float) * kv_dim);
      std::memcpy(cache.v(il) + pos * kv_dim, v_.data() + t * kv_dim, sizeof(float) * kv_dim);
    }
    ops::attention(att_.data(), q_.data(), cache.k(il), cache.v(il), pos0, n, shape, scores_.data(), pool_);
    ops::matmul(xn_.data(), l.attn_output, att_.data(), n, pool_);
    add_in_place(x_.data(), xn_.data(), n * d);

    // feed-forward block
    for (int64_t t = 0; t < n; ++t) ops::rms_norm(xn_.data() + t * d, x_.data() + t * d, l.ffn_norm.data(), d, s.norm_eps);
    ops::matmul(gate_.data(), l.ffn_gate, xn_.data(), n, pool_);
    ops::matmul(up_.data(), l.ffn_up, xn_.data(), n, pool_);
    ops::swiglu(gate_.data(), up_.data(), n * s.n_ff);
    ops::matmul(xn_.data(), l.ffn_down, gate_.data(), n, pool_);
    add_in_place(x_.data(), xn_.data(), n * d);
  }
  cache.advance(n);

  if (logits == nullptr) return;
  const int64_t first = all_logits ? 0 : n - 1;
  for (int64_t t = first; t < n; ++t) ops::rms_norm(xn_.data() + t * d, x_.data() + t * d, w.output_norm.data(), d, s.norm_eps);
  ops::matmul(logits, w.output, xn_.data() + first * d, n - first, pool_);
}

}  // namespace owl
