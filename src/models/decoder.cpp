// The decoder forward pass (llama2.c's run.c forward(), batched over positions and sequences so
// prompts are processed as matrix-matrix products). Family differences come only from ModelSpec
// and from which optional weights are present.
#include "models/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>

#include "base/error.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "kernels/cpu/kernels.h"
#include "ops/matmul.h"

namespace owl {

namespace {

void add_in_place(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void add_bias(float* y, const std::vector<float>& bias, int64_t n_tokens) {
  if (bias.empty()) return;
  const auto width = static_cast<int64_t>(bias.size());
  for (int64_t t = 0; t < n_tokens; ++t) add_in_place(y + t * width, bias.data(), width);
}

// fn(t0, t1) over tokens [0, n), split over the pool when there are several: the per-token work
// between the matmuls (norms, RoPE, residual adds) would otherwise leave the other threads idle.
void for_tokens(ThreadPool& pool, int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  constexpr int64_t kMinTokensPerThread = 2;
  pool.parallel_for(n, fn, kMinTokensPerThread);
}

// RMSNorm of n rows of `width` in place (used per head for q/k norms).
void norm_rows(float* x, const std::vector<float>& w, int64_t n, int64_t width, float eps) {
  for (int64_t r = 0; r < n; ++r) ops::rms_norm(x + r * width, x + r * width, w.data(), width, eps);
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
  grow(gate_, n * s.n_ff);
  grow(up_, n * s.n_ff);
  grow(scores_, pool_.size() * kernels::kMaxQueries * n_ctx);
  grow(out_rows_, n * s.n_embd);
  grow(rope_cos_sin_, s.n_rot * pool_.size());
}

// The terms of the LoRA adapters attached to the model (ops/linear.h), added after a projection.
void Decoder::add_loras(float* y, const float* x, int64_t n, int64_t il, LoraTarget target, const Weight& w) {
  for (const ops::LoraTerm& lora : model_.lora_terms(il, target)) {
    const float* rows = lora_row_scales_.empty() ? nullptr : lora_row_scales_[static_cast<size_t>(lora.adapter)].data();
    ops::add_lora(y, x, n, w.cols, w.rows, lora, nullptr, pool_, rows);
  }
}

// Per-token adapter scales for a micro-batch where some sequence asked for its own.
void Decoder::set_lora_row_scales(const std::vector<Token>& tokens) {
  lora_row_scales_.clear();
  const std::span<const float> defaults = model_.lora_scales();
  if (std::none_of(tokens.begin(), tokens.end(), [](const Token& t) { return t.lora_scales != nullptr; })) return;
  lora_row_scales_.resize(defaults.size());
  for (size_t a = 0; a < defaults.size(); ++a) {
    for (const Token& t : tokens) lora_row_scales_[a].push_back(t.lora_scales != nullptr ? t.lora_scales[a] : defaults[a]);
  }
}

void Decoder::observe(std::string_view name, int64_t layer, const float* data, int64_t n, int64_t width) const {
  if (observer_) observer_(name, layer, data, n, width);
}

std::span<const float> Decoder::eval(KvCache& cache, std::span<const int32_t> tokens, bool all_logits) {
  const SequenceInput one{&cache, tokens, all_logits};
  return eval(std::span<const SequenceInput>(&one, 1));
}

std::span<const float> Decoder::eval(std::span<const SequenceInput> batch) { return eval_rows(batch, false); }

std::span<const float> Decoder::eval_hidden(KvCache& cache, std::span<const int32_t> tokens) {
  const SequenceInput one{&cache, tokens, true};
  return eval_rows(std::span<const SequenceInput>(&one, 1), true);
}

std::span<const float> Decoder::eval_rows(std::span<const SequenceInput> batch, bool hidden) {
  const ModelSpec& s = model_.spec();
  const int64_t width = hidden ? s.n_embd : s.n_vocab;
  // Check everything before anything changes, so an error leaves every cache as it was.
  int64_t n_rows = 0;
  int64_t n_ctx_max = 0;
  std::set<const KvCache*> seen;
  for (const SequenceInput& in : batch) {
    const auto n = static_cast<int64_t>(in.tokens.size());
    if (in.cache == nullptr || n == 0) fail("nothing to evaluate: a sequence has no tokens or no cache");
    if (!seen.insert(in.cache).second) fail("a batch names the same KV cache twice");
    in.cache->check_fits(s);
    for (int32_t t : in.tokens) {
      if (t < 0 || t >= s.n_vocab) fail("token id {} is out of range (vocabulary size {})", t, s.n_vocab);
    }
    if (in.cache->n_past() + n > in.cache->n_ctx()) {
      fail("context full: {} positions used + {} new exceed the context size {}", in.cache->n_past(), n,
           in.cache->n_ctx());
    }
    if (!in.lora_scales.empty() && in.lora_scales.size() != model_.lora_scales().size()) {
      fail("{} LoRA scales for a model with {} adapters", in.lora_scales.size(), model_.lora_scales().size());
    }
    n_rows += in.all_logits ? n : 1;
    n_ctx_max = std::max(n_ctx_max, in.cache->n_ctx());
  }
  if (batch.empty()) fail("nothing to evaluate: the batch is empty");
  logits_.resize(static_cast<size_t>(n_rows * width));
  reserve(kMaxBatch, n_ctx_max);

  // Flatten to (cache, position, logits row) per token, then run micro-batches of kMaxBatch.
  std::vector<Token> all;
  std::vector<int32_t> ids;
  int64_t row = 0;
  for (const SequenceInput& in : batch) {
    const auto n = static_cast<int64_t>(in.tokens.size());
    for (int64_t i = 0; i < n; ++i) {
      const bool wanted = in.all_logits || i == n - 1;
      all.push_back({in.cache, in.cache->n_past() + i, wanted ? logits_.data() + (row++) * width : nullptr,
                     in.lora_scales.empty() ? nullptr : in.lora_scales.data()});
      ids.push_back(in.tokens[static_cast<size_t>(i)]);
    }
  }
  for (size_t b = 0; b < all.size(); b += kMaxBatch) {
    const size_t len = std::min<size_t>(kMaxBatch, all.size() - b);
    const std::vector<Token> part(all.begin() + static_cast<std::ptrdiff_t>(b),
                                  all.begin() + static_cast<std::ptrdiff_t>(b + len));
    eval_micro_batch(part, ids.data() + b, hidden);
  }
  return logits_;
}

void Decoder::eval_micro_batch(const std::vector<Token>& tokens, const int32_t* ids, bool hidden) {
  const ModelSpec& s = model_.spec();
  const ModelWeights& w = model_.weights();
  const auto n = static_cast<int64_t>(tokens.size());
  const int64_t d = s.n_embd;
  set_lora_row_scales(tokens);

  for (int64_t t = 0; t < n; ++t) {
    float* x = x_.data() + t * d;
    ops::weight_row(x, w.token_embd, ids[t]);
    if (s.embd_scale != 1.0f) {
      for (int64_t i = 0; i < d; ++i) x[i] *= s.embd_scale;
    }
  }
  observe("inp_embd", -1, x_.data(), n, d);

  for (int64_t il = 0; il < s.n_layer; ++il) {
    attention_block(tokens, il);
    feed_forward_block(n, il);
  }
  // Each sequence's cache now holds its tokens of this micro-batch.
  for (int64_t t = 0; t < n; ++t) {
    if (t + 1 == n || tokens[t + 1].cache != tokens[t].cache) tokens[t].cache->advance(tokens[t].pos + 1 - tokens[t].cache->n_past());
  }

  // Vocabulary logits only for the rows asked for.
  int64_t m = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (tokens[t].logits == nullptr) continue;
    ops::rms_norm(out_rows_.data() + m * d, x_.data() + t * d, w.output_norm.data(), d, s.norm_eps);
    ++m;
  }
  if (m == 0) return;
  observe("result_norm", -1, out_rows_.data(), m, d);
  if (hidden) {
    int64_t r = 0;
    for (int64_t t = 0; t < n; ++t) {
      if (tokens[t].logits == nullptr) continue;
      std::memcpy(tokens[t].logits, out_rows_.data() + (r++) * d, sizeof(float) * static_cast<size_t>(d));
    }
    return;
  }
  std::vector<float> rows(static_cast<size_t>(m * s.n_vocab));
  ops::matmul(rows.data(), w.output, out_rows_.data(), m, pool_);
  if (s.final_softcap > 0.0f) ops::softcap(rows.data(), m * s.n_vocab, s.final_softcap);
  observe("result_output", -1, rows.data(), m, s.n_vocab);
  int64_t r = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (tokens[t].logits == nullptr) continue;
    std::memcpy(tokens[t].logits, rows.data() + (r++) * s.n_vocab, sizeof(float) * static_cast<size_t>(s.n_vocab));
  }
}

void Decoder::attention_block(const std::vector<Token>& tokens, int64_t il) {
  const ModelSpec& s = model_.spec();
  const ModelWeights& w = model_.weights();
  const LayerWeights& l = w.layers[static_cast<size_t>(il)];
  const LayerSpec& ls = s.layers[static_cast<size_t>(il)];
  const auto n = static_cast<int64_t>(tokens.size());
  const int64_t d = s.n_embd;
  const int64_t q_dim = s.n_head * s.head_dim;
  const int64_t kv_dim = s.n_head_kv * s.head_dim;

  for_tokens(pool_, n, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t)
      ops::rms_norm(xn_.data() + t * d, x_.data() + t * d, l.attn_norm.data(), d, s.norm_eps);
  });
  observe("attn_norm", il, xn_.data(), n, d);
  const ops::MatmulOutput qkv[] = {{q_.data(), &l.attn_q}, {k_.data(), &l.attn_k}, {v_.data(), &l.attn_v}};
  ops::matmul(qkv, xn_.data(), n, pool_);
  add_loras(q_.data(), xn_.data(), n, il, LoraTarget::q, l.attn_q);
  add_loras(k_.data(), xn_.data(), n, il, LoraTarget::k, l.attn_k);
  add_loras(v_.data(), xn_.data(), n, il, LoraTarget::v, l.attn_v);
  add_bias(q_.data(), l.attn_q_bias, n);
  add_bias(k_.data(), l.attn_k_bias, n);
  add_bias(v_.data(), l.attn_v_bias, n);
  if (!l.attn_q_norm.empty()) norm_rows(q_.data(), l.attn_q_norm, n * s.n_head, s.head_dim, s.norm_eps);
  if (!l.attn_k_norm.empty()) norm_rows(k_.data(), l.attn_k_norm, n * s.n_head_kv, s.head_dim, s.norm_eps);

  ops::RopeParams rope{s.n_rot, ls.rope_base, ls.rope_freq_scale, nullptr, s.rope_attn_factor,
                       s.rope_style == RopeStyle::interleaved};
  if (ls.rope_factors) {
    if (!w.rope_freqs.empty()) rope.freq_factors = w.rope_freqs.data();
    // LongRoPE: the long factors once the context exceeds the original one (llama.cpp's rule).
    const bool long_ctx = s.rope_orig_ctx > 0 && tokens.front().cache->n_ctx() > s.rope_orig_ctx;
    const std::vector<float>& factors = long_ctx ? w.rope_factors_long : w.rope_factors_short;
    if (!factors.empty()) rope.freq_factors = factors.data();
  }
  for_tokens(pool_, n, [&](int64_t t0, int64_t t1, int thread) {
    float* cos_sin = rope_cos_sin_.data() + thread * s.n_rot;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t pos = tokens[t].pos;
      ops::rope_angles(pos, rope, cos_sin);
      for (int64_t h = 0; h < s.n_head; ++h) ops::rope_rotate(q_.data() + t * q_dim + h * s.head_dim, cos_sin, rope);
      for (int64_t h = 0; h < s.n_head_kv; ++h)
        ops::rope_rotate(k_.data() + t * kv_dim + h * s.head_dim, cos_sin, rope);
      // Tokens hold distinct (cache, position) slots.
      tokens[t].cache->store(il, pos, k_.data() + t * kv_dim, v_.data() + t * kv_dim);
    }
  });

  const float scale = s.attn_scale > 0.0f ? s.attn_scale : 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  const ops::AttentionShape shape{s.n_head, s.n_head_kv, s.head_dim, scale, s.attn_softcap, ls.sliding_window};
  // One call per run of consecutive tokens of the same sequence.
  for (int64_t b = 0; b < n;) {
    int64_t e = b + 1;
    while (e < n && tokens[e].cache == tokens[b].cache) ++e;
    KvCache& cache = *tokens[b].cache;
    ops::attention(att_.data() + b * q_dim, q_.data() + b * q_dim, cache.k(il), cache.v(il), tokens[b].pos, e - b,
                   shape, scores_.data(), pool_);
    b = e;
  }
  observe("kqv_out", il, att_.data(), n, q_dim);
  ops::matmul(xn_.data(), l.attn_output, att_.data(), n, pool_);
  add_loras(xn_.data(), att_.data(), n, il, LoraTarget::o, l.attn_output);
  if (!l.post_attn_norm.empty()) norm_rows(xn_.data(), l.post_attn_norm, n, d, s.norm_eps);
  observe("attn_out", il, xn_.data(), n, d);
  for_tokens(pool_, n, [&](int64_t t0, int64_t t1, int) {
    add_in_place(x_.data() + t0 * d, xn_.data() + t0 * d, (t1 - t0) * d);
  });
  observe("ffn_inp", il, x_.data(), n, d);
}

void Decoder::feed_forward_block(int64_t n, int64_t il) {
  const ModelSpec& s = model_.spec();
  const LayerWeights& l = model_.weights().layers[static_cast<size_t>(il)];
  const int64_t d = s.n_embd;
  for_tokens(pool_, n, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t)
      ops::rms_norm(xn_.data() + t * d, x_.data() + t * d, l.ffn_norm.data(), d, s.norm_eps);
  });
  observe("ffn_norm", il, xn_.data(), n, d);
  const ops::MatmulOutput gate_up[] = {{gate_.data(), &l.ffn_gate}, {up_.data(), &l.ffn_up}};
  ops::matmul(gate_up, xn_.data(), n, pool_);
  add_loras(gate_.data(), xn_.data(), n, il, LoraTarget::gate, l.ffn_gate);
  add_loras(up_.data(), xn_.data(), n, il, LoraTarget::up, l.ffn_up);
  if (s.activation == Activation::gelu_tanh) {
    ops::geglu(gate_.data(), up_.data(), n * s.n_ff, pool_);
  } else {
    ops::swiglu(gate_.data(), up_.data(), n * s.n_ff, pool_);
  }
  observe("ffn_gate_par", il, gate_.data(), n, s.n_ff);
  ops::matmul(xn_.data(), l.ffn_down, gate_.data(), n, pool_);
  add_loras(xn_.data(), gate_.data(), n, il, LoraTarget::down, l.ffn_down);
  if (!l.post_ffn_norm.empty()) norm_rows(xn_.data(), l.post_ffn_norm, n, d, s.norm_eps);
  observe("ffn_out", il, xn_.data(), n, d);
  for_tokens(pool_, n, [&](int64_t t0, int64_t t1, int) {
    add_in_place(x_.data() + t0 * d, xn_.data() + t0 * d, (t1 - t0) * d);
  });
  observe("l_out", il, x_.data(), n, d);
}

}  // namespace owl
