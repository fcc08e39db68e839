// ops::matmul_backward_input (dx += dy·W, the gradient through a frozen weight) for every weight
// type against a double-precision product of the dequantized weights, and matmul_backward_weight
// (dW += dyᵀ·x, full-parameter training) against a double product; both the same for any thread count.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "ops/matmul.h"
#include "tensor/quant.h"

namespace {

using owl::DType;

class MatmulBackward : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulBackward, MatchesDequantizedProductForAnyThreads) {
  const DType type = GetParam();
  const int64_t rows = 37, cols = owl::dtype_traits(type).block_size == 256 ? 768 : 320, n = 5;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> wf(static_cast<size_t>(rows * cols)), dy(static_cast<size_t>(n * rows));
  for (float& v : wf) v = normal(rng);
  for (float& v : dy) v = normal(rng);
  std::vector<uint8_t> bytes(owl::row_bytes(type, cols) * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    owl::quantize_row(type, wf.data() + r * cols, bytes.data() + r * owl::row_bytes(type, cols), cols);
  }
  owl::Weight w;
  w.name = "w";
  w.type = type;
  w.data = bytes.data();
  w.rows = rows;
  w.cols = cols;
  // Reference: the dequantized rows, products summed in double.
  std::vector<float> deq(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) owl::dequantize_row(type, w.row(r), deq.data() + r * cols, cols);
  std::vector<double> want(static_cast<size_t>(n * cols), 1.0);  // dx starts at 1: the product is added
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) want[t * cols + c] += static_cast<double>(dy[t * rows + r]) * deq[r * cols + c];
    }
  }
  std::vector<float> one(want.size(), 1.0f), two(want.size(), 1.0f);
  owl::ThreadPool pool1(1), pool2(2);
  owl::ops::matmul_backward_input(one.data(), w, dy.data(), n, pool1);
  owl::ops::matmul_backward_input(two.data(), w, dy.data(), n, pool2);
  EXPECT_EQ(one, two) << "thread count changed the result";
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(one[i], want[i], 1e-4 * (1.0 + std::fabs(want[i]))) << i;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulBackward,
                         ::testing::Values(DType::f32, DType::f16, DType::bf16, DType::q4_0, DType::q4_1, DType::q5_0,
                                           DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k, DType::q4_k,
                                           DType::q5_k, DType::q6_k),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(owl::dtype_name(p.param)); });

TEST(MatmulBackwardWeight, MatchesDoubleProductForAnyThreads) {
  // Odd sizes: row groups, GEMM tiles and token counts that do not divide evenly.
  for (const auto [n, out, in] : {std::array<int64_t, 3>{1, 3, 5}, {37, 45, 70}, {300, 130, 96}}) {
    std::mt19937 rng(static_cast<uint32_t>(n + out));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> dy(static_cast<size_t>(n * out)), x(static_cast<size_t>(n * in));
    for (float& v : dy) v = normal(rng);
    for (float& v : x) v = normal(rng);
    std::vector<double> want(static_cast<size_t>(out * in), 0.5);  // dw starts at 0.5: the product is added
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t o = 0; o < out; ++o) {
        for (int64_t i = 0; i < in; ++i) want[o * in + i] += static_cast<double>(dy[t * out + o]) * x[t * in + i];
      }
    }
    std::vector<float> one(want.size(), 0.5f), two(want.size(), 0.5f);
    owl::ThreadPool pool1(1), pool2(2);
    owl::ops::matmul_backward_weight(one.data(), dy.data(), x.data(), n, out, in, pool1);
    owl::ops::matmul_backward_weight(two.data(), dy.data(), x.data(), n, out, in, pool2);
    EXPECT_EQ(one, two) << "thread count changed the result";
    const double tol = 1e-5 * std::sqrt(static_cast<double>(n));
    for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(one[i], want[i], tol * (1.0 + std::fabs(want[i]))) << i;
  }
}

}  // namespace
