// The one decoder forward pass shared by every family: embeddings -> n_layer x (norm, attention,
// residual, norm, gated feed-forward, residual) -> final norm -> vocabulary logits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "models/kv_cache.h"
#include "models/model.h"

namespace owl {

class Decoder {
 public:
  Decoder(const Model& model, ThreadPool& pool);

  // Evaluates tokens at positions cache.n_past() onwards and appends them to the cache.
  // Returns the logits of the last token (n_vocab), or of every token (n_tokens * n_vocab)
  // when all_logits. The span stays valid until the next call. Throws owl::Error when a token
  // id is out of range or the context is full (the cache is then left unchanged).
  std::span<const float> eval(KvCache& cache, std::span<const int32_t> tokens, bool all_logits);

  const Model& model() const { return model_; }

 private:
  void eval_batch(KvCache& cache, const int32_t* tokens, int64_t n, float* logits, bool all_logits);
  void reserve(int64_t n_tokens, int64_t n_ctx);

  const Model& model_;
  ThreadPool& pool_;
  // Scratch, sized for the largest batch seen. Shapes are per token, times the batch size.
  std::vector<float> x_;      // (B, n_embd) residual stream
  std::vector<float> xn_;     // (B, n_embd) normalised input of a sub-layer
  std::vector<float> q_;      // (B, n_head*head_dim)
  std::vector<float> k_;      // (B, n_head_kv*head_dim)
  std::vector<float> v_;      // (B, n_head_kv*head_dim)
  std::vector<float> att_;    // (B, n_head*head_dim)
  std::vector<float> gate_;   // (B, n_ff)
  std::vector<float> up_;     // (B, n_ff)
  std::vector<float> scores_; // (n_threads, n_ctx)
  std::vector<float> logits_; // (B or 1, n_vocab)
};

}  // namespace owl
