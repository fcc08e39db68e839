// The one decoder forward pass shared by every family: embeddings -> n_layer x (norm, attention,
// [post-norm], residual, norm, gated feed-forward, [post-norm], residual) -> final norm -> logits.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "base/thread_pool.h"
#include "models/kv_cache.h"
#include "models/model.h"

namespace owl {

// One sequence's part of a batch: its cache and the tokens to append to it.
struct SequenceInput {
  KvCache* cache = nullptr;
  std::span<const int32_t> tokens;
  bool all_logits = false;  // logits of every token, or of the last only
  // One scale per LoRA adapter attached to the model (Model::lora_scales), for this sequence
  // alone (a server request's own); empty: the model's.
  std::span<const float> lora_scales;
};

// Sees named intermediate activations (llama.cpp's names: attn_norm, kqv_out, attn_out, ffn_inp,
// ffn_norm, ffn_gate_par, ffn_out, l_out per layer; inp_embd, result_norm, result_output with layer
// -1): n_tokens rows of `width` floats, valid only during the call. Every matrix product's input is
// one of them (attn_norm: q/k/v, kqv_out: attn_output, ffn_norm: gate/up, ffn_gate_par: down,
// result_norm: output).
using ActivationObserver =
    std::function<void(std::string_view name, int64_t layer, const float* data, int64_t n_tokens, int64_t width)>;

class Decoder {
 public:
  // Token positions per pass: prompts run in micro-batches of this many, which bounds the scratch
  // memory (owl check's fit estimate counts on it).
  static constexpr int64_t kMaxBatch = 256;

  Decoder(const Model& model, ThreadPool& pool);

  // Evaluates tokens at positions cache.n_past() onwards and appends them to the cache.
  // Returns the logits of the last token (n_vocab), or of every token (n_tokens * n_vocab)
  // when all_logits. The span stays valid until the next call. Throws owl::Error when a token
  // id is out of range or the context is full (the cache is then left unchanged).
  std::span<const float> eval(KvCache& cache, std::span<const int32_t> tokens, bool all_logits);

  // Several sequences in one pass: the matrix products run over all their tokens together.
  // Logit rows come sequence by sequence, in order. The caches must be distinct.
  std::span<const float> eval(std::span<const SequenceInput> batch);

  // The final-normed hidden state of every token (n_tokens * n_embd), without the vocabulary
  // projection: what embeddings pool. Appends to the cache as eval() does.
  std::span<const float> eval_hidden(KvCache& cache, std::span<const int32_t> tokens);

  void set_observer(ActivationObserver observer) { observer_ = std::move(observer); }
  const Model& model() const { return model_; }

 private:
  struct Token {
    KvCache* cache;
    int64_t pos;
    float* logits;  // where its logits (or hidden state, in eval_hidden) go, or null
    const float* lora_scales;  // its sequence's, or null: the model's
  };
  std::span<const float> eval_rows(std::span<const SequenceInput> batch, bool hidden);
  void eval_micro_batch(const std::vector<Token>& tokens, const int32_t* ids, bool hidden);
  void attention_block(const std::vector<Token>& tokens, int64_t il);
  void feed_forward_block(int64_t n, int64_t il);
  void add_loras(float* y, const float* x, int64_t n, int64_t il, LoraTarget target, const Weight& w);
  void set_lora_row_scales(const std::vector<Token>& tokens);
  void observe(std::string_view name, int64_t layer, const float* data, int64_t n, int64_t width) const;
  void reserve(int64_t n_tokens, int64_t n_ctx);

  const Model& model_;
  ThreadPool& pool_;
  ActivationObserver observer_;
  // Scratch, sized for the largest micro-batch seen. Shapes are per token, times the batch size B.
  std::vector<float> x_;       // (B, n_embd) residual stream
  std::vector<float> xn_;      // (B, n_embd) normalised input of a sub-layer, then its output
  std::vector<float> q_;       // (B, n_head*head_dim)
  std::vector<float> k_;       // (B, n_head_kv*head_dim)
  std::vector<float> v_;       // (B, n_head_kv*head_dim)
  std::vector<float> att_;     // (B, n_head*head_dim)
  std::vector<float> gate_;    // (B, n_ff)
  std::vector<float> up_;      // (B, n_ff)
  std::vector<float> scores_;  // (n_threads, kernels::kMaxQueries, n_ctx)
  std::vector<float> rope_cos_sin_;  // (threads, n_rot) the rotation of one position, shared by its heads
  std::vector<float> out_rows_;  // (B, n_embd) final-normed rows whose logits are wanted
  std::vector<float> logits_;  // (rows requested, n_vocab)
  // Per attached adapter, each token's scale in the current micro-batch; empty when every token
  // takes the model's (the common case: the terms' own scale is used).
  std::vector<std::vector<float>> lora_row_scales_;
};

}  // namespace owl
