// Every family against llama.cpp's reference logits (../shared/fixtures/archs): NMSE <= 1e-5 and
// the same argmax at every position, and the same 32 greedy tokens; decode one token at a time
// against prefill; a batch of three sequences against each alone; Q8_0 and Q4_K quantizations; the
// F16 and Q8_0 KV caches against the F32 one at a long context.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <tuple>

#include "base/error.h"
#include "fixtures.h"
#include "models/reference_logits.h"
#include "tools/quantize.h"

namespace {

const char* const kModels[] = {"llama", "llama-gqa", "llama-rope-freqs", "gemma", "gemma2",
                               "gemma3", "qwen2", "qwen3", "phi3", "phi3-longrope"};

class ArchFixture : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const auto root = owl_fixtures();
    if (!root || !std::filesystem::exists(*root / "archs")) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
    dir_ = *root / "archs";
    name_ = GetParam();
    model_ = owl::Model::load((dir_ / (name_ + ".gguf")).string());
    cases_ = load_ref_cases(dir_ / (name_ + ".ref.json"));
  }
  std::filesystem::path dir_;
  std::string name_;
  std::unique_ptr<owl::Model> model_;
  std::vector<RefCase> cases_;
};

TEST_P(ArchFixture, LogitsAndGreedyMatchTheReference) {
  const double worst = expect_matches_reference(*model_, cases_, name_);
  std::printf("[ measured ] %-16s worst NMSE vs llama.cpp %.3g\n", name_.c_str(), worst);
}

TEST_P(ArchFixture, DecodeOneByOneEqualsPrefill) {
  const int64_t V = model_->spec().n_vocab;
  const RefCase& c = cases_.back();
  const auto all = prefill(*model_, c.tokens);
  owl::ThreadPool pool(1);
  owl::Decoder decoder(*model_, pool);
  owl::KvCache cache(model_->spec(), 256);
  double max_diff = 0;
  for (size_t i = 0; i < c.tokens.size(); ++i) {
    const int32_t one[1] = {c.tokens[i]};
    const auto l = decoder.eval(cache, one, false);
    // log-probabilities: logits minus log-sum-exp
    auto lse = [&](const float* x) {
      const float mx = *std::max_element(x, x + V);
      double s = 0;
      for (int64_t v = 0; v < V; ++v) s += std::exp(double(x[v]) - mx);
      return mx + std::log(s);
    };
    const double a = lse(l.data()), b = lse(all.data() + i * V);
    for (int64_t v = 0; v < V; ++v) max_diff = std::max(max_diff, std::abs((l[v] - a) - (all[i * V + v] - b)));
  }
  EXPECT_LE(max_diff, 1e-4) << name_;
}

TEST_P(ArchFixture, BatchOfThreeEqualsEachAlone) {
  const int64_t V = model_->spec().n_vocab;
  owl::ThreadPool pool(2);
  owl::Decoder decoder(*model_, pool);
  std::vector<owl::KvCache> caches;
  for (int i = 0; i < 3; ++i) caches.emplace_back(model_->spec(), 256);
  std::vector<owl::SequenceInput> batch;
  for (int i = 0; i < 3; ++i) batch.push_back({&caches[i], cases_[static_cast<size_t>(i)].tokens, true});
  const auto together = decoder.eval(batch);
  const std::vector<float> joint(together.begin(), together.end());
  size_t row = 0;
  for (int i = 0; i < 3; ++i) {
    const auto alone = prefill(*model_, cases_[static_cast<size_t>(i)].tokens);
    const size_t n = cases_[static_cast<size_t>(i)].tokens.size();
    EXPECT_EQ(std::vector<float>(joint.begin() + row * V, joint.begin() + (row + n) * V), alone) << name_ << " sequence " << i;
    row += n;
  }
}

TEST_P(ArchFixture, QuantizedToQ8_0AndQ4_K) {
  const int64_t V = model_->spec().n_vocab;
  const RefCase& c = cases_.back();
  const auto f32 = prefill(*model_, c.tokens);
  const std::pair<owl::DType, double> types[] = {{owl::DType::q8_0, 5e-3}, {owl::DType::q4_k, 5e-2}};
  for (const auto& [type, bound] : types) {
    const auto path = scratch_path(name_ + "-" + std::string(owl::dtype_name(type)) + ".gguf");
    owl::QuantizeOptions o;
    o.type = type;
    o.n_threads = 2;
    const auto report = owl::quantize_model((dir_ / (name_ + ".gguf")).string(), path.string(), o);
    const auto q = owl::Model::load(path.string());
    const auto got = prefill(*q, c.tokens);
    const double e = nmse(got.data(), f32.data(), static_cast<int64_t>(f32.size()));
    std::printf("[ measured ] %-16s %-4s NMSE vs own F32 %.3g (%zu of %zu tensors fell back to f16: rows of %lld)\n",
                name_.c_str(), std::string(owl::dtype_name(type)).c_str(), e, report.n_fallback, report.n_tensors,
                static_cast<long long>(model_->spec().n_embd));
    EXPECT_LE(e, bound) << name_ << " " << owl::dtype_name(type);
    (void)V;
  }
}

// 250 positions (the fixtures' context is 256) of random tokens: every position's logits with the cache
// in F16 and Q8_0 against F32 (what the reference used). Q8_0 needs heads of a multiple of 32 values.
// Measured (Zen 3, AVX2): F16 NMSE 4e-8 to 1.3e-6, argmax equal at 249-250 of 250; Q8_0 7e-5 to 8e-4, 242-249.
TEST_P(ArchFixture, KvCacheTypesStayCloseToF32AtLongContext) {
  const owl::ModelSpec& s = model_->spec();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> pick(3, static_cast<int32_t>(s.n_vocab - 1));
  std::vector<int32_t> tokens(250);
  for (int32_t& t : tokens) t = pick(rng);
  owl::ThreadPool pool(2);
  owl::Decoder decoder(*model_, pool);
  const auto logits = [&](owl::DType type) {
    owl::KvCache cache(s, 256, type);
    const auto l = decoder.eval(cache, tokens, true);
    return std::vector<float>(l.begin(), l.end());
  };
  const std::vector<float> f32 = logits(owl::DType::f32);
  // F16 stays within the bound the reference comparison holds (1e-5); Q8_0 is lossy by design (as in llama.cpp).
  for (const auto& [type, bound, argmax_min] :
       {std::tuple{owl::DType::f16, 1e-5, 248}, std::tuple{owl::DType::q8_0, 3e-3, 235}}) {
    if (type == owl::DType::q8_0 && s.head_dim % 32 != 0) {
      EXPECT_THROW(owl::KvCache(s, 256, type), owl::Error) << name_;
      continue;
    }
    const std::vector<float> got = logits(type);
    const double e = nmse(got.data(), f32.data(), static_cast<int64_t>(f32.size()));
    int same_argmax = 0;
    for (size_t i = 0; i < tokens.size(); ++i)
      same_argmax += argmax(got.data() + i * s.n_vocab, s.n_vocab) == argmax(f32.data() + i * s.n_vocab, s.n_vocab) ? 1 : 0;
    std::printf("[ measured ] %-16s KV cache %-4s NMSE vs F32 %.3g over 250 positions, same argmax at %d\n", name_.c_str(),
                std::string(owl::dtype_name(type)).c_str(), e, same_argmax);
    EXPECT_LE(e, bound) << name_ << " " << owl::dtype_name(type);
    EXPECT_GE(same_argmax, argmax_min) << name_ << " " << owl::dtype_name(type);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ArchFixture, ::testing::ValuesIn(kModels), [](const auto& param_info) {
  std::string s = param_info.param;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
});

}  // namespace
