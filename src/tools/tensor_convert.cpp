// Tensor conversion through float32 rows: dequantize_row then quantize_row (tensor/quant.h).
#include "tools/tensor_convert.h"

#include <cstring>

#include "tensor/quant.h"

namespace owl {

DType storage_type(DType target, const std::vector<int64_t>& shape) {
  if (shape.size() < 2) return DType::f32;
  if (shape.back() % dtype_traits(target).block_size != 0) return DType::f16;
  return target;
}

std::vector<uint8_t> convert_rows(const void* src, DType src_type, DType dst_type, int64_t rows, int64_t cols,
                                  ThreadPool& pool) {
  const size_t src_row = row_bytes(src_type, cols);
  const size_t dst_row = row_bytes(dst_type, cols);
  std::vector<uint8_t> out(dst_row * static_cast<size_t>(rows));
  const auto* in = static_cast<const uint8_t*>(src);
  if (src_type == dst_type) {
    std::memcpy(out.data(), in, out.size());
    return out;
  }
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = r0; r < r1; ++r) {
      dequantize_row(src_type, in + r * src_row, row.data(), cols);
      quantize_row(dst_type, row.data(), out.data() + r * dst_row, cols);
    }
  });
  return out;
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
