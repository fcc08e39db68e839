// Row quantization without fixtures: block sizes against the dtype table, the dispatch's length check,
// quantize -> dequantize NMSE bounds on random data per type, and edge inputs (zeros, constants, non-finite).
// Bounds come from the reference's own round-trip error (quant-goldens README, row 0 N(0,1)), with headroom.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "base/error.h"
#include "nmse.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"

namespace owl {
namespace {

struct TypeBound {
  DType type;
  double max_nmse;  // on N(0,1) data
};
[[maybe_unused]] std::ostream& operator<<(std::ostream& os, const TypeBound& b) {
  return os << dtype_name(b.type) << " (NMSE <= " << b.max_nmse << ")";
}

// The reference reaches (row 0 of the goldens): f16 4.1e-8, bf16 2.4e-6, q4_0 8.3e-3, q4_1 5.6e-3, q5_0 2.0e-3,
// q5_1 1.5e-3, q8_0 3.0e-5, q2_K 8.5e-2, q3_K 2.3e-2, q4_K 4.9e-3, q5_K 1.3e-3, q6_K 3.4e-4, q8_K 4.2e-5.
constexpr TypeBound kBounds[] = {
    {DType::f32, 0.0},      {DType::f16, 6e-8},     {DType::bf16, 3.5e-6},  {DType::q4_0, 1.1e-2},
    {DType::q4_1, 7.5e-3},  {DType::q5_0, 2.7e-3},  {DType::q5_1, 2.0e-3},  {DType::q8_0, 4.0e-5},
    {DType::q2_k, 1.1e-1},  {DType::q3_k, 3.0e-2},  {DType::q4_k, 6.5e-3},  {DType::q5_k, 1.7e-3},
    {DType::q6_k, 4.5e-4},  {DType::q8_k, 5.5e-5},
};

std::vector<float> gaussian(size_t n, uint32_t seed, float scale = 1.0f, float offset = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = offset + scale * dist(rng);
  return v;
}

// Quantizes and dequantizes one row; checks that nothing is written past the row's bytes.
std::vector<float> round_trip(DType type, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  const size_t bytes = row_bytes(type, n);
  std::vector<uint8_t> q(bytes + 64, uint8_t{0xcd});
  quantize_row(type, x.data(), q.data(), n);
  for (size_t i = bytes; i < q.size(); ++i) EXPECT_EQ(q[i], 0xcd) << dtype_name(type) << ": wrote past the row";
  std::vector<float> y(x.size() + 16, -7.0f);
  dequantize_row(type, q.data(), y.data(), n);
  for (size_t i = x.size(); i < y.size(); ++i) EXPECT_EQ(y[i], -7.0f) << dtype_name(type) << ": wrote past the row";
  y.resize(x.size());
  return y;
}

TEST(QuantBlocks, SizesMatchDtypeTable) {
  EXPECT_EQ(dtype_traits(DType::q4_0).block_bytes, sizeof(BlockQ4_0));
  EXPECT_EQ(dtype_traits(DType::q4_1).block_bytes, sizeof(BlockQ4_1));
  EXPECT_EQ(dtype_traits(DType::q5_0).block_bytes, sizeof(BlockQ5_0));
  EXPECT_EQ(dtype_traits(DType::q5_1).block_bytes, sizeof(BlockQ5_1));
  EXPECT_EQ(dtype_traits(DType::q8_0).block_bytes, sizeof(BlockQ8_0));
  EXPECT_EQ(dtype_traits(DType::q2_k).block_bytes, sizeof(BlockQ2_K));
  EXPECT_EQ(dtype_traits(DType::q3_k).block_bytes, sizeof(BlockQ3_K));
  EXPECT_EQ(dtype_traits(DType::q4_k).block_bytes, sizeof(BlockQ4_K));
  EXPECT_EQ(dtype_traits(DType::q5_k).block_bytes, sizeof(BlockQ5_K));
  EXPECT_EQ(dtype_traits(DType::q6_k).block_bytes, sizeof(BlockQ6_K));
  EXPECT_EQ(dtype_traits(DType::q8_k).block_bytes, sizeof(BlockQ8_K));
  for (DType t : {DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0}) {
    EXPECT_EQ(dtype_traits(t).block_size, kQk);
  }
  for (DType t : {DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k, DType::q8_k}) {
    EXPECT_EQ(dtype_traits(t).block_size, kQkK);
  }
}

TEST(QuantDispatch, RejectsPartialBlocks) {
  std::vector<float> x(512, 1.0f);
  std::vector<uint8_t> q(4096);
  EXPECT_THROW(quantize_row(DType::q4_0, x.data(), q.data(), 33), Error);
  EXPECT_THROW(dequantize_row(DType::q4_k, q.data(), x.data(), 128), Error);
  EXPECT_THROW(quantize_row(DType::q8_0, x.data(), q.data(), -32), Error);
  EXPECT_NO_THROW(quantize_row(DType::f16, x.data(), q.data(), 3));
  EXPECT_NO_THROW(quantize_row(DType::q6_k, x.data(), q.data(), 0));
}

class QuantRoundTrip : public ::testing::TestWithParam<TypeBound> {};

TEST_P(QuantRoundTrip, GaussianNmseWithinBound) {
  const TypeBound& b = GetParam();
  const std::vector<float> x = gaussian(16 * 1024, 1234);
  const double e = nmse(round_trip(b.type, x), x);
  EXPECT_LE(e, b.max_nmse) << dtype_name(b.type);
  if (b.type != DType::f32) {
    EXPECT_GT(e, 0.0) << dtype_name(b.type) << ": a lossy type came back exact";
  }
}

TEST_P(QuantRoundTrip, ScaleInvariantForPowersOfTwo) {
  // Scaling the input by 2^k (inside f16 range) scales every stored scale by 2^k and nothing else: the
  // dequantized values scale exactly (float types: power-of-two scaling commutes with rounding here).
  const DType type = GetParam().type;
  const std::vector<float> x = gaussian(2048, 99);
  std::vector<float> x8(x.size());
  for (size_t i = 0; i < x.size(); ++i) x8[i] = x[i] * 8.0f;
  const std::vector<float> y = round_trip(type, x);
  const std::vector<float> y8 = round_trip(type, x8);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(y8[i], y[i] * 8.0f) << dtype_name(type) << " at " << i;
}

TEST_P(QuantRoundTrip, ZerosStayZero) {
  const DType type = GetParam().type;
  const std::vector<float> x(512, 0.0f);
  const std::vector<float> y = round_trip(type, x);
  for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(type);
}

TEST_P(QuantRoundTrip, OffsetDataAndConstants) {
  const TypeBound& b = GetParam();
  // Data far from zero (the affine types' min matters) and a constant row.
  const std::vector<float> x = gaussian(4096, 7, 0.5f, 10.0f);
  const double e = nmse(round_trip(b.type, x), x);
  EXPECT_LE(e, b.max_nmse) << dtype_name(b.type);
  const std::vector<float> c(512, 3.25f);
  const std::vector<float> yc = round_trip(b.type, c);
  for (float v : yc) ASSERT_NEAR(v, 3.25f, 3.25f * 0.07f) << dtype_name(b.type);
}

TEST_P(QuantRoundTrip, DeterministicAndFiniteOnNonFiniteInput) {
  // Kernels must not crash or hit UB on inf/NaN (the output is unspecified but must be reproducible).
  const DType type = GetParam().type;
  std::vector<float> x = gaussian(512, 3);
  x[5] = INFINITY;
  x[300] = NAN;
  x[301] = -INFINITY;
  const size_t bytes = row_bytes(type, 512);
  std::vector<uint8_t> a(bytes);
  std::vector<uint8_t> b(bytes);
  quantize_row(type, x.data(), a.data(), 512);
  quantize_row(type, x.data(), b.data(), 512);
  EXPECT_EQ(a, b) << dtype_name(type);
}

INSTANTIATE_TEST_SUITE_P(Quant, QuantRoundTrip, ::testing::ValuesIn(kBounds),
                         [](const ::testing::TestParamInfo<TypeBound>& p) {
                           std::string s(dtype_name(p.param.type));
                           return s;
                         });

TEST(QuantLegacy, RoundingRulesOnExactTies) {
  // q8_0 rounds halfway away from zero: amax 127 gives d = 1, so 2.5 -> 3 and -2.5 -> -3.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.5f;
  BlockQ8_0 q8{};
  quantize_row_q8_0(x.data(), &q8, 32);
  EXPECT_EQ(q8.qs[1], 3);
  EXPECT_EQ(q8.qs[2], -3);
  EXPECT_EQ(q8.qs[3], 1);
  // q4_0: max -8 gives d = 1; q = (int)(x + 8.5) rounds halfway up: -2.5 -> 6 (value -2), 2.5 -> 11 (3).
  std::vector<float> y(32, 0.0f);
  y[0] = -8.0f;
  y[1] = -2.5f;
  y[2] = 2.5f;
  y[3] = 7.9f;  // clamps at 15
  BlockQ4_0 q4{};
  quantize_row_q4_0(y.data(), &q4, 32);
  EXPECT_EQ(q4.qs[1] & 0x0f, 6);
  EXPECT_EQ(q4.qs[2] & 0x0f, 11);
  EXPECT_EQ(q4.qs[3] & 0x0f, 15);
  EXPECT_EQ(q4.qs[0] & 0x0f, 0);
  // First of equal magnitudes wins: +8 first gives d = -1.
  y[0] = 8.0f;
  y[1] = -8.0f;
  quantize_row_q4_0(y.data(), &q4, 32);
  EXPECT_EQ(q4.d, 0xbc00);  // f16 -1.0
}

TEST(QuantLegacy, LayoutOfNibblesAndHighBits) {
  // Values 0..31 of a q5_1 block: low nibble of qs[j] is value j, high nibble value j+16, qh bit j the 5th bit.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j);  // min 0, d = 1 -> q = j
  BlockQ5_1 b{};
  quantize_row_q5_1(x.data(), &b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(b.qs[j] & 0x0f, j);
    EXPECT_EQ(b.qs[j] >> 4, j & 0x0f);  // value j + 16 = 16 + j: low 4 bits j
  }
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  EXPECT_EQ(qh, 0xffff0000u);
  std::vector<float> y(32);
  dequantize_row_q5_1(&b, y.data(), 32);
  EXPECT_EQ(y, x);
}

TEST(QuantKQuants, Q8KBlockSums) {
  const std::vector<float> x = gaussian(512, 11);
  BlockQ8_K b[2];
  quantize_row_q8_k(x.data(), b, 512);
  for (const BlockQ8_K& blk : b) {
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int k = 0; k < 16; ++k) sum += blk.qs[16 * g + k];
      EXPECT_EQ(blk.bsums[g], sum);
    }
  }
}

}  // namespace
}  // namespace owl
