// owl quantize on a real model: every weight type gives a loadable model whose logits stay near
// the F32 ones (NMSE bound per type), and 1-D tensors stay F32.
#include <gtest/gtest.h>

#include "base/error.h"
#include "models/model_fixtures.h"
#include "models/random_llama.h"
#include "nmse.h"
#include "tools/quantize.h"

namespace {

std::vector<float> logits_of(const owl::Model& m, const std::vector<int32_t>& tokens) {
  owl::ThreadPool pool(2);
  owl::Decoder d(m, pool);
  owl::KvCache cache(m.spec(), static_cast<int64_t>(tokens.size()));
  const auto l = d.eval(cache, tokens, true);
  return {l.begin(), l.end()};
}

struct Case {
  owl::DType type;
  double max_nmse;
};
std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << owl::dtype_name(c.type) << " (NMSE <= " << c.max_nmse << ")";
}

class QuantizeModel : public ::testing::TestWithParam<Case> {};

TEST_P(QuantizeModel, LogitsStayNearF32) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto f32 = stories260k_gguf(fixtures, owl::DType::f32);
  const auto out = test_scratch_dir() / ("quantized-" + std::string(owl::dtype_name(GetParam().type)) + ".gguf");
  owl::QuantizeOptions o;
  o.type = GetParam().type;
  o.n_threads = 2;
  size_t calls = 0;
  o.progress = [&](size_t, size_t, std::string_view, owl::DType, uint64_t, uint64_t) { ++calls; };
  const auto report = owl::quantize_model(f32.string(), out.string(), o);
  EXPECT_EQ(calls, report.n_tensors);

  const auto ref = owl::Model::load(f32.string());
  const auto q = owl::Model::load(out.string());
  EXPECT_EQ(q->weights().layers[0].attn_q.type, GetParam().type);
  EXPECT_EQ(q->file().tensor("output_norm.weight").type, owl::DType::f32);
  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 432, 383, 286, 261, 410, 469, 347};
  const double e = nmse(logits_of(*q, tokens), logits_of(*ref, tokens));
  std::printf("[ measured ] %s: logits NMSE vs F32 = %.3g, %.1f KiB -> %.1f KiB\n",
              std::string(owl::dtype_name(GetParam().type)).c_str(), e, report.bytes_in / 1024.0, report.bytes_out / 1024.0);
  EXPECT_LE(e, GetParam().max_nmse);
}

// Bounds are a few times the measured NMSE on this 64-wide model (K-quants use 256-value
// super-blocks, which fit only the 64-column matrices' rows when they are long enough).
INSTANTIATE_TEST_SUITE_P(
    AllTypes, QuantizeModel,
    ::testing::Values(Case{owl::DType::f32, 0}, Case{owl::DType::f16, 1e-5}, Case{owl::DType::bf16, 1e-3},
                      Case{owl::DType::q8_0, 1e-3}, Case{owl::DType::q5_0, 1e-2}, Case{owl::DType::q5_1, 1e-2},
                      Case{owl::DType::q4_0, 3e-2}, Case{owl::DType::q4_1, 3e-2}),
    [](const auto& param_info) { return std::string(owl::dtype_name(param_info.param.type)); });

// K-quants need rows of 256: a random model with 256- and 512-wide rows exercises every type.
class QuantizeWideModel : public ::testing::TestWithParam<Case> {};

TEST_P(QuantizeWideModel, LogitsStayNearF32) {
  const auto f32 = test_scratch_dir() / "random-llama-f32.gguf";
  if (!std::filesystem::exists(f32)) write_random_llama(f32, RandomLlamaShape{});
  const auto out = test_scratch_dir() / ("random-" + std::string(owl::dtype_name(GetParam().type)) + ".gguf");
  owl::QuantizeOptions o;
  o.type = GetParam().type;
  o.n_threads = 2;
  const auto report = owl::quantize_model(f32.string(), out.string(), o);
  EXPECT_EQ(report.n_fallback, 0u);
  const auto ref = owl::Model::load(f32.string());
  const auto q = owl::Model::load(out.string());
  EXPECT_EQ(q->weights().layers[1].ffn_down.type, GetParam().type);
  const std::vector<int32_t> tokens = {1, 17, 250, 3, 99, 42, 7, 299};
  const double e = nmse(logits_of(*q, tokens), logits_of(*ref, tokens));
  std::printf("[ measured ] random 256-wide llama, %s: logits NMSE vs F32 = %.3g\n",
              std::string(owl::dtype_name(GetParam().type)).c_str(), e);
  EXPECT_LE(e, GetParam().max_nmse);
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, QuantizeWideModel,
    // Random networks amplify weight noise; measured: q2_K 0.48, q3_K 0.13, q4_0 0.043, q4_K 0.032,
    // q5_0 0.012, q5_K 0.0085, q6_K 0.002, q8_0 2e-4. Unrelated logits would give NMSE near 2.
    ::testing::Values(Case{owl::DType::f16, 1e-5}, Case{owl::DType::bf16, 1e-3}, Case{owl::DType::q8_0, 1e-3},
                      Case{owl::DType::q5_0, 3e-2}, Case{owl::DType::q5_1, 3e-2}, Case{owl::DType::q4_0, 0.1},
                      Case{owl::DType::q4_1, 0.1}, Case{owl::DType::q2_k, 0.8}, Case{owl::DType::q3_k, 0.3},
                      Case{owl::DType::q4_k, 0.07}, Case{owl::DType::q5_k, 2e-2}, Case{owl::DType::q6_k, 5e-3},
                      Case{owl::DType::q8_k, 1e-3}),
    [](const auto& param_info) { return std::string(owl::dtype_name(param_info.param.type)); });

TEST(QuantizeModelErrors, MissingInputNamesTheFile) {
  owl::QuantizeOptions o;
  try {
    owl::quantize_model("/nonexistent/in.gguf", (test_scratch_dir() / "x.gguf").string(), o);
    FAIL() << "no error";
  } catch (const owl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/in.gguf"), std::string::npos);
  }
}

}  // namespace
