// Attention kernels over f16 and Q8_0 KV rows (the --kv-type caches) against the float kernels on
// the same rows converted to float32: bit for bit on the reference and AVX2 tables (the typed AVX2
// kernels convert as they load and then do AVX2's float arithmetic), and by NMSE on every table
// against the scalar reference. Row lengths cover the f16 tail (d not a multiple of 8).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/fp16.h"
#include "kernels/cpu/kernels.h"
#include "nmse.h"
#include "tensor/blocks.h"

namespace {

namespace kn = owl::kernels;

std::vector<float> normal_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

std::vector<kn::Isa> isas() {
  std::vector<kn::Isa> out;
  for (kn::Isa isa : {kn::Isa::ref, kn::Isa::avx2, kn::Isa::avx512})
    if (kn::isa_supported(isa)) out.push_back(isa);
  return out;
}

// n rows of d values, `stride` values apart, in one of the cache's types, and the same rows as float.
struct Rows {
  std::vector<uint16_t> f16;
  std::vector<owl::BlockQ8_0> q8;
  std::vector<float> as_float;  // the converted rows, at the same stride
  int64_t stride = 0;           // in values
};

Rows half_rows(int64_t n, int64_t stride, uint32_t seed) {
  Rows r;
  r.stride = stride;
  const std::vector<float> x = normal_floats(n * stride, seed);
  for (float v : x) r.f16.push_back(owl::fp32_to_fp16(v));
  for (uint16_t h : r.f16) r.as_float.push_back(owl::fp16_to_fp32(h));
  return r;
}

Rows q8_rows(int64_t n, int64_t stride, uint32_t seed) {
  Rows r;
  r.stride = stride;
  const std::vector<float> x = normal_floats(n * stride, seed);
  r.q8.resize(static_cast<size_t>(n * stride / 32));
  owl::quantize_row_q8_0(x.data(), r.q8.data(), n * stride);
  r.as_float.resize(x.size());
  owl::dequantize_row_q8_0(r.q8.data(), r.as_float.data(), n * stride);
  return r;
}

struct Outputs {
  std::vector<float> scores, sums;
};

// Scores of nq queries against n rows, then the weighted sums with those scores as weights.
template <typename Score, typename Sum>
Outputs run(int nq, int64_t n, int64_t d, const std::vector<float>& q, int64_t q_stride, Score score, Sum sum) {
  Outputs o;
  o.scores.assign(static_cast<size_t>(nq * n), 0.0f);
  o.sums.assign(static_cast<size_t>(nq * d), 0.0f);
  score(q.data(), q_stride, nq, n, d, o.scores.data(), n);
  sum(o.scores.data(), n, nq, n, d, o.sums.data(), d);
  return o;
}

void check_type(bool q8) {
  const kn::KernelTable& ref = kn::table_for(kn::Isa::ref);
  const std::vector<int64_t> dims = q8 ? std::vector<int64_t>{32, 64, 128} : std::vector<int64_t>{20, 64, 80, 128};
  for (kn::Isa isa : isas()) {
    const kn::KernelTable& t = kn::table_for(isa);
    for (int64_t d : dims) {
      for (int64_t n : {1, 5, 33}) {
        const int64_t stride = d + 32;  // rows of a wider cache, as several KV heads
        const Rows rows = q8 ? q8_rows(n, stride, 11) : half_rows(n, stride, 11);
        const std::vector<float> q = normal_floats(4 * stride, 12);
        for (int nq = 1; nq <= kn::kMaxQueries; ++nq) {
          const auto typed = run(
              nq, n, d, q, stride,
              [&](const float* qq, int64_t qs, int k, int64_t nn, int64_t dd, float* out, int64_t os) {
                if (q8) return t.dot_rows_q8_0(qq, qs, k, rows.q8.data(), stride / 32, nn, dd, 0.125f, out, os);
                t.dot_rows_f16(qq, qs, k, rows.f16.data(), stride, nn, dd, 0.125f, out, os);
              },
              [&](const float* w, int64_t ws, int k, int64_t nn, int64_t dd, float* out, int64_t os) {
                if (q8) return t.weighted_sum_q8_0(w, ws, k, rows.q8.data(), stride / 32, nn, dd, out, os);
                t.weighted_sum_f16(w, ws, k, rows.f16.data(), stride, nn, dd, out, os);
              });
          const auto on_floats = [&](const kn::KernelTable& table) {
            return run(
                nq, n, d, q, stride,
                [&](const float* qq, int64_t qs, int k, int64_t nn, int64_t dd, float* out, int64_t os) {
                  table.dot_rows(qq, qs, k, rows.as_float.data(), stride, nn, dd, 0.125f, out, os);
                },
                [&](const float* w, int64_t ws, int k, int64_t nn, int64_t dd, float* out, int64_t os) {
                  table.weighted_sum(w, ws, k, rows.as_float.data(), stride, nn, dd, out, os);
                });
          };
          const std::string what = std::string(kn::isa_name(isa)) + (q8 ? " q8_0" : " f16") + " d " +
                                   std::to_string(d) + " n " + std::to_string(n) + " nq " + std::to_string(nq);
          const Outputs reference = on_floats(ref);
          EXPECT_LE(nmse(typed.scores, reference.scores), 1e-10) << what;
          EXPECT_LE(nmse(typed.sums, reference.sums), 1e-10) << what;
          const Outputs same = on_floats(t);  // exactly the ISA's float kernels on the converted rows
          EXPECT_EQ(typed.scores, same.scores) << what;
          EXPECT_EQ(typed.sums, same.sums) << what;
        }
      }
    }
  }
}

TEST(KvTypedKernels, HalfRowsMatchTheFloatKernels) { check_type(false); }

TEST(KvTypedKernels, Q8RowsMatchTheFloatKernels) { check_type(true); }

}  // namespace
