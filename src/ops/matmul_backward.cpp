// The two products of training (ops/matmul.h), both on the kernel table's add_rows_product, whose
// every output value is one FMA chain over its sum's terms in order (so the numbers are the same
// for any thread count, and equal on every SIMD ISA):
//  - dx += dy · W for a weight of any dtype: each thread takes a run of slices of columns (whole
//    blocks of the weight type) and goes down the rows kRows at a time; a slice's rows are copied
//    into a contiguous float32 panel (converted with the table's converters: the QLoRA base stays
//    quantized in memory; f32 is copied too, which measured faster than reading its rows in place)
//    and its product added into the slice's columns of dx, every token passing while the panel
//    stays in cache.
//  - dW += dyᵀ · x: dW's rows play the tokens and the tokens the rows: dw[o] += Σ_t dyᵀ[o][t] · x[t],
//    the threads sharing out blocks of dW, the tokens taken in chunks (in order) over a column slice.
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
  constexpr int64_t kRows = 128;  // rows of a slice at a time (128 x 256 floats: L2)
  // Columns per work item: whole blocks, narrow enough that the threads share out even small matrices.
  const int64_t slice = std::max<int64_t>(block, 256);
  const int64_t n_slices = (w.cols + slice - 1) / slice;
  // Down the rows a panel at a time, through all the thread's slices: its part of a row is read
  // from memory as one run (a slice at a time down all the rows read 1 KiB runs a row apart:
  // 1-16% slower TinyLlama steps on AVX2 in alternating runs, within 2% on AVX-512).
  pool.parallel_for(n_slices, [&](int64_t s0, int64_t s1, int) {
    thread_local std::vector<float> rows;
    rows.resize(static_cast<size_t>(kRows * slice));
    for (int64_t r0 = 0; r0 < w.rows; r0 += kRows) {
      const int64_t nr = std::min(kRows, w.rows - r0);
      for (int64_t s = s0; s < s1; ++s) {
        const int64_t c0 = s * slice, width = std::min(w.cols, c0 + slice) - c0;
        for (int64_t i = 0; i < nr; ++i) row_slice(w, r0 + i, c0, c0 + width, rows.data() + i * width, kt);
        kt.add_rows_product(dx + c0, w.cols, dy + r0, w.rows, rows.data(), width, n_tokens, nr, width);
      }
    }
  });
}

void matmul_backward_weight(float* dw, const float* dy, const float* x, int64_t n_tokens, int64_t out, int64_t in,
                            ThreadPool& pool) {
  if (n_tokens <= 0 || out <= 0 || in <= 0) return;
  const kernels::KernelTable& kt = kernels::active();
  std::vector<float> dyt(static_cast<size_t>(out * n_tokens));  // dyᵀ (out, n_tokens)
  pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t o = 0; o < out; ++o) dyt[static_cast<size_t>(o * n_tokens + t)] = dy[t * out + o];
    }
  });
  // Work items: 48 rows of dw x 256 columns; the tokens in chunks of 64 (64 x 256 floats of x stay
  // in L2 while the 48 rows pass).
  constexpr int64_t kRowsPerItem = 48, kCols = 256, kTokens = 64;
  const int64_t row_items = (out + kRowsPerItem - 1) / kRowsPerItem, col_items = (in + kCols - 1) / kCols;
  pool.parallel_for_dynamic(row_items * col_items, 1, [&](int64_t i0, int64_t i1, int) {
    for (int64_t item = i0; item < i1; ++item) {
      const int64_t o0 = item / col_items * kRowsPerItem, c0 = item % col_items * kCols;
      const int64_t rows = std::min(kRowsPerItem, out - o0), width = std::min(kCols, in - c0);
      for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokens) {
        kt.add_rows_product(dw + o0 * in + c0, in, dyt.data() + o0 * n_tokens + t0, n_tokens, x + t0 * in + c0, in, rows,
                            std::min(kTokens, n_tokens - t0), width);
      }
    }
  });
}

}  // namespace owl::ops
