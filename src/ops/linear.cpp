// LoRA terms of a projection (ops/linear.h): two thin products per token, x·Aᵀ then u·Bᵀ.
#include "ops/linear.h"

#include <algorithm>
#include <vector>

#include "ops/matmul.h"

namespace owl::ops {

void add_lora(float* y, const float* x, int64_t n, int64_t in, int64_t out, const LoraTerm& lora, float* u,
              ThreadPool& pool, const float* row_scale) {
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    std::vector<float> local(static_cast<size_t>(u == nullptr ? lora.rank : 0));
    for (int64_t t = t0; t < t1; ++t) {
      float* ut = u != nullptr ? u + t * lora.rank : local.data();
      const float* xt = x + t * in;
      for (int64_t j = 0; j < lora.rank; ++j) {
        const float* aj = lora.a + j * in;
        float s = 0.0f;
        for (int64_t i = 0; i < in; ++i) s += xt[i] * aj[i];
        ut[j] = s;
      }
      float* yt = y + t * out;
      const float scale = row_scale != nullptr ? lora.own_scale * row_scale[t] : lora.scale;
      for (int64_t o = 0; o < out; ++o) {
        const float* bo = lora.b + o * lora.rank;
        float s = 0.0f;
        for (int64_t j = 0; j < lora.rank; ++j) s += ut[j] * bo[j];
        yt[o] += scale * s;
      }
    }
  }, std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, lora.rank * (in + out))));
}

void linear(float* y, const Weight& w, const float* x, int64_t n, std::span<const LoraTerm> loras, ThreadPool& pool) {
  matmul(y, w, x, n, pool);
  for (const LoraTerm& l : loras) add_lora(y, x, n, w.cols, w.rows, l, nullptr, pool);
}

}  // namespace owl::ops
