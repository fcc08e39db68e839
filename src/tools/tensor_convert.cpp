// Tensor conversion through float32 rows: the kernel table's dequantizer then its quantizer, the
// bytes of tensor/quant.h's dequantize_row and quantize_row.
#include "tools/tensor_convert.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernels.h"
#include "tensor/quant.h"

namespace owl {

DType storage_type(DType target, const std::vector<int64_t>& shape) {
  if (shape.size() < 2) return DType::f32;
  if (shape.back() % dtype_traits(target).block_size != 0) return DType::f16;
  return target;
}

std::vector<uint8_t> convert_rows(const void* src, DType src_type, DType dst_type, int64_t rows, int64_t cols,
                                  ThreadPool& pool) {
  std::vector<uint8_t> out(row_bytes(dst_type, cols) * static_cast<size_t>(rows));
  convert_rows_into(src, src_type, dst_type, rows, cols, out.data(), pool);
  return out;
}

void convert_rows_into(const void* src, DType src_type, DType dst_type, int64_t rows, int64_t cols, uint8_t* dst,
                       ThreadPool& pool, const float* importance) {
  const size_t src_row = row_bytes(src_type, cols);
  const size_t dst_row = row_bytes(dst_type, cols);
  const auto* in = static_cast<const uint8_t*>(src);
  // Rows in runs of about 1 MiB, so that the threads' memcpy and conversions stay long.
  const int64_t min_rows = std::max<int64_t>(1, (int64_t{1} << 20) / static_cast<int64_t>(std::max(src_row, dst_row)));
  if (src_type == dst_type) {
    pool.parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
      std::memcpy(dst + r0 * dst_row, in + r0 * src_row, static_cast<size_t>(r1 - r0) * dst_row);
    }, min_rows);
    return;
  }
  const kernels::KernelTable& kt = kernels::active();
  const kernels::DequantizeFn dequantize = kt.dequantize[static_cast<int>(src_type)];
  // The importance-weighted searches have no SIMD versions: the reference quantizes then.
  const bool weighted = importance != nullptr && has_importance_search(dst_type);
  const kernels::QuantizeFn quantize = weighted ? nullptr : kt.quantize[static_cast<int>(dst_type)];
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
    std::vector<float> buf(static_cast<size_t>(cols));
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* s = in + r * src_row;
      uint8_t* d = dst + r * dst_row;
      const float* row = buf.data();
      switch (src_type) {
        case DType::f32: row = reinterpret_cast<const float*>(s); break;
        case DType::f16: kt.f16_to_f32(reinterpret_cast<const uint16_t*>(s), buf.data(), cols); break;
        case DType::bf16: kt.bf16_to_f32(reinterpret_cast<const uint16_t*>(s), buf.data(), cols); break;
        default:
          if (dequantize != nullptr) {
            dequantize(s, buf.data(), cols);
          } else {
            dequantize_row(src_type, s, buf.data(), cols);
          }
      }
      if (dst_type == DType::f32) {
        std::memcpy(d, row, dst_row);
      } else if (weighted) {
        quantize_row_weighted(dst_type, row, d, cols, importance);
      } else if (quantize != nullptr) {
        quantize(row, d, cols);
      } else {
        quantize_row(dst_type, row, d, cols);
      }
    }
  }, min_rows);
}

int32_t gguf_file_type(DType type) {
  switch (type) {
    case DType::f32: return 0;
    case DType::f16: return 1;
    case DType::q4_0: return 2;
    case DType::q4_1: return 3;
    case DType::q8_0: return 7;
    case DType::q5_0: return 8;
    case DType::q5_1: return 9;
    case DType::q2_k: return 10;
    case DType::q3_k: return 11;  // Q3_K_S: every matrix q3_K
    case DType::q4_k: return 14;  // Q4_K_S
    case DType::q5_k: return 16;  // Q5_K_S
    case DType::q6_k: return 18;
    case DType::bf16: return 32;
    case DType::q8_k: return -1;
  }
  return -1;
}

}  // namespace owl
