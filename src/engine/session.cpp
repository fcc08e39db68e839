// Prefix reuse: truncate the cache to the common prefix, evaluate the remainder (at least one
// token, for fresh logits), then record what the generation loop evaluated.
#include "engine/session.h"

#include <algorithm>

#include "base/error.h"

namespace owl {

Session::Session(const Model& model, ThreadPool& pool, int64_t n_ctx, DType kv_type)
    : decoder_(model, pool), cache_(model.spec(), n_ctx, kv_type) {}

void Session::clear() {
  cache_.clear();
  cached_.clear();
  n_reused_ = 0;
}

GenerateStats Session::generate(std::span<const int32_t> tokens, Sampler& sampler, const GenerateOptions& options,
                                const std::function<bool(int32_t)>& on_token) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail("nothing to generate from: no tokens");
  if (n > cache_.n_ctx()) fail("context full: the conversation has {} tokens, the context holds {}", n, cache_.n_ctx());
  const auto mismatch = std::mismatch(cached_.begin(), cached_.end(), tokens.begin(), tokens.end());
  const int64_t common = std::min<int64_t>(mismatch.first - cached_.begin(), n - 1);
  cache_.set_n_past(common);
  cached_.resize(static_cast<size_t>(common));
  n_reused_ = common;

  // The sampler's penalties see the whole conversation once (not once per turn); only the new
  // part is evaluated.
  sampler.clear_history();
  for (int64_t i = 0; i < common; ++i) sampler.accept(tokens[static_cast<size_t>(i)]);
  std::vector<int32_t> generated;
  const GenerateStats stats = owl::generate(decoder_, cache_, sampler, tokens.subspan(static_cast<size_t>(common)),
                                            options, [&](int32_t id) {
                                              generated.push_back(id);
                                              return on_token(id);
                                            });
  cached_.assign(tokens.begin(), tokens.end());
  cached_.insert(cached_.end(), generated.begin(), generated.end());
  cached_.resize(static_cast<size_t>(cache_.n_past()));  // the last sampled token is not evaluated yet
  return stats;
}

}  // namespace owl
