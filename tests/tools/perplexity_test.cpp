// owl perplexity on owl's own model (no fixtures needed) against a direct computation written here:
// the same chunks (BOS first), the second half of each scored, exp of the mean; the result does not
// depend on -b; KL divergence of a model against its own saved base is ~0 with the same top token
// everywhere, and against a Q4_0 copy equals KL computed here from both models' logits; malformed
// base files and texts shorter than a chunk are one-line errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "models/decoder.h"
#include "models/model.h"
#include "run_owl.h"
#include "tokenizer/tokenizer.h"
#include "tools/perplexity.h"
#include "train/story_corpus.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;


std::string story_text() {
  std::string text;
  for (const std::string& s : owl::train::generate_stories(5, 0, 12)) text += s + "\n\n";
  return text;
}

fs::path text_file() {
  const fs::path p = scratch_path("perplexity-stories.txt");
  std::ofstream(p) << story_text();
  return p;
}

std::vector<double> log_softmax(const float* x, int64_t n) {
  double max = x[0], sum = 0;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, double(x[i]));
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(x[i]) - max);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = double(x[i]) - max - std::log(sum);
  return out;
}

// Each chunk's log-probabilities at its scored positions (the last n_ctx - 1 - n_ctx/2), with targets.
struct Scored {
  std::vector<std::vector<double>> lp;
  std::vector<int32_t> next;
};

Scored score_directly(const std::string& path, int64_t n_ctx, int64_t chunks) {
  const auto model = owl::Model::load(path);
  const auto tok = owl::Tokenizer::from_gguf(model->file());
  const std::vector<int32_t> ids = tok->encode(story_text(), true);
  owl::ThreadPool pool(2);
  owl::Decoder decoder(*model, pool);
  Scored s;
  const int64_t V = model->spec().n_vocab;
  for (int64_t c = 0; c < chunks; ++c) {
    std::vector<int32_t> chunk(ids.begin() + c * n_ctx, ids.begin() + (c + 1) * n_ctx);
    chunk[0] = tok->bos();
    owl::KvCache cache(model->spec(), n_ctx, owl::DType::f16);
    const auto logits = decoder.eval(cache, chunk, true);
    for (int64_t t = n_ctx / 2; t + 1 < n_ctx; ++t) {
      s.lp.push_back(log_softmax(logits.data() + t * V, V));
      s.next.push_back(chunk[static_cast<size_t>(t + 1)]);
    }
  }
  return s;
}

TEST(Perplexity, MatchesADirectComputationWhateverTheBatch) {
  const Scored s = score_directly(kStoriesModel, 64, 5);
  double nll = 0, nll2 = 0;
  for (size_t i = 0; i < s.next.size(); ++i) {
    const double x = -s.lp[i][static_cast<size_t>(s.next[i])];
    nll += x;
    nll2 += x * x;
  }
  const auto n = static_cast<double>(s.next.size());
  const double expected = std::exp(nll / n);
  // The standard error of the mean log-likelihood, through exp: llama-perplexity's "+/-".
  const double expected_error = expected * std::sqrt((nll2 / n - (nll / n) * (nll / n)) / (n - 1));
  ASSERT_EQ(s.next.size(), 5u * 31u);
  for (const char* batch : {"64", "7"}) {
    const OwlResult r = run_owl("perplexity " + kStoriesModel + " -f " + text_file().string() + " -c 64 --chunks 5 -b " +
                                batch + " --json -t 2");
    ASSERT_EQ(r.status, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_NEAR(j["perplexity"].get<double>(), expected, 1e-6 * expected) << "-b " << batch;
    EXPECT_EQ(j["chunks"], 5);
    EXPECT_EQ(j["scored_per_chunk"], 31);
    EXPECT_EQ(j["running"].size(), 5u);
    EXPECT_NEAR(j["perplexity_error"].get<double>(), expected_error, 1e-4 * expected_error);
  }
  const OwlResult text = run_owl("perplexity " + kStoriesModel + " -f " + text_file().string() + " -c 64 --chunks 2 -t 2");
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("[1]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Final estimate: PPL = "), std::string::npos) << text.out;
}

TEST(Perplexity, KlDivergenceAgainstASavedBase) {
  const std::string base = scratch_path("stories.kld").string();
  const std::string file = text_file().string();
  const OwlResult save = run_owl("perplexity " + kStoriesModel + " -f " + file + " -c 64 --chunks 4 --kl-divergence-base " + base + " -t 2");
  ASSERT_EQ(save.status, 0) << save.err;
  // The model against itself: only the saved values' f16 rounding.
  const OwlResult self = run_owl("perplexity " + kStoriesModel + " --kl-divergence-base " + base + " --kl-divergence --json -t 2");
  ASSERT_EQ(self.status, 0) << self.err;
  const json s = json::parse(self.out);
  EXPECT_LT(s["kl_divergence"]["mean"].get<double>(), 1e-4);
  EXPECT_EQ(s["same_top_token"]["mean"].get<double>(), 1.0);
  EXPECT_NEAR(s["perplexity_ratio"].get<double>(), 1.0, 1e-3);

  // A Q4_0 copy: KL and the share of same top tokens as computed here from both models' logits.
  const std::string q4 = scratch_path("perplexity-q4_0.gguf").string();
  ASSERT_EQ(run_owl("quantize " + kStoriesModel + " " + q4 + " --type q4_0").status, 0);
  const OwlResult cmp = run_owl("perplexity " + q4 + " --kl-divergence-base " + base + " --kl-divergence --json -t 2");
  ASSERT_EQ(cmp.status, 0) << cmp.err;
  const json c = json::parse(cmp.out);
  const Scored a = score_directly(kStoriesModel, 64, 4), b = score_directly(q4, 64, 4);
  double kl = 0, same = 0;
  for (size_t i = 0; i < a.lp.size(); ++i) {
    for (size_t v = 0; v < a.lp[i].size(); ++v) kl += std::exp(a.lp[i][v]) * (a.lp[i][v] - b.lp[i][v]);
    same += std::max_element(a.lp[i].begin(), a.lp[i].end()) - a.lp[i].begin() ==
                    std::max_element(b.lp[i].begin(), b.lp[i].end()) - b.lp[i].begin()
                ? 1
                : 0;
  }
  kl /= static_cast<double>(a.lp.size());
  same /= static_cast<double>(a.lp.size());
  EXPECT_GT(kl, 1e-4);
  EXPECT_NEAR(c["kl_divergence"]["mean"].get<double>(), kl, 0.02 * kl + 2e-5) << cmp.out;
  EXPECT_NEAR(c["same_top_token"]["mean"].get<double>(), same, 1.0 / static_cast<double>(a.lp.size())) << cmp.out;
  std::printf("[ measured ] owl-stories Q4_0 against F16: mean KLD %.5f, same top token %.1f%%\n", kl, 100 * same);
}

TEST(Perplexity, BadInputIsAOneLineError) {
  const std::string base = scratch_path("stories-bad.kld").string();
  const std::string file = text_file().string();
  ASSERT_EQ(run_owl("perplexity " + kStoriesModel + " -f " + file + " -c 64 --chunks 2 --kl-divergence-base " + base + " -t 2").status, 0);
  const auto size = fs::file_size(base);
  fs::resize_file(base, size - 10);
  OwlResult r = run_owl("perplexity " + kStoriesModel + " --kl-divergence-base " + base + " --kl-divergence");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  std::ofstream(base, std::ios::binary) << "not a base file at all, just some text";
  r = run_owl("perplexity " + kStoriesModel + " --kl-divergence-base " + base + " --kl-divergence");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not a KL base file"), std::string::npos) << r.err;
  r = run_owl("perplexity " + kStoriesModel + " -f " + file + " -c 100000");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("fewer than one chunk"), std::string::npos) << r.err;
  r = run_owl("perplexity " + kStoriesModel + " --kl-divergence");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--kl-divergence-base"), std::string::npos) << r.err;
  // A failed save leaves no file behind.
  const std::string none = scratch_path("never.kld").string();
  r = run_owl("perplexity " + kStoriesModel + " -f " + file + " -c 100000 --kl-divergence-base " + none);
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(fs::exists(none));
}

}  // namespace
