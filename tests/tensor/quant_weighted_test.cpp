// Importance-weighted quantization (llama-quantize --imatrix; tensor/quant.h quantize_row_weighted):
// on rows whose columns matter unequally, every type with a weighted search must make a clearly smaller
// importance-weighted error than the reference quantizer of the same type, while staying a sound
// quantization of the row (plain NMSE within a small factor of the reference's); a uniform importance is
// still a valid quantization; types without a search quantize exactly as quantize_row does.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/quant.h"

namespace owl {
namespace {

constexpr int64_t kWeightedCols = 1024;
constexpr int kWeightedRows = 24;

struct Errors {
  double weighted = 0;  // sum of importance * error^2
  double plain = 0;     // sum of error^2
  double signal = 0;
};

// Dequantized quantization of x, by the weighted search (importance given) or the reference.
std::vector<float> round_trip(DType type, const std::vector<float>& x, const float* importance) {
  std::vector<uint8_t> q(row_bytes(type, kWeightedCols));
  if (importance != nullptr) {
    quantize_row_weighted(type, x.data(), q.data(), kWeightedCols, importance);
  } else {
    quantize_row(type, x.data(), q.data(), kWeightedCols);
  }
  std::vector<float> y(static_cast<size_t>(kWeightedCols));
  dequantize_row(type, q.data(), y.data(), kWeightedCols);
  return y;
}

void add_errors(Errors& e, const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& imp) {
  for (size_t j = 0; j < x.size(); ++j) {
    const double d = static_cast<double>(y[j]) - x[j];
    e.weighted += imp[j] * d * d;
    e.plain += d * d;
    e.signal += static_cast<double>(x[j]) * x[j];
  }
}

// Heavy-tailed weights and an importance spread over four orders of magnitude, as real activations are.
struct Case {
  std::vector<std::vector<float>> rows;
  std::vector<float> importance;
};

Case make_case(uint32_t seed) {
  std::mt19937 rng(seed);
  std::student_t_distribution<float> weight(4.0f);
  std::uniform_real_distribution<float> log_imp(-2.0f, 2.0f);
  Case c;
  for (int r = 0; r < kWeightedRows; ++r) {
    std::vector<float> row(static_cast<size_t>(kWeightedCols));
    for (float& v : row) v = 0.02f * weight(rng);
    c.rows.push_back(std::move(row));
  }
  c.importance.resize(static_cast<size_t>(kWeightedCols));
  for (float& v : c.importance) v = std::pow(10.0f, log_imp(rng));
  return c;
}

class WeightedQuant : public ::testing::TestWithParam<DType> {};

TEST_P(WeightedQuant, LowersTheImportanceWeightedError) {
  const DType type = GetParam();
  ASSERT_TRUE(has_importance_search(type));
  Errors ref, weighted;
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Case c = make_case(seed);
    for (const std::vector<float>& x : c.rows) {
      add_errors(ref, x, round_trip(type, x, nullptr), c.importance);
      add_errors(weighted, x, round_trip(type, x, c.importance.data()), c.importance);
    }
  }
  const double ratio = weighted.weighted / ref.weighted;
  std::printf("%s: weighted error %.4g of the reference's; plain NMSE %.3g (reference %.3g)\n",
              std::string(dtype_name(type)).c_str(), ratio, weighted.plain / weighted.signal, ref.plain / ref.signal);
  EXPECT_LT(ratio, 0.85) << "the importance must steer the search";
  EXPECT_LT(weighted.plain / weighted.signal, 2.5 * ref.plain / ref.signal) << "still a sound quantization";
}

TEST_P(WeightedQuant, UniformImportanceIsASoundQuantization) {
  const DType type = GetParam();
  const Case c = make_case(9);
  const std::vector<float> ones(static_cast<size_t>(kWeightedCols), 1.0f);
  Errors ref, uniform;
  for (const std::vector<float>& x : c.rows) {
    add_errors(ref, x, round_trip(type, x, nullptr), ones);
    add_errors(uniform, x, round_trip(type, x, ones.data()), ones);
  }
  // The weighted searches are least-squares fits: with equal weights no worse than the reference's.
  EXPECT_LT(uniform.plain, 1.05 * ref.plain);
}

INSTANTIATE_TEST_SUITE_P(Types, WeightedQuant,
                         ::testing::Values(DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q2_k, DType::q3_k,
                                           DType::q4_k, DType::q5_k, DType::q6_k),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

TEST(WeightedQuant, TypesWithoutASearchQuantizeAsTheReference) {
  const Case c = make_case(4);
  for (DType type : {DType::q8_0, DType::f16, DType::bf16, DType::q8_k}) {
    EXPECT_FALSE(has_importance_search(type));
    std::vector<uint8_t> a(row_bytes(type, kWeightedCols)), b(row_bytes(type, kWeightedCols));
    quantize_row(type, c.rows[0].data(), a.data(), kWeightedCols);
    quantize_row_weighted(type, c.rows[0].data(), b.data(), kWeightedCols, c.importance.data());
    EXPECT_EQ(a, b) << dtype_name(type);
  }
}

TEST(WeightedQuant, AllZeroRowsAndImportanceStayFinite) {
  const std::vector<float> zeros(static_cast<size_t>(kWeightedCols), 0.0f);
  const Case c = make_case(5);
  for (DType type : {DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q2_k, DType::q3_k, DType::q4_k,
                     DType::q5_k, DType::q6_k}) {
    for (const auto& [x, imp] : {std::pair{&zeros, &c.importance}, std::pair{&c.rows[0], &zeros}}) {
      const std::vector<float> y = round_trip(type, *x, imp->data());
      for (float v : y) ASSERT_TRUE(std::isfinite(v)) << dtype_name(type);
    }
    for (float v : round_trip(type, zeros, c.importance.data())) EXPECT_EQ(v, 0.0f) << dtype_name(type);
  }
}

}  // namespace
}  // namespace owl
