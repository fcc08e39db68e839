// Every SIMD kernel against the scalar reference (llama.cpp's test-backend-ops idea: fast kernels
// checked by NMSE against a reference): unpackers, activation quantisation, interleave, the integer
// GEMM, float conversions, and ops::matmul end to end for every weight type, ISA and thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/packed.h"
#include "nmse.h"
#include "ops/matmul.h"
#include "ops/packed_matrix.h"
#include "tensor/quant.h"

namespace {

using owl::DType;
namespace kn = owl::kernels;

std::vector<kn::Isa> simd_isas() {
  std::vector<kn::Isa> out;
  for (kn::Isa isa : {kn::Isa::avx2, kn::Isa::avx512}) {
    if (kn::isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

std::vector<float> random_floats(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

const std::vector<DType> kQuantTypes = {DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0,
                                        DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k};

struct QuantWeight {
  std::vector<uint8_t> bytes;
  owl::Weight w;
};

QuantWeight make_weight(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  QuantWeight q;
  const auto f = random_floats(rows * cols, seed);
  q.bytes.resize(owl::row_bytes(type, cols) * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    owl::quantize_row(type, f.data() + r * cols, q.bytes.data() + r * owl::row_bytes(type, cols), cols);
  }
  q.w.name = "test";
  q.w.type = type;
  q.w.data = q.bytes.data();
  q.w.rows = rows;
  q.w.cols = cols;
  return q;
}

int64_t cols_for(DType type, int variant) {
  const int64_t block = owl::dtype_traits(type).block_size;
  if (block == 256) return variant == 0 ? 256 : 768;  // 768: not a multiple of 512
  return variant == 0 ? 96 : 1056;                    // not multiples of 64: padding paths
}

// NMSE allowed between the integer path (8-bit activations) and the float reference, per type.
double threshold(DType type) {
  switch (type) {
    case DType::q8_0:
      return 2e-4;
    default:
      return 5e-4;
  }
}

TEST(Kernels, UnpackersMatchReferenceAndDequantize) {
  kn::UnpackFn ref_fns[32] = {};
  kn::ref::fill_unpackers(ref_fns);
  for (DType type : kQuantTypes) {
    const int g = kn::unpack_group(static_cast<uint32_t>(type));
    ASSERT_GT(g, 0) << owl::dtype_name(type);
    const int64_t cols = cols_for(type, 1);
    const auto q = make_weight(type, 1, cols, 7);
    std::vector<uint8_t> u(static_cast<size_t>(cols));
    std::vector<float> s(static_cast<size_t>(cols / g)), m(s.size()), deq(static_cast<size_t>(cols));
    ref_fns[static_cast<int>(type)](q.w.row(0), cols, u.data(), s.data(), m.data());
    owl::dequantize_row(type, q.w.row(0), deq.data(), cols);
    for (int64_t i = 0; i < cols; ++i) {
      const float v = s[static_cast<size_t>(i / g)] * u[static_cast<size_t>(i)] + m[static_cast<size_t>(i / g)];
      ASSERT_NEAR(v, deq[static_cast<size_t>(i)], 1e-5f * (1.0f + std::fabs(deq[static_cast<size_t>(i)])))
          << owl::dtype_name(type) << " value " << i;
    }
    for (kn::Isa isa : simd_isas()) {
      std::vector<uint8_t> u2(u.size());
      std::vector<float> s2(s.size()), m2(m.size());
      kn::table_for(isa).unpack[static_cast<int>(type)](q.w.row(0), cols, u2.data(), s2.data(), m2.data());
      EXPECT_EQ(u2, u) << owl::dtype_name(type) << " " << kn::isa_name(isa);
      EXPECT_EQ(s2, s) << owl::dtype_name(type) << " " << kn::isa_name(isa);
      EXPECT_EQ(m2, m) << owl::dtype_name(type) << " " << kn::isa_name(isa);
    }
  }
}

// Each SIMD ISA's pieces of the integer path (those it has: AVX2 has no interleave) against the scalar ones.
TEST(Kernels, IntegerPiecesMatchReferenceBitForBit) {
  for (kn::Isa isa : simd_isas()) {
    const kn::KernelTable& t = kn::table_for(isa);
    for (int64_t k : {32, 96, 256, 1024, 1056}) {
      // Activations per 32 values (the legacy types) and per 256 (the K-quants; a last short block too).
      for (int block : {32, 256}) {
        const int64_t kp = (k + 63) / 64 * 64;
        const int64_t n_tokens = 11;
        const auto x = random_floats(k * n_tokens, 3, 2.0f);
        std::vector<int8_t> q[2];
        std::vector<float> d16[2], s16[2], d32[2], s32[2];
        std::vector<int32_t> sq16[2], sq32[2];
        for (int v = 0; v < 2; ++v) {
          q[v].assign(static_cast<size_t>(kp * n_tokens), 0);
          d16[v].assign(static_cast<size_t>(kp / 16 * n_tokens), 0);
          s16[v] = d16[v];
          d32[v].assign(static_cast<size_t>(kp / 32 * n_tokens), 0);
          s32[v] = d32[v];
          sq16[v].assign(d16[v].size(), 0);
          sq32[v].assign(d32[v].size(), 0);
          auto fn = v == 0 ? kn::ref::quantize_acts : t.quantize_acts;
          for (int64_t i = 0; i < n_tokens; ++i) {
            fn(x.data() + i * k, k, kp, block, q[v].data() + i * kp, d16[v].data() + i * kp / 16,
               s16[v].data() + i * kp / 16, d32[v].data() + i * kp / 32, s32[v].data() + i * kp / 32,
               sq16[v].data() + i * kp / 16, sq32[v].data() + i * kp / 32);
          }
        }
        const std::string what =
            std::string(kn::isa_name(isa)) + " k " + std::to_string(k) + " block " + std::to_string(block);
        ASSERT_EQ(q[0], q[1]) << what;
        ASSERT_EQ(d16[0], d16[1]) << what;
        ASSERT_EQ(s16[0], s16[1]) << what;
        ASSERT_EQ(s32[0], s32[1]) << what;
        ASSERT_EQ(sq16[0], sq16[1]) << what;
        ASSERT_EQ(sq32[0], sq32[1]) << what;
        for (int64_t b = 0; b < kp / 32 * n_tokens; ++b) {
          int32_t sum = 0;
          for (int i = 0; i < 32; ++i) sum += q[0][static_cast<size_t>(b * 32 + i)];
          ASSERT_EQ(sq32[0][static_cast<size_t>(b)], sum) << what;
          ASSERT_EQ(sq16[0][static_cast<size_t>(2 * b)] + sq16[0][static_cast<size_t>(2 * b + 1)], sum) << what;
          // One scale per block: every 32 values of a block carry the same d (blocks start each token).
          const int64_t j = b % (kp / 32);
          ASSERT_EQ(d32[0][static_cast<size_t>(b)], d32[0][static_cast<size_t>(b - j % (block / 32))]) << what;
        }
        if (block == 256 && kp % 256 != 0) continue;  // the K-quants' rows are whole super-blocks
        if (t.interleave == nullptr || t.gemm_q16 == nullptr) continue;
        const kn::QuantActs a{q[0].data(),   d16[0].data(),  s16[0].data(), d32[0].data(),
                              s32[0].data(), sq16[0].data(), sq32[0].data()};
        for (int g : {16, 32}) {
          const int block_groups = block == 256 ? 256 / g : 1;
          std::mt19937 rng(static_cast<uint32_t>(k + g));
          std::vector<uint8_t> u(static_cast<size_t>(16 * kp));
          for (auto& b : u) b = static_cast<uint8_t>(rng());
          const auto s = random_floats(16 * kp / g, 5, 0.01f);
          const auto m = random_floats(16 * kp / g, 6, 0.01f);
          std::vector<uint8_t> u_il[2];
          std::vector<float> s_il[2], m_il[2];
          for (int v = 0; v < 2; ++v) {
            u_il[v].assign(u.size(), 0);
            s_il[v].assign(s.size(), 0);
            m_il[v].assign(m.size(), 0);
            (v == 0 ? kn::ref::interleave : t.interleave)(u.data(), s.data(), m.data(), kp, g, u_il[v].data(),
                                                          s_il[v].data(), m_il[v].data());
          }
          EXPECT_EQ(u_il[0], u_il[1]) << what << " g " << g;
          EXPECT_EQ(s_il[0], s_il[1]) << what << " g " << g;
          // A float offset (m), and a whole one (c = -8: the sums start at c * sum(q), m is not read).
          for (int c : {0, -8}) {
            std::vector<int8_t> tq(static_cast<size_t>(kn::tiled_q_size(n_tokens, kp)));
            std::vector<float> td(static_cast<size_t>(kn::tiled_scale_size(n_tokens, kp, g))), ts(td.size());
            std::vector<int32_t> to(td.size());
            kn::tile_acts(a, n_tokens, kp, g, block_groups, c, tq.data(), td.data(), ts.data(), to.data());
            const kn::TiledActs tiled{tq.data(), td.data(), ts.data(), c != 0 ? to.data() : nullptr, block_groups};
            std::vector<float> out[2];
            for (int v = 0; v < 2; ++v) {
              out[v].assign(static_cast<size_t>(16 * n_tokens), 0);
              (v == 0 ? kn::ref::gemm_q16 : t.gemm_q16)(u_il[0].data(), s_il[0].data(), m_il[0].data(), kp, g, tiled,
                                                        n_tokens, out[v].data());
            }
            EXPECT_EQ(out[0], out[1]) << what << " g " << g << " c " << c;
            // The exact products: sum over values of (s u + m) q d, in double (m = c s for a whole offset).
            std::vector<float> exact(out[0].size());
            for (int64_t tk = 0; tk < n_tokens; ++tk) {
              for (int r = 0; r < 16; ++r) {
                double sum = 0;
                for (int64_t i = 0; i < kp; ++i) {
                  const auto j = static_cast<size_t>(r * (kp / g) + i / g);
                  const double w =
                      s[j] * (u[static_cast<size_t>(r * kp + i)] + (c != 0 ? c : 0)) + (c != 0 ? 0.0 : m[j]);
                  sum +=
                      w * q[0][static_cast<size_t>(tk * kp + i)] * d32[0][static_cast<size_t>(tk * kp / 32 + i / 32)];
                }
                exact[static_cast<size_t>(tk * 16 + r)] = static_cast<float>(sum);
              }
            }
            EXPECT_LT(nmse(out[0], exact), 1e-10) << what << " g " << g << " c " << c;
          }
        }
      }
    }
  }
}

TEST(Kernels, FloatKernelsMatchReference) {
  for (kn::Isa isa : simd_isas()) {
    const kn::KernelTable& t = kn::table_for(isa);
    for (int64_t n : {1, 7, 16, 33, 100, 1000}) {
      const auto a = random_floats(n, 1);
      const auto b = random_floats(n, 2);
      const float r = kn::ref::dot_f32_row(a.data(), b.data(), n);
      EXPECT_NEAR(t.dot_f32(a.data(), b.data(), n), r, 1e-5 * std::sqrt(static_cast<double>(n)) * 4) << n;
      std::vector<uint16_t> h(static_cast<size_t>(n)), bf(static_cast<size_t>(n));
      std::mt19937 rng(static_cast<uint32_t>(n));
      for (auto& v : h) v = static_cast<uint16_t>(rng() & 0x7bff);  // no inf/nan
      for (auto& v : bf) v = static_cast<uint16_t>(rng() & 0x7f7f);
      std::vector<float> r1(h.size()), r2(h.size());
      kn::ref::f16_to_f32(h.data(), r1.data(), n);
      t.f16_to_f32(h.data(), r2.data(), n);
      EXPECT_EQ(r1, r2) << kn::isa_name(isa) << " f16 n " << n;
      kn::ref::bf16_to_f32(bf.data(), r1.data(), n);
      t.bf16_to_f32(bf.data(), r2.data(), n);
      EXPECT_EQ(r1, r2) << kn::isa_name(isa) << " bf16 n " << n;
    }
  }
}

TEST(Kernels, AttentionAndActivationKernelsMatchReference) {
  const kn::KernelTable& ref = kn::table_for(kn::Isa::ref);
  for (kn::Isa isa : simd_isas()) {
    const kn::KernelTable& t = kn::table_for(isa);
    for (int64_t d : {64, 80, 128, 200}) {
      for (int64_t n : {1, 3, 17, 100}) {
        const int64_t stride = d + 24;  // rows of a wider cache, as several KV heads
        const auto q = random_floats(4 * stride, 1);
        const auto kv = random_floats(n * stride, 2);
        for (int nq = 1; nq <= kn::kMaxQueries; ++nq) {
          // Scores and weighted sums of nq queries at once against the reference one query at a time.
          std::vector<float> s1(static_cast<size_t>(4 * n)), s2(s1.size());
          for (int j = 0; j < nq; ++j)
            ref.dot_rows(q.data() + j * stride, stride, 1, kv.data(), stride, n, d, 0.125f, s1.data() + j * n, n);
          t.dot_rows(q.data(), stride, nq, kv.data(), stride, n, d, 0.125f, s2.data(), n);
          s1.resize(static_cast<size_t>(nq * n));
          s2.resize(s1.size());
          EXPECT_LE(nmse(s2, s1), 1e-10) << kn::isa_name(isa) << " dot_rows d " << d << " n " << n << " nq " << nq;
          std::vector<float> o1(static_cast<size_t>(nq * d)), o2(o1.size());
          for (int j = 0; j < nq; ++j)
            ref.weighted_sum(s1.data() + j * n, n, 1, kv.data(), stride, n, d, o1.data() + j * d, d);
          t.weighted_sum(s1.data(), n, nq, kv.data(), stride, n, d, o2.data(), d);
          EXPECT_LE(nmse(o2, o1), 1e-10) << kn::isa_name(isa) << " weighted_sum d " << d << " n " << n << " nq " << nq;
          // A query's numbers do not depend on the others sharing the call.
          std::vector<float> single(static_cast<size_t>(n));
          t.dot_rows(q.data() + (nq - 1) * stride, stride, 1, kv.data(), stride, n, d, 0.125f, single.data(), n);
          for (int64_t p = 0; p < n; ++p)
            ASSERT_EQ(single[static_cast<size_t>(p)], s2[static_cast<size_t>((nq - 1) * n + p)]);
        }
      }
    }
    // RMSNorm and softmax, including softmax's special rows (NaN propagates, all -inf gives zeros).
    for (int64_t n : {5, 64, 1000}) {
      const auto x = random_floats(n, 5, 3.0f);
      const auto w = random_floats(n, 6);
      std::vector<float> r1(static_cast<size_t>(n)), r2(r1.size());
      ref.rms_norm(r1.data(), x.data(), w.data(), n, 1e-5f);
      t.rms_norm(r2.data(), x.data(), w.data(), n, 1e-5f);
      EXPECT_LE(nmse(r2, r1), 1e-12) << kn::isa_name(isa) << " rms_norm n " << n;
      auto p1 = x;
      auto p2 = x;
      ref.softmax(p1.data(), n);
      t.softmax(p2.data(), n);
      EXPECT_LE(nmse(p2, p1), 1e-12) << kn::isa_name(isa) << " softmax n " << n;
    }
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> all_ninf(20, -inf), with_nan(20, 1.0f);
    with_nan[7] = std::nanf("");
    t.softmax(all_ninf.data(), 20);
    t.softmax(with_nan.data(), 20);
    for (float v : all_ninf) EXPECT_EQ(v, 0.0f) << kn::isa_name(isa);
    for (float v : with_nan) EXPECT_TRUE(std::isnan(v)) << kn::isa_name(isa);
    // GeGLU: the tanh through exp, compared in absolute terms (the tanh is added to 1).
    {
      const auto g = random_floats(2000, 8, 3.0f);
      const auto u = random_floats(2000, 9);
      auto e1 = g;
      auto e2 = g;
      ref.geglu(e1.data(), u.data(), 2000);
      t.geglu(e2.data(), u.data(), 2000);
      EXPECT_LE(nmse(e2, e1), 1e-12) << kn::isa_name(isa) << " geglu";
      for (size_t i = 0; i < g.size(); ++i) {
        ASSERT_NEAR(e2[i], e1[i], 1e-6f * (1.0f + std::fabs(g[i] * u[i]))) << kn::isa_name(isa) << " geglu " << g[i];
      }
    }
    // SwiGLU over ordinary and extreme gates (exp overflow and underflow); 2 ulp of expf.
    auto gate = random_floats(1000, 3, 4.0f);
    for (float extreme : {-120.0f, -90.0f, -30.0f, 30.0f, 90.0f, 120.0f}) gate.push_back(extreme);
    const auto up = random_floats(static_cast<int64_t>(gate.size()), 4);
    auto g1 = gate;
    auto g2 = gate;
    ref.swiglu(g1.data(), up.data(), static_cast<int64_t>(g1.size()));
    t.swiglu(g2.data(), up.data(), static_cast<int64_t>(g2.size()));
    for (size_t i = 0; i < g1.size(); ++i) {
      EXPECT_NEAR(g2[i], g1[i], 4e-7f * std::fabs(g1[i]) + 1e-30f) << kn::isa_name(isa) << " swiglu gate " << gate[i];
    }
  }
}

class MatmulIsa : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulIsa, MatchesReferenceForAnyThreadsAndBatch) {
  const DType type = GetParam();
  owl::ThreadPool pool1(1);
  owl::ThreadPool pool2(2);
  const kn::KernelTable& ref = kn::table_for(kn::Isa::ref);
  for (int variant = 0; variant < 2; ++variant) {
    const int64_t cols = type == DType::f32 || type == DType::f16 || type == DType::bf16 ? (variant ? 2500 : 8)
                                                                                         : cols_for(type, variant);
    const int64_t rows = variant ? 53 : 5;  // not multiples of 16
    const auto q = make_weight(type, rows, cols, 11 + static_cast<uint32_t>(variant));
    // 26 tokens of 2500 floats: blocks of 15 + 11 (AVX-512) or 18 + 8 (AVX2), both through
    // panels, each ISA's with a partial token tile.
    for (int64_t n_tokens : {1, 3, 17, 26}) {
      const auto x = random_floats(n_tokens * cols, 21);
      std::vector<float> y_ref(static_cast<size_t>(rows * n_tokens));
      owl::ops::matmul(y_ref.data(), q.w, x.data(), n_tokens, pool2, ref);
      for (kn::Isa isa : simd_isas()) {
        const kn::KernelTable& t = kn::table_for(isa);
        std::vector<float> y1(y_ref.size()), y2(y_ref.size());
        owl::ops::matmul(y1.data(), q.w, x.data(), n_tokens, pool1, t);
        owl::ops::matmul(y2.data(), q.w, x.data(), n_tokens, pool2, t);
        const std::string what = std::string(owl::dtype_name(type)) + " " + std::string(kn::isa_name(isa)) + " rows " +
                                 std::to_string(rows) + " cols " + std::to_string(cols) + " tokens " +
                                 std::to_string(n_tokens);
        EXPECT_EQ(y1, y2) << what << ": thread count changed the result";
        const double e = nmse(y1, y_ref);
        const bool is_float = type == DType::f32 || type == DType::f16 || type == DType::bf16;
        EXPECT_LE(e, is_float ? 1e-10 : threshold(type)) << what;
        // One token at a time gives the same numbers as the batch (decode == prefill).
        std::vector<float> y_one(static_cast<size_t>(rows));
        for (int64_t tk = 0; tk < n_tokens; ++tk) {
          owl::ops::matmul(y_one.data(), q.w, x.data() + tk * cols, 1, pool2, t);
          for (int64_t r = 0; r < rows; ++r) {
            ASSERT_EQ(y_one[static_cast<size_t>(r)], y1[static_cast<size_t>(tk * rows + r)]) << what << " token " << tk;
          }
        }
      }
    }
  }
}

// The reference's integer path (unpack, interleave and gemm_q16, all scalar): the numbers every
// packed kernel must give.
kn::KernelTable scalar_integer_table() {
  kn::KernelTable t = kn::table_for(kn::Isa::ref);
  t.isa = kn::Isa::avx2;  // only a label: matmul sends a table marked ref to its float reference
  t.quantize_acts = kn::ref::quantize_acts;
  t.interleave = kn::ref::interleave;
  t.gemm_q16 = kn::ref::gemm_q16;
  return t;
}

// Weights packed at load give bit-identical results to the scalar unpacking path on every SIMD ISA,
// for odd row counts, padded columns, token counts across the kernels' tiles and the 64-token block,
// and both thread counts.
class PackedMatmul : public ::testing::TestWithParam<DType> {};

TEST_P(PackedMatmul, MatchesUnpackedBitForBit) {
  const DType type = GetParam();
  ASSERT_NE(kn::packed_format(static_cast<uint32_t>(type)), nullptr);
  const kn::KernelTable scalar = scalar_integer_table();
  owl::ThreadPool pool1(1);
  owl::ThreadPool pool2(2);
  for (int variant = 0; variant < 2; ++variant) {
    const int64_t cols = cols_for(type, variant);
    const int64_t rows = variant ? 53 : 16;
    auto q = make_weight(type, rows, cols, 31 + static_cast<uint32_t>(variant));
    for (kn::Isa isa : simd_isas()) {
      const kn::KernelTable& t = kn::table_for(isa);
      owl::Weight packed = q.w;
      ASSERT_TRUE(owl::ops::packs(packed, t));
      packed.packed = owl::ops::pack_matrix(packed, t, pool2);
      ASSERT_NE(packed.packed, nullptr);
      for (int64_t n_tokens : {1, 2, 3, 9, 70}) {
        const auto x = random_floats(n_tokens * cols, 41);
        std::vector<float> y(static_cast<size_t>(rows * n_tokens)), y1(y.size()), y2(y.size());
        owl::ops::matmul(y.data(), q.w, x.data(), n_tokens, pool2, scalar);
        owl::ops::matmul(y1.data(), packed, x.data(), n_tokens, pool1, t);
        owl::ops::matmul(y2.data(), packed, x.data(), n_tokens, pool2, t);
        const std::string what = std::string(owl::dtype_name(type)) + " " + std::string(kn::isa_name(isa)) + " rows " +
                                 std::to_string(rows) + " cols " + std::to_string(cols) + " tokens " +
                                 std::to_string(n_tokens);
        EXPECT_EQ(y1, y) << what;
        EXPECT_EQ(y2, y) << what;
      }
    }
  }
}

// Several matrices sharing an input in one call give what one call each gives, packed or not.
TEST(Kernels, SharedInputMatmulsMatchSeparateOnes) {
  owl::ThreadPool pool(2);
  const kn::KernelTable& t = kn::active();
  std::vector<QuantWeight> ws;
  for (int64_t rows : {53, 16, 5}) ws.push_back(make_weight(DType::q4_k, rows, 512, static_cast<uint32_t>(rows)));
  ws.push_back(make_weight(DType::q4_0, 40, 512, 9));
  for (bool pack : {true, false}) {
    std::vector<owl::Weight> w;
    for (const auto& q : ws) {
      w.push_back(q.w);
      if (pack) w.back().packed = owl::ops::pack_matrix(w.back(), t, pool);
    }
    for (int64_t n_tokens : {1, 5, 70}) {
      const auto x = random_floats(n_tokens * 512, 7);
      std::vector<std::vector<float>> together(w.size()), alone(w.size());
      std::vector<owl::ops::MatmulOutput> outs;
      for (size_t i = 0; i < w.size(); ++i) {
        together[i].resize(static_cast<size_t>(w[i].rows * n_tokens));
        alone[i].resize(together[i].size());
        outs.push_back({together[i].data(), &w[i]});
        owl::ops::matmul(alone[i].data(), w[i], x.data(), n_tokens, pool, t);
      }
      owl::ops::matmul(outs, x.data(), n_tokens, pool, t);
      for (size_t i = 0; i < w.size(); ++i)
        EXPECT_EQ(together[i], alone[i]) << "matrix " << i << " tokens " << n_tokens;
    }
  }
}

// Every table's dequantizers give dequantize_row's numbers bit for bit, also for scales at the
// edges of float16 (subnormal, the largest finite, negative, zero).
TEST(Kernels, DequantizersMatchReferenceBitForBit) {
  for (DType type : kQuantTypes) {
    const int64_t cols = cols_for(type, 1);
    auto q = make_weight(type, 4, cols, 5);
    // Rows 1-3: every block's scale replaced by an edge value (offset d first in every legacy block).
    const size_t block_bytes = owl::dtype_traits(type).block_bytes;
    if (owl::dtype_traits(type).block_size == 32) {
      const uint16_t edges[3] = {0x0001, 0x7bff, 0x8000 | 0x3c00};
      for (int r = 1; r < 4; ++r) {
        for (size_t off = 0; off < owl::row_bytes(type, cols); off += block_bytes) {
          std::memcpy(q.bytes.data() + r * owl::row_bytes(type, cols) + off, &edges[r - 1], 2);
        }
      }
    }
    for (int64_t r = 0; r < 4; ++r) {
      std::vector<float> want(static_cast<size_t>(cols));
      owl::dequantize_row(type, q.w.row(r), want.data(), cols);
      for (kn::Isa isa : {kn::Isa::ref, kn::Isa::avx2, kn::Isa::avx512}) {
        if (!kn::isa_supported(isa)) continue;
        const kn::DequantizeFn f = kn::table_for(isa).dequantize[static_cast<int>(type)];
        ASSERT_NE(f, nullptr) << owl::dtype_name(type) << " " << kn::isa_name(isa);
        std::vector<float> got(want.size(), -1.0f);
        f(q.w.row(r), got.data(), cols);
        EXPECT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * sizeof(float)))
            << owl::dtype_name(type) << " " << kn::isa_name(isa) << " row " << r;
      }
    }
  }
}

// Every table's quantizers write quantize_row's bytes, for ordinary rows and for the blocks that
// test the scan and the rounding: zeros, ties of +a and -a, infinities, NaNs, tiny and huge scales,
// values on the rounding boundaries.
TEST(Kernels, QuantizersMatchReferenceBitForBit) {
  constexpr int64_t kCols = 32 * 40;
  std::vector<float> x = random_floats(kCols, 9);
  auto block = [&](int b) { return x.data() + 32 * b; };
  std::fill_n(block(0), 32, 0.0f);
  block(1)[3] = 5.0f, block(1)[20] = -5.0f;  // a tie: the first wins
  block(2)[7] = -5.0f, block(2)[9] = 5.0f;
  block(3)[1] = std::numeric_limits<float>::infinity();
  block(4)[30] = -std::numeric_limits<float>::infinity();
  block(5)[0] = std::numeric_limits<float>::quiet_NaN();
  block(6)[17] = std::numeric_limits<float>::quiet_NaN(), block(6)[18] = 100.0f;
  for (int j = 0; j < 32; ++j) block(7)[j] *= 1e-30f;                            // scale below float16's range
  for (int j = 0; j < 32; ++j) block(8)[j] *= 1e30f;                             // scale above it
  for (int j = 0; j < 32; ++j) block(9)[j] = static_cast<float>(j - 16) * 0.5f;  // exact halves
  for (int j = 0; j < 32; ++j) block(10)[j] = static_cast<float>(j % 17 - 8);    // exact integers
  block(11)[5] = -0.0f;
  for (DType type : kQuantTypes) {
    const int64_t cols = kCols - kCols % owl::dtype_traits(type).block_size;
    std::vector<uint8_t> want(owl::row_bytes(type, cols));
    owl::quantize_row(type, x.data(), want.data(), cols);
    for (kn::Isa isa : {kn::Isa::ref, kn::Isa::avx2, kn::Isa::avx512}) {
      if (!kn::isa_supported(isa)) continue;
      const kn::QuantizeFn f = kn::table_for(isa).quantize[static_cast<int>(type)];
      ASSERT_NE(f, nullptr) << owl::dtype_name(type) << " " << kn::isa_name(isa);
      std::vector<uint8_t> got(want.size(), 0xa5);
      f(x.data(), got.data(), cols);
      const size_t block_bytes = owl::dtype_traits(type).block_bytes;
      for (size_t b = 0; b < want.size() / block_bytes; ++b) {
        ASSERT_EQ(0, std::memcmp(got.data() + b * block_bytes, want.data() + b * block_bytes, block_bytes))
            << owl::dtype_name(type) << " " << kn::isa_name(isa) << " block " << b;
      }
    }
  }
}

// The transposed product of training: every ISA against the reference, sizes that leave every
// kind of edge (tokens past the register tile, a partial vector of columns, strides wider than
// the width). The SIMD ISAs run one FMA chain per value in row order, so they agree bit for bit.
TEST(Kernels, AddRowsProductMatchesReference) {
  // n from 7 to 14: every short last tile, split with the one before, of both ISAs' 6 and 8 tokens.
  for (const auto& [n, rows, width] : {std::array<int64_t, 3>{7, 37, 45}, {13, 64, 96}, {1, 5, 3}, {9, 130, 53},
                                       {8, 21, 40}, {10, 17, 33}, {11, 9, 16}, {14, 33, 70}}) {
    const int64_t dx_stride = width + 3, w_stride = width + 5;
    const auto dy = random_floats(n * rows, 31), w = random_floats(rows * w_stride, 32);
    const auto start = random_floats(n * dx_stride, 33);
    auto want = start;
    kn::table_for(kn::Isa::ref)
        .add_rows_product(want.data(), dx_stride, dy.data(), rows, w.data(), w_stride, n, rows, width);
    std::vector<float> first;
    for (kn::Isa isa : simd_isas()) {
      auto got = start;
      kn::table_for(isa).add_rows_product(got.data(), dx_stride, dy.data(), rows, w.data(), w_stride, n, rows, width);
      const std::string what =
          std::string(kn::isa_name(isa)) + " n " + std::to_string(n) + " width " + std::to_string(width);
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-5f * (1.0f + std::fabs(want[i]))) << what << " " << i;
      for (int64_t t = 0; t < n; ++t) {  // the columns past the width are left alone
        for (int64_t c = width; c < dx_stride; ++c) ASSERT_EQ(got[t * dx_stride + c], start[t * dx_stride + c]) << what;
      }
      if (first.empty()) first = got;
      EXPECT_EQ(got, first) << what << ": the SIMD ISAs differ";
    }
  }
}

// Quantized weights times float activations (MLX modules): every ISA gives the reference's numbers
// within float rounding, the same for any thread count, and decode equals prefill.
TEST(Kernels, FloatActivationMatmulMatchesReference) {
  owl::ThreadPool pool1(1);
  owl::ThreadPool pool2(2);
  for (DType type : {DType::q4_1, DType::q5_1, DType::q4_0, DType::q8_0}) {
    auto q = make_weight(type, 37, 1056, 3);
    q.w.float_activations = true;
    for (int64_t n_tokens : {1, 9}) {
      const auto x = random_floats(n_tokens * q.w.cols, 4);
      std::vector<float> y_ref(static_cast<size_t>(q.w.rows * n_tokens));
      owl::ops::matmul(y_ref.data(), q.w, x.data(), n_tokens, pool2, kn::table_for(kn::Isa::ref));
      for (kn::Isa isa : simd_isas()) {
        const kn::KernelTable& t = kn::table_for(isa);
        const std::string what = std::string(owl::dtype_name(type)) + " " + std::string(kn::isa_name(isa)) +
                                 " tokens " + std::to_string(n_tokens);
        std::vector<float> y1(y_ref.size()), y2(y_ref.size());
        owl::ops::matmul(y1.data(), q.w, x.data(), n_tokens, pool1, t);
        owl::ops::matmul(y2.data(), q.w, x.data(), n_tokens, pool2, t);
        EXPECT_EQ(y1, y2) << what;
        EXPECT_LE(nmse(y1, y_ref), 1e-12) << what;
        std::vector<float> y_one(static_cast<size_t>(q.w.rows));
        owl::ops::matmul(y_one.data(), q.w, x.data() + (n_tokens - 1) * q.w.cols, 1, pool2, t);
        for (int64_t r = 0; r < q.w.rows; ++r) {
          ASSERT_EQ(y_one[static_cast<size_t>(r)], y1[static_cast<size_t>((n_tokens - 1) * q.w.rows + r)]) << what;
        }
      }
    }
  }
}

// Packing keeps the file's bit width: at real row lengths the copy is at most 3% larger (q3_K, whose
// 6-bit scales become bytes: 6%).
TEST(Kernels, PackedCopyIsAboutTheFileSize) {
  for (DType type : kQuantTypes) {
    if (kn::packed_format(static_cast<uint32_t>(type)) == nullptr) continue;
    owl::Weight w;
    w.type = type;
    w.rows = 4096;
    w.cols = 4096;
    const double file = static_cast<double>(owl::row_bytes(type, w.cols)) * static_cast<double>(w.rows);
    const double ratio = static_cast<double>(owl::ops::packed_bytes(w)) / file;
    EXPECT_GE(ratio, 1.0) << owl::dtype_name(type);
    EXPECT_LE(ratio, type == DType::q3_k ? 1.06 : 1.03) << owl::dtype_name(type);
  }
}

INSTANTIATE_TEST_SUITE_P(PackedTypes, PackedMatmul,
                         ::testing::Values(DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0, DType::q2_k,
                                           DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k),
                         [](const ::testing::TestParamInfo<DType>& p) {
                           return std::string(owl::dtype_name(p.param));
                         });

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulIsa,
                         ::testing::Values(DType::f32, DType::f16, DType::bf16, DType::q4_0, DType::q4_1, DType::q5_0,
                                           DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k,
                                           DType::q6_k),
                         [](const ::testing::TestParamInfo<DType>& p) {
                           return std::string(owl::dtype_name(p.param));
                         });

}  // namespace
