// Reference matmul: rows of W are split across threads; each row is dequantised one chunk at a
// time into a stack buffer and dotted with every token's activations, so a row is read once per
// batch (prefill reads the weights once, not once per token). Summation order is fixed per row.
#include "ops/matmul.h"

#include <algorithm>

#include "base/error.h"
#include "kernels/cpu/ref/vec.h"
#include "tensor/quant.h"

namespace owl::ops {

namespace {
constexpr int64_t kChunk = 1024;  // a multiple of every block size (32, 256)
constexpr int64_t kMinWorkPerThread = 1 << 16;  // multiply-adds worth waking a thread for
}

void matmul(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool) {
  const int64_t in = w.cols;
  const int64_t out = w.rows;
  const int64_t block = dtype_traits(w.type).block_size;
  if (in % block != 0) fail("{}: {} columns are not a multiple of the {} block size", w.name, in, dtype_name(w.type));
  const size_t bytes_per_value_block = dtype_traits(w.type).block_bytes;
  pool.parallel_for(out, [&](int64_t r0, int64_t r1, int) {
    float buf[kChunk];
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* row = w.row(r);
      if (w.type == DType::f32) {
        const auto* wr = reinterpret_cast<const float*>(row);
        for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] = kernels::ref::dot_f32(wr, x + t * in, in);
        continue;
      }
      for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] = 0.0f;
      for (int64_t c = 0; c < in; c += kChunk) {
        const int64_t len = std::min(kChunk, in - c);
        dequantize_row(w.type, row + (c / block) * bytes_per_value_block, buf, len);
        for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] += kernels::ref::dot_f32(buf, x + t * in + c, len);
      }
    }
  }, std::max<int64_t>(1, kMinWorkPerThread / std::max<int64_t>(1, in * n_tokens)));
}

void weight_row(float* dst, const Weight& w, int64_t row) {
  if (row < 0 || row >= w.rows) fail("{}: row {} out of range [0, {})", w.name, row, w.rows);
  dequantize_row(w.type, w.row(row), dst, w.cols);
}

}  // namespace owl::ops
