// Generation loop (llama2.c run.c generate(), with batched prefill and a sampler chain).
#include "engine/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "base/error.h"

namespace owl {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

void check_finite_logits(std::span<const float> logits) {
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!std::isfinite(logits[i])) {
      fail("the model computed a {} logit (token {}): its weights may hold NaN or Inf values; owl check scans them",
           std::isnan(logits[i]) ? "NaN" : "infinite", i);
    }
  }
}

GenerateStats generate(Decoder& decoder, KvCache& cache, Sampler& sampler, std::span<const int32_t> prompt,
                       const GenerateOptions& options, const std::function<bool(int32_t)>& on_token) {
  if (prompt.empty()) fail("the prompt has no tokens");
  GenerateStats stats;
  for (int32_t t : prompt) sampler.accept(t);

  auto t0 = std::chrono::steady_clock::now();
  std::span<const float> logits = decoder.eval(cache, prompt, false);
  stats.n_prompt = static_cast<int64_t>(prompt.size());
  stats.prompt_seconds = seconds_since(t0);

  t0 = std::chrono::steady_clock::now();
  while (options.n_predict < 0 || stats.n_generated < options.n_predict) {
    check_finite_logits(logits);
    const int32_t token = sampler.sample(logits);
    sampler.accept(token);
    const bool is_end =
        std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) != options.stop_tokens.end();
    if (options.stop_at_end && is_end) break;
    ++stats.n_generated;
    if (!on_token(token)) break;
    if (options.n_predict >= 0 && stats.n_generated >= options.n_predict) break;
    if (cache.n_past() >= cache.n_ctx()) {
      stats.context_full = true;
      break;
    }
    const int32_t next[1] = {token};
    logits = decoder.eval(cache, next, false);
  }
  stats.generate_seconds = seconds_since(t0);
  return stats;
}

}  // namespace owl
