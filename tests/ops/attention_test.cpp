// ops::attention: decoding one position (where the query heads of a KV group share the kernels) gives
// bit for bit the last row of the same sequence evaluated whole (head by head, four positions at a
// time), for f32, f16 and Q8_0 caches, grouped-query and multi-query heads, a sliding window and
// soft-capping; and every cache type against a double-precision attention over the rows it stores.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "base/thread_pool.h"
#include "kernels/cpu/kernels.h"
#include "ops/attention.h"
#include "tensor/blocks.h"

namespace {

using owl::DType;

struct Cache {
  std::vector<uint8_t> k, v;
  std::vector<float> k_float, v_float;  // what the cache holds, as float
  size_t row_bytes = 0;
};

// n rows of `width` values in `type`, from normal values.
Cache make_cache(DType type, int64_t n, int64_t width, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Cache c;
  c.row_bytes = owl::row_bytes(type, width);
  for (auto* pair : {&c.k, &c.v}) {
    std::vector<float> x(static_cast<size_t>(n * width));
    for (float& f : x) f = normal(rng);
    pair->resize(c.row_bytes * static_cast<size_t>(n));
    std::vector<float>& back = pair == &c.k ? c.k_float : c.v_float;
    back.resize(x.size());
    if (type == DType::f32) {
      std::memcpy(pair->data(), x.data(), pair->size());
      back = x;
    } else if (type == DType::f16) {
      auto* h = reinterpret_cast<uint16_t*>(pair->data());
      for (size_t i = 0; i < x.size(); ++i) back[i] = owl::fp16_to_fp32(h[i] = owl::fp32_to_fp16(x[i]));
    } else {
      auto* b = reinterpret_cast<owl::BlockQ8_0*>(pair->data());
      owl::quantize_row_q8_0(x.data(), b, n * width);
      owl::dequantize_row_q8_0(b, back.data(), n * width);
    }
  }
  return c;
}

struct Case {
  int64_t n_head, n_head_kv, window;
  float softcap;
};

TEST(Attention, DecodingOnePositionEqualsTheWholeSequenceBitForBit) {
  owl::ThreadPool pool(2);
  const int64_t d = 64, n = 37;
  for (const Case& c : {Case{8, 2, 0, 0.0f}, Case{6, 1, 0, 0.0f}, Case{12, 4, 9, 0.0f}, Case{4, 2, 0, 30.0f}}) {
    for (DType type : {DType::f32, DType::f16, DType::q8_0}) {
      const Cache cache = make_cache(type, n, c.n_head_kv * d, 3);
      const owl::ops::KvRows k{cache.k.data(), type, cache.row_bytes}, v{cache.v.data(), type, cache.row_bytes};
      const owl::ops::AttentionShape shape{c.n_head, c.n_head_kv, d, 0.125f, c.softcap, c.window};
      std::mt19937 rng(5);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<float> q(static_cast<size_t>(n * c.n_head * d));
      for (float& x : q) x = normal(rng);
      std::vector<float> scratch(static_cast<size_t>(pool.size() * owl::kernels::kMaxQueries * n));
      std::vector<float> whole(q.size()), last(static_cast<size_t>(c.n_head * d));
      owl::ops::attention(whole.data(), q.data(), k, v, 0, n, shape, scratch.data(), pool);
      owl::ops::attention(last.data(), q.data() + (n - 1) * c.n_head * d, k, v, n - 1, 1, shape, scratch.data(), pool);
      const std::vector<float> expected(whole.end() - c.n_head * d, whole.end());
      EXPECT_EQ(last, expected) << owl::dtype_name(type) << " heads " << c.n_head << "/" << c.n_head_kv;

      // Against double precision over the stored rows (as float): the last position, every head.
      double err = 0, norm = 0;
      for (int64_t h = 0; h < c.n_head; ++h) {
        const int64_t kv = h / (c.n_head / c.n_head_kv);
        const int64_t lo = c.window > 0 ? std::max<int64_t>(0, n - c.window) : 0;
        std::vector<double> s;
        double max = -1e300;
        for (int64_t p = lo; p < n; ++p) {
          double dot = 0;
          for (int64_t i = 0; i < d; ++i)
            dot += double(q[static_cast<size_t>((n - 1) * c.n_head * d + h * d + i)]) *
                   cache.k_float[static_cast<size_t>(p * c.n_head_kv * d + kv * d + i)];
          dot *= 0.125;
          if (c.softcap > 0) dot = c.softcap * std::tanh(dot / c.softcap);
          s.push_back(dot);
          max = std::max(max, dot);
        }
        double z = 0;
        for (double& x : s) z += (x = std::exp(x - max));
        for (int64_t i = 0; i < d; ++i) {
          double o = 0;
          for (int64_t p = lo; p < n; ++p)
            o += s[static_cast<size_t>(p - lo)] / z * cache.v_float[static_cast<size_t>(p * c.n_head_kv * d + kv * d + i)];
          const double got = last[static_cast<size_t>(h * d + i)];
          err += (got - o) * (got - o);
          norm += o * o;
        }
      }
      EXPECT_LT(err / norm, 1e-10) << owl::dtype_name(type) << " heads " << c.n_head << "/" << c.n_head_kv;
    }
  }
}

}  // namespace
