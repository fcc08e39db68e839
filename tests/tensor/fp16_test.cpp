// fp16/bf16 conversions (src/base/fp16.h): edge cases written out by hand, every half against a closed-form
// value, and float -> half against an independent nearest-neighbour reference (ties to even, overflow to inf).
// Lives under tests/tensor because the quantizers are its main user (quant-goldens pin the same rounding).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "base/fp16.h"

namespace owl {
namespace {

float f32(uint32_t bits) { return std::bit_cast<float>(bits); }
uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }

// The value of a finite half from its fields, in double: (-1)^s * 2^(e-15) * (1 + m/1024), or 2^-14 * m/1024.
double half_value(uint16_t h) {
  const int s = h >> 15;
  const int e = (h >> 10) & 0x1f;
  const int m = h & 0x3ff;
  const double v = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
  return s ? -v : v;
}

// Independent float -> half: the nearest of the 31745 non-negative finite halves (and 65536 standing for
// +inf), ties to the even bit pattern. Slow but obviously right.
uint16_t reference_to_half(float f) {
  static const std::vector<double> values = [] {
    std::vector<double> v;
    for (uint32_t h = 0; h <= 0x7c00; ++h) v.push_back(h == 0x7c00 ? 65536.0 : half_value(static_cast<uint16_t>(h)));
    return v;
  }();
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 65536.0) return sign | 0x7c00;
  const auto it = std::lower_bound(values.begin(), values.end(), a);
  auto hi = static_cast<uint16_t>(it - values.begin());
  if (values[hi] == a) return sign | hi;
  const auto lo = static_cast<uint16_t>(hi - 1);
  const double dlo = a - values[lo];
  const double dhi = values[hi] - a;
  if (dlo < dhi) return sign | lo;
  if (dhi < dlo) return sign | hi;
  return sign | ((lo & 1) == 0 ? lo : hi);
}

TEST(Fp16, ToFloatEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto hh = static_cast<uint16_t>(h);
    const float f = fp16_to_fp32(hh);
    const int e = (h >> 10) & 0x1f;
    if (e == 0x1f) {
      if ((h & 0x3ff) == 0) {
        EXPECT_TRUE(std::isinf(f)) << h;
      } else {
        EXPECT_TRUE(std::isnan(f)) << h;
        EXPECT_NE(bits(f) & 0x400000u, 0u) << "NaN not quiet: " << h;
      }
      EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0);
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), half_value(hh)) << h;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;
    ASSERT_EQ(fp32_to_fp16(f), hh) << "round trip " << h;
  }
}

TEST(Fp16, FromFloatEdgeCases) {
  EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(-2.0f), 0xc000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7bff);            // below the midpoint 65520
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);            // the midpoint ties to even: +inf
  EXPECT_EQ(fp32_to_fp16(65535.0f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(65536.0f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-1e10f), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(INFINITY), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-INFINITY), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(NAN), 0x7e00);                 // ggml's canonical quiet NaN
  EXPECT_EQ(fp32_to_fp16(f32(0xffc12345u)), 0xfe00);    // sign kept
  EXPECT_EQ(fp32_to_fp16(f32(0x7f800001u)), 0x7e00);    // signalling NaN made quiet, never inf
  // Mantissa ties in the normal range: 1 + 2^-11 is halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);
  EXPECT_EQ(fp32_to_fp16(std::nextafter(1.0f + 0x1p-11f, 2.0f)), 0x3c01);
  EXPECT_EQ(fp32_to_fp16(2047.0f / 1024.0f + 0x1p-11f), 0x4000);  // carry into the exponent
  // Subnormals: 2^-24 is the smallest; 2^-25 ties to even (0); just above rounds up.
  EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001);
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0x1p-25f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(3 * 0x1p-25f), 0x0002);        // 1.5 units: ties to even 2
  EXPECT_EQ(fp32_to_fp16(5 * 0x1p-25f), 0x0002);        // 2.5 units: ties to even 2
  EXPECT_EQ(fp32_to_fp16(1023 * 0x1p-24f), 0x03ff);     // largest subnormal
  EXPECT_EQ(fp32_to_fp16(1023.5f * 0x1p-24f), 0x0400);  // ties up to the smallest normal (even)
  EXPECT_EQ(fp32_to_fp16(0x1p-14f), 0x0400);
  EXPECT_EQ(fp32_to_fp16(1e-30f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(f32(0x00000001u)), 0x0000);    // float32 subnormals vanish
  EXPECT_EQ(fp32_to_fp16(f32(0x807fffffu)), 0x8000);
}

TEST(Fp16, FromFloatMatchesNearestNeighbour) {
  // Every float whose exponent can reach a half (plus some beyond), at a stride that visits every rounding
  // position, and the exact midpoints between neighbouring halves and their float neighbours.
  for (uint64_t b = 0x30000000u; b < 0x47900000u; b += 4093) {
    for (uint32_t sign : {0u, 0x80000000u}) {
      const float f = f32(static_cast<uint32_t>(b) | sign);
      ASSERT_EQ(fp32_to_fp16(f), reference_to_half(f)) << std::hex << bits(f);
    }
  }
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const double mid = (half_value(static_cast<uint16_t>(h)) +
                        (h + 1 == 0x7c00 ? 65536.0 : half_value(static_cast<uint16_t>(h + 1)))) / 2;
    const auto m = static_cast<float>(mid);  // exact: a half midpoint has at most 12 significant bits
    for (float f : {m, std::nextafter(m, 0.0f), std::nextafter(m, INFINITY)}) {
      ASSERT_EQ(fp32_to_fp16(f), reference_to_half(f)) << std::hex << bits(f);
      ASSERT_EQ(fp32_to_fp16(-f), reference_to_half(-f)) << std::hex << bits(f);
    }
  }
}

TEST(Fp16, Bf16EdgeCases) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_bf16(f32(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(f32(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(f32(0x3f808001u)), 0x3f81);  // above the tie
  EXPECT_EQ(fp32_to_bf16(f32(0x3f807fffu)), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(f32(0x7f7fffffu)), 0x7f80);  // FLT_MAX overflows to +inf
  EXPECT_EQ(fp32_to_bf16(f32(0x7f7f7fffu)), 0x7f7f);
  EXPECT_EQ(fp32_to_bf16(INFINITY), 0x7f80);
  EXPECT_EQ(fp32_to_bf16(-INFINITY), 0xff80);
  EXPECT_EQ(fp32_to_bf16(f32(0x7f800001u)), 0x7fc0);  // signalling NaN: upper bits, quiet bit set
  EXPECT_EQ(fp32_to_bf16(f32(0xffc12345u)), 0xffc1);
  // float32 subnormals are kept (ggml's reference no longer flushes them).
  EXPECT_EQ(fp32_to_bf16(f32(0x00018000u)), 0x0002);
  EXPECT_EQ(fp32_to_bf16(f32(0x00008000u)), 0x0000);
  EXPECT_EQ(fp32_to_bf16(f32(0x00008001u)), 0x0001);
  EXPECT_EQ(fp32_to_bf16(f32(0x807fffffu)), 0x8080);  // rounds up into the smallest normal
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_fp32(static_cast<uint16_t>(h));
    ASSERT_EQ(bits(f), h << 16);
    if (!std::isnan(f)) {
      ASSERT_EQ(fp32_to_bf16(f), h);
    }
  }
}

TEST(Fp16, Bf16MatchesNearestEven) {
  // Against the definition: the nearer of the two bf16 neighbours, ties to the even one.
  for (uint64_t b = 0; b < 0x7f800000u; b += 65521) {
    const auto x = static_cast<uint32_t>(b);
    const uint32_t lo = x & 0xffff0000u;
    const uint32_t rest = x & 0xffffu;
    uint32_t want = lo >> 16;
    if (rest > 0x8000u || (rest == 0x8000u && (want & 1u))) ++want;
    ASSERT_EQ(fp32_to_bf16(f32(x)), want) << std::hex << x;
    ASSERT_EQ(fp32_to_bf16(f32(x | 0x80000000u)), want | 0x8000u) << std::hex << x;
  }
}

}  // namespace
}  // namespace owl
