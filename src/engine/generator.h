// The generation loop: prefill a prompt in one batched pass, then sample and decode one token at
// a time, reporting each token to a callback. Timing covers model evaluation and sampling only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "models/decoder.h"
#include "models/kv_cache.h"
#include "sampling/sampler.h"

namespace owl {

struct GenerateOptions {
  int64_t n_predict = 128;  // tokens to generate at most; < 0: until end of generation or context full
  bool stop_at_end = true;  // stop at an end-of-generation token (not emitted)
  std::vector<int32_t> stop_tokens;  // end-of-generation ids
};

struct GenerateStats {
  int64_t n_prompt = 0;
  double prompt_seconds = 0;
  int64_t n_generated = 0;
  double generate_seconds = 0;
  bool context_full = false;
  double prompt_tokens_per_second() const { return prompt_seconds > 0 ? n_prompt / prompt_seconds : 0; }
  double generate_tokens_per_second() const { return generate_seconds > 0 ? n_generated / generate_seconds : 0; }
  // Whether generation ran into the token budget n_predict (< 0: none) or the context.
  bool hit_limit(int64_t n_predict) const { return context_full || (n_predict >= 0 && n_generated >= n_predict); }
};

// Throws owl::Error when a logit the model computed is NaN or infinite: weights holding NaN or Inf
// values do that, and the sampler would otherwise go on quietly (owl check scans the weights).
void check_finite_logits(std::span<const float> logits);

// Evaluates prompt (appended to whatever the cache holds), then generates. on_token returns
// false to stop early. The prompt must not be empty.
GenerateStats generate(Decoder& decoder, KvCache& cache, Sampler& sampler, std::span<const int32_t> prompt,
                       const GenerateOptions& options, const std::function<bool(int32_t)>& on_token);

}  // namespace owl
