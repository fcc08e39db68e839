// The two products of training (ops/matmul.h). dx += dy · W for a weight of any dtype: the threads
// share out slices of columns (whole blocks of the weight type); each dequantizes its slice with the
// kernel table's converters, transposed, and runs the forward's float GEMM on it (the reference
// table, which has none, adds row by row: kernels.h add_rows_product). dW += dyᵀ · x: both
// transposed, so that the same GEMM dots a row of dyᵀ with a row of xᵀ over the tokens.
#include <algorithm>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "kernels/cpu/kernels.h"
#include "ops/matmul.h"
#include "tensor/quant.h"

namespace owl::ops {

namespace {

// Columns [c0, c1) of row r of w as float32 (c0 and c1 on block boundaries, or c1 = cols).
void row_slice(const Weight& w, int64_t r, int64_t c0, int64_t c1, float* out, const kernels::KernelTable& kt) {
  const uint8_t* row = w.row(r);
  const int64_t n = c1 - c0;
  switch (w.type) {
    case DType::f32:
      std::memcpy(out, reinterpret_cast<const float*>(row) + c0, sizeof(float) * static_cast<size_t>(n));
      return;
    case DType::f16:
      return kt.f16_to_f32(reinterpret_cast<const uint16_t*>(row) + c0, out, n);
    case DType::bf16:
      return kt.bf16_to_f32(reinterpret_cast<const uint16_t*>(row) + c0, out, n);
    default: {
      const auto& traits = dtype_traits(w.type);
      const uint8_t* start = row + (c0 / traits.block_size) * traits.block_bytes;
      if (const kernels::DequantizeFn f = kt.dequantize[static_cast<int>(w.type)]) return f(start, out, n);
      return dequantize_row(w.type, start, out, n);
    }
  }
}

}  // namespace

void matmul_backward_input(float* dx, const Weight& w, const float* dy, int64_t n_tokens, ThreadPool& pool) {
  if (n_tokens <= 0) return;
  const int64_t block = dtype_traits(w.type).block_size;
  if (w.cols % block != 0) fail("{}: {} columns are not a multiple of the {} block size", w.name, w.cols, dtype_name(w.type));
  const kernels::KernelTable& kt = kernels::active();
  constexpr int64_t kRows = 64;  // rows dequantized at a time
  // Columns per work item: small enough that the threads share out even narrow matrices, whole blocks.
  const int64_t slice = std::max<int64_t>(block, 64);
  const int64_t n_slices = (w.cols + slice - 1) / slice;
  if (kt.gemm_float == nullptr) {  // the reference: row by row into dx
    pool.parallel_for(n_slices, [&](int64_t s0, int64_t s1, int) {
      const int64_t c0 = s0 * slice, c1 = std::min(w.cols, s1 * slice), width = c1 - c0;
      std::vector<float> rows(static_cast<size_t>(kRows * width));
      for (int64_t r0 = 0; r0 < w.rows; r0 += kRows) {
        const int64_t nr = std::min(kRows, w.rows - r0);
        for (int64_t i = 0; i < nr; ++i) row_slice(w, r0 + i, c0, c1, rows.data() + i * width, kt);
        kt.add_rows_product(dx + c0, w.cols, dy + r0, w.rows, rows.data(), width, n_tokens, nr, width);
      }
    }, 1);
    return;
  }
  // A column slice of W, transposed (slice x rows), is a weight matrix whose rows are dotted with
  // the rows of dy: the forward's float GEMM computes the slice of dx.
  pool.parallel_for_dynamic(n_slices, 1, [&](int64_t s0, int64_t s1, int) {
    thread_local std::vector<float> wt, rows, out;
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t c0 = s * slice, width = std::min(w.cols, c0 + slice) - c0;
      wt.resize(static_cast<size_t>(width * w.rows));
      rows.resize(static_cast<size_t>(kRows * width));
      out.resize(static_cast<size_t>(n_tokens * width));
      for (int64_t r0 = 0; r0 < w.rows; r0 += kRows) {
        const int64_t nr = std::min(kRows, w.rows - r0);
        for (int64_t i = 0; i < nr; ++i) row_slice(w, r0 + i, c0, c0 + width, rows.data() + i * width, kt);
        for (int64_t c = 0; c < width; ++c) {
          float* dst = wt.data() + c * w.rows + r0;
          for (int64_t i = 0; i < nr; ++i) dst[i] = rows[static_cast<size_t>(i * width + c)];
        }
      }
      kt.gemm_float(wt.data(), static_cast<size_t>(w.rows) * sizeof(float), static_cast<uint32_t>(DType::f32), width,
                    w.rows, dy, n_tokens, out.data(), width);
      for (int64_t t = 0; t < n_tokens; ++t) {
        float* d = dx + t * w.cols + c0;
        const float* o = out.data() + t * width;
        for (int64_t c = 0; c < width; ++c) d[c] += o[c];
      }
    }
  });
}

void matmul_backward_weight(float* dw, const float* dy, const float* x, int64_t n_tokens, int64_t out, int64_t in,
                            ThreadPool& pool) {
  if (n_tokens <= 0 || out <= 0 || in <= 0) return;
  const kernels::KernelTable& kt = kernels::active();
  // Both operands transposed: dyᵀ (out, n) and, for the GEMM, xᵀ (in, n): each dw entry is a dot
  // over the tokens.
  const bool gemm = kt.gemm_float != nullptr;
  std::vector<float> dyt(static_cast<size_t>(out * n_tokens)), xt(gemm ? static_cast<size_t>(in * n_tokens) : 0);
  pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t o = 0; o < out; ++o) dyt[static_cast<size_t>(o * n_tokens + t)] = dy[t * out + o];
      if (gemm) {
        for (int64_t i = 0; i < in; ++i) xt[static_cast<size_t>(i * n_tokens + t)] = x[t * in + i];
      }
    }
  });
  constexpr int64_t kRows = 16;  // rows of dw per work item
  const int64_t n_items = (out + kRows - 1) / kRows;
  if (!gemm) {  // the reference: dw[o] += Σ_t dyᵀ[o][t] · x[t], tokens in order
    pool.parallel_for(n_items, [&](int64_t s0, int64_t s1, int) {
      const int64_t o0 = s0 * kRows, o1 = std::min(out, s1 * kRows);
      kt.add_rows_product(dw + o0 * in, in, dyt.data() + o0 * n_tokens, n_tokens, x, in, o1 - o0, n_tokens, in);
    });
    return;
  }
  // xᵀ is a weight matrix of in rows; the rows of dyᵀ are its tokens: out[o][i] = dot(dyᵀ[o], xᵀ[i]).
  pool.parallel_for_dynamic(n_items, 1, [&](int64_t s0, int64_t s1, int) {
    thread_local std::vector<float> part;
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t o0 = s * kRows, rows = std::min(kRows, out - o0);
      part.resize(static_cast<size_t>(rows * in));
      kt.gemm_float(xt.data(), static_cast<size_t>(n_tokens) * sizeof(float), static_cast<uint32_t>(DType::f32), in,
                    n_tokens, dyt.data() + o0 * n_tokens, rows, part.data(), in);
      float* d = dw + o0 * in;
      for (int64_t j = 0; j < rows * in; ++j) d[j] += part[static_cast<size_t>(j)];
    }
  });
}

}  // namespace owl::ops
