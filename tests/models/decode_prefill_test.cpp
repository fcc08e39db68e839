// The cheapest strong model test (mistral-inference): log-probabilities of a sequence decoded one
// token at a time must equal those from prefilling the whole sequence at once.
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "base/thread_pool.h"
#include "fixtures.h"
#include "models/decoder.h"

namespace {

std::vector<float> log_softmax(const float* logits, int64_t n) {
  float max = logits[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - max));
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = logits[i] - max - static_cast<float>(std::log(sum));
  return out;
}

TEST(DecodeVsPrefill, TinyRandomLlamaAgreesWithin1e4) {
  OWL_REQUIRE_FIXTURE(path, "ollama-tiny-random-gguf/llama-2-tiny-random.gguf");
  const auto model = owl::Model::load(path.string());
  const int64_t n_vocab = model->spec().n_vocab;
  const std::vector<int32_t> tokens = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 13, 3, 5, 32};
  ASSERT_EQ(tokens.size(), 16u);
  owl::ThreadPool pool(2);
  owl::Decoder decoder(*model, pool);

  owl::KvCache prefill_cache(model->spec(), 32);
  const auto all = decoder.eval(prefill_cache, tokens, true);
  const std::vector<float> prefill(all.begin(), all.end());

  owl::KvCache step_cache(model->spec(), 32);
  float max_diff = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t one[1] = {tokens[i]};
    const auto step = decoder.eval(step_cache, one, false);
    const auto a = log_softmax(step.data(), n_vocab);
    const auto b = log_softmax(prefill.data() + i * n_vocab, n_vocab);
    for (int64_t v = 0; v < n_vocab; ++v) max_diff = std::max(max_diff, std::abs(a[v] - b[v]));
  }
  std::printf("[ measured ] max |logprob decode - logprob prefill| = %.3g over %zu tokens\n", max_diff, tokens.size());
  EXPECT_LE(max_diff, 1e-4f);
}

TEST(DecodeVsPrefill, ContextFullIsAnErrorAndLeavesTheCache) {
  OWL_REQUIRE_FIXTURE(path, "ollama-tiny-random-gguf/llama-2-tiny-random.gguf");
  const auto model = owl::Model::load(path.string());
  owl::ThreadPool pool(1);
  owl::Decoder decoder(*model, pool);
  owl::KvCache cache(model->spec(), 4);
  const std::vector<int32_t> three = {1, 2, 3};
  decoder.eval(cache, three, false);
  EXPECT_THROW(decoder.eval(cache, three, false), owl::Error);
  EXPECT_EQ(cache.n_past(), 3);
  const std::vector<int32_t> bad = {static_cast<int32_t>(model->spec().n_vocab)};
  EXPECT_THROW(decoder.eval(cache, bad, false), owl::Error);
}

}  // namespace
