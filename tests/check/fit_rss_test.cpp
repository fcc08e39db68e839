// owl check's memory prediction against the peak resident memory `owl run` really reaches, on the
// fixtures and on generated random-weight Llama files of 50-200 MB in several weight types: within 10%.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "check/check_helpers.h"
#include "fixtures.h"
#include "models/model_fixtures.h"

namespace {

struct FitCase {
  const char* name;
  BigLlama shape;  // n_layer 0: a fixture model instead
};

// Predicts with `owl check`, measures `owl run` with the same context and threads, prints both.
void expect_prediction_holds(const std::string& model, const std::string& label, int64_t n_ctx) {
  const OwlRun check = owl_exec(fmt::format("check {} -c {} -t 2 --json", model, n_ctx));
  ASSERT_NE(check.status, 1) << check.err;
  const auto j = nlohmann::json::parse(check.out);
  const double predicted = j["fit"]["predicted_peak_bytes"].get<double>();
  const OwlRun run = owl_exec(fmt::format("run {} -c {} -t 2 -n 4 --seed 1 --temp 0 -p Once_upon_a_time_there_was", model, n_ctx));
  ASSERT_EQ(run.status, 0) << run.err;
  const double measured = static_cast<double>(run.peak_rss);
  std::printf("[fit] %-28s predicted %8.2f MiB  measured %8.2f MiB  (%+.1f%%)  ru_maxrss %8.2f MiB\n", label.c_str(),
              predicted / 1048576, measured / 1048576, 100 * (predicted - measured) / measured,
              static_cast<double>(run.ru_maxrss) / 1048576);
  EXPECT_NEAR(predicted, measured, 0.10 * measured) << label << ": " << j["fit"]["breakdown"].dump();
}

TEST(FitRss, Stories260kF32) {
  OWL_REQUIRE_FIXTURES();
  expect_prediction_holds(stories260k_gguf(fixtures, owl::DType::f32).string(), "stories260K f32", 512);
}

TEST(FitRss, Stories260kQ8) {
  OWL_REQUIRE_FIXTURES();
  expect_prediction_holds(stories260k_gguf(fixtures, owl::DType::q8_0).string(), "stories260K q8_0", 256);
}

TEST(FitRss, OllamaTinyF16) {
  OWL_REQUIRE_FIXTURE(model, "ollama-tiny-random-gguf/llama-2-tiny-random.gguf");
  expect_prediction_holds(model.string(), "llama-2-tiny-random f16", 1024);
}

class FitRssLarge : public ::testing::TestWithParam<FitCase> {};

TEST_P(FitRssLarge, PredictionWithinTenPercent) {
  OWL_REQUIRE_FIXTURES();
  const FitCase& c = GetParam();
  const auto vocab = owl::gguf::File::open(stories260k_gguf(fixtures, owl::DType::f32).string());
  const auto path = test_scratch_dir() / (std::string(c.name) + ".gguf");
  write_big_llama(path.string(), c.shape, *vocab);
  expect_prediction_holds(path.string(), fmt::format("{} ({} MB)", c.name, std::filesystem::file_size(path) / 1000000), 1024);
  std::filesystem::remove(path);  // keep the scratch folder small
}

INSTANTIATE_TEST_SUITE_P(
    Types, FitRssLarge,
    ::testing::Values(FitCase{"random-f32", {1024, 2816, 2, 8, 2, 2048, owl::DType::f32}},
                      FitCase{"random-f16", {1536, 4096, 2, 12, 4, 2048, owl::DType::f16}},
                      FitCase{"random-q8_0", {2048, 5632, 2, 16, 4, 2048, owl::DType::q8_0}},
                      FitCase{"random-q4_0", {2048, 5632, 3, 16, 4, 4096, owl::DType::q4_0}},
                      FitCase{"random-q4_K", {2048, 5632, 2, 16, 8, 2048, owl::DType::q4_k}}),
    [](const ::testing::TestParamInfo<FitCase>& p) {
      std::string n = p.param.name;
      for (char& ch : n) {
        if (ch == '-') ch = '_';
      }
      return n;
    });

}  // namespace
