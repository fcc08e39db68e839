// LoRA terms of a projection (ops/linear.h): two thin products per token, x·Aᵀ then u·Bᵀ.
#include "ops/linear.h"

#include <algorithm>
#include <vector>

#include "ops/dot8.h"
#include "ops/matmul.h"

namespace owl::ops {

void add_lora(float* y, const float* x, int64_t n, int64_t in, int64_t out, const LoraTerm& lora, float* u,
              ThreadPool& pool, const float* row_scale) {
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    std::vector<float> local(static_cast<size_t>(u == nullptr ? lora.rank : 0));
    for (int64_t t = t0; t < t1; ++t) {
      float* ut = u != nullptr ? u + t * lora.rank : local.data();
      const float* xt = x + t * in;
      for (int64_t j = 0; j < lora.rank; ++j) ut[j] = dot8(xt, lora.a + j * in, in);
      float* yt = y + t * out;
      const float scale = row_scale != nullptr ? lora.own_scale * row_scale[t] : lora.scale;
      for (int64_t o = 0; o < out; ++o) {
        const float* bo = lora.b + o * lora.rank;
        float s = 0.0f;
        for (int64_t j = 0; j < lora.rank; ++j) s += ut[j] * bo[j];
        yt[o] += scale * s;
      }
    }
  }, min_items(lora.rank * (in + out)));
}

void add_lora_backward(float* dx, float* da, float* db, const float* dy, const float* x, const float* u, int64_t n,
                       int64_t in, int64_t out, const LoraTerm& lora, ThreadPool& pool) {
  const int64_t r = lora.rank;
  const float scale = lora.scale;
  constexpr int64_t kMinWork = int64_t{1} << 14;  // multiply-adds a thread takes at least
  std::vector<float> du(static_cast<size_t>(n * r));
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    std::vector<float> sums(static_cast<size_t>(r));  // one per j, each over o in order
    for (int64_t t = t0; t < t1; ++t) {
      std::fill(sums.begin(), sums.end(), 0.0f);
      for (int64_t o = 0; o < out; ++o) {
        for (int64_t j = 0; j < r; ++j) sums[static_cast<size_t>(j)] += dy[t * out + o] * lora.b[o * r + j];
      }
      for (int64_t j = 0; j < r; ++j) du[static_cast<size_t>(t * r + j)] = scale * sums[static_cast<size_t>(j)];
    }
  }, min_items(out * r, kMinWork));
  pool.parallel_for(out, [&](int64_t o0, int64_t o1, int) {
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t o = o0; o < o1; ++o) {
        for (int64_t j = 0; j < r; ++j) db[o * r + j] += scale * dy[t * out + o] * u[t * r + j];
      }
    }
  }, min_items(n * r, kMinWork));
  // dx and dA over blocks of kLanes columns whose sums stay in registers: dx's over j, dA's over t.
  constexpr int64_t kCols = 256, kLanes = 8;
  pool.parallel_for((in + kCols - 1) / kCols, [&](int64_t c0, int64_t c1, int) {
    for (int64_t i = c0 * kCols; i < std::min(in, c1 * kCols); i += kLanes) {
      const int64_t lanes = std::min(kLanes, in - i);
      float acc[kLanes];
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t l = 0; l < lanes; ++l) acc[l] = dx[t * in + i + l];
        for (int64_t j = 0; j < r; ++j) {
          const float g = du[static_cast<size_t>(t * r + j)];
          for (int64_t l = 0; l < lanes; ++l) acc[l] += g * lora.a[j * in + i + l];
        }
        for (int64_t l = 0; l < lanes; ++l) dx[t * in + i + l] = acc[l];
      }
      for (int64_t j = 0; j < r; ++j) {
        for (int64_t l = 0; l < lanes; ++l) acc[l] = da[j * in + i + l];
        for (int64_t t = 0; t < n; ++t) {
          const float g = du[static_cast<size_t>(t * r + j)];
          for (int64_t l = 0; l < lanes; ++l) acc[l] += g * x[t * in + i + l];
        }
        for (int64_t l = 0; l < lanes; ++l) da[j * in + i + l] = acc[l];
      }
    }
  }, min_items(n * r * kCols, kMinWork));
}

void linear(float* y, const Weight& w, const float* x, int64_t n, std::span<const LoraTerm> loras, ThreadPool& pool) {
  matmul(y, w, x, n, pool);
  for (const LoraTerm& l : loras) add_lora(y, x, n, w.cols, w.rows, l, nullptr, pool);
}

}  // namespace owl::ops
