// A conversation's model state: one KV cache plus the tokens it holds, so that each new request
// (a chat turn, a server request) re-evaluates only what differs from what is already cached.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/generator.h"
#include "models/decoder.h"
#include "models/kv_cache.h"

namespace owl {

class Session {
 public:
  // kv_type: the KV cache's type (f16 as llama.cpp, q8_0 or f32).
  Session(const Model& model, ThreadPool& pool, int64_t n_ctx, DType kv_type = DType::f16);

  // Generates a continuation of `tokens` (the whole conversation so far). The longest prefix
  // shared with the cached tokens is kept; only the rest is evaluated. Throws owl::Error when
  // `tokens` does not fit the context (the session is then unchanged).
  GenerateStats generate(std::span<const int32_t> tokens, Sampler& sampler, const GenerateOptions& options,
                         const std::function<bool(int32_t)>& on_token);

  void clear();
  const std::vector<int32_t>& cached_tokens() const { return cached_; }
  int64_t n_ctx() const { return cache_.n_ctx(); }
  int64_t n_reused() const { return n_reused_; }  // prefix tokens the last generate() kept

 private:
  Decoder decoder_;
  KvCache cache_;
  std::vector<int32_t> cached_;  // the tokens whose keys and values the cache holds, in order
  int64_t n_reused_ = 0;
};

}  // namespace owl
