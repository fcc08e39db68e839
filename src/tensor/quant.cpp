// Row conversion dispatch: DType -> the typed scalar reference kernels of blocks.h
// (ggml's to_float / quantize_row_*_ref per type; see ../shared/fixtures/quant-goldens).
// The only check is the row length; the kernels themselves never throw.
#include "tensor/quant.h"

#include <cstring>

#include "base/error.h"
#include "tensor/blocks.h"

namespace owl {

namespace {

void check_row_length(DType type, int64_t n, const char* what) {
  const int64_t block = dtype_traits(type).block_size;
  if (n < 0 || n % block != 0) {
    fail("{}: {} values is not a multiple of the {} block size {}", what, n, dtype_name(type), block);
  }
}

}  // namespace

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  check_row_length(type, n, "dequantize_row");
  switch (type) {
    case DType::f32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
    case DType::f16: dequantize_row_f16(static_cast<const uint16_t*>(src), dst, n); return;
    case DType::bf16: dequantize_row_bf16(static_cast<const uint16_t*>(src), dst, n); return;
    case DType::q4_0: dequantize_row_q4_0(static_cast<const BlockQ4_0*>(src), dst, n); return;
    case DType::q4_1: dequantize_row_q4_1(static_cast<const BlockQ4_1*>(src), dst, n); return;
    case DType::q5_0: dequantize_row_q5_0(static_cast<const BlockQ5_0*>(src), dst, n); return;
    case DType::q5_1: dequantize_row_q5_1(static_cast<const BlockQ5_1*>(src), dst, n); return;
    case DType::q8_0: dequantize_row_q8_0(static_cast<const BlockQ8_0*>(src), dst, n); return;
    case DType::q2_k: dequantize_row_q2_k(static_cast<const BlockQ2_K*>(src), dst, n); return;
    case DType::q3_k: dequantize_row_q3_k(static_cast<const BlockQ3_K*>(src), dst, n); return;
    case DType::q4_k: dequantize_row_q4_k(static_cast<const BlockQ4_K*>(src), dst, n); return;
    case DType::q5_k: dequantize_row_q5_k(static_cast<const BlockQ5_K*>(src), dst, n); return;
    case DType::q6_k: dequantize_row_q6_k(static_cast<const BlockQ6_K*>(src), dst, n); return;
    case DType::q8_k: dequantize_row_q8_k(static_cast<const BlockQ8_K*>(src), dst, n); return;
  }
  fail("dequantize_row: unknown type {}", static_cast<uint32_t>(type));
}

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  check_row_length(type, n, "quantize_row");
  switch (type) {
    case DType::f32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
    case DType::f16: quantize_row_f16(src, static_cast<uint16_t*>(dst), n); return;
    case DType::bf16: quantize_row_bf16(src, static_cast<uint16_t*>(dst), n); return;
    case DType::q4_0: quantize_row_q4_0(src, static_cast<BlockQ4_0*>(dst), n); return;
    case DType::q4_1: quantize_row_q4_1(src, static_cast<BlockQ4_1*>(dst), n); return;
    case DType::q5_0: quantize_row_q5_0(src, static_cast<BlockQ5_0*>(dst), n); return;
    case DType::q5_1: quantize_row_q5_1(src, static_cast<BlockQ5_1*>(dst), n); return;
    case DType::q8_0: quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n); return;
    case DType::q2_k: quantize_row_q2_k(src, static_cast<BlockQ2_K*>(dst), n); return;
    case DType::q3_k: quantize_row_q3_k(src, static_cast<BlockQ3_K*>(dst), n); return;
    case DType::q4_k: quantize_row_q4_k(src, static_cast<BlockQ4_K*>(dst), n); return;
    case DType::q5_k: quantize_row_q5_k(src, static_cast<BlockQ5_K*>(dst), n); return;
    case DType::q6_k: quantize_row_q6_k(src, static_cast<BlockQ6_K*>(dst), n); return;
    case DType::q8_k: quantize_row_q8_k(src, static_cast<BlockQ8_K*>(dst), n); return;
  }
  fail("quantize_row: unknown type {}", static_cast<uint32_t>(type));
}

bool has_importance_search(DType type) {
  switch (type) {
    case DType::q4_0: case DType::q4_1: case DType::q5_0: case DType::q5_1:
    case DType::q2_k: case DType::q3_k: case DType::q4_k: case DType::q5_k: case DType::q6_k: return true;
    default: return false;
  }
}

void quantize_row_weighted(DType type, const float* src, void* dst, int64_t n, const float* importance) {
  check_row_length(type, n, "quantize_row_weighted");
  switch (type) {
    case DType::q4_0: quantize_row_q4_0(src, static_cast<BlockQ4_0*>(dst), n, importance); return;
    case DType::q4_1: quantize_row_q4_1(src, static_cast<BlockQ4_1*>(dst), n, importance); return;
    case DType::q5_0: quantize_row_q5_0(src, static_cast<BlockQ5_0*>(dst), n, importance); return;
    case DType::q5_1: quantize_row_q5_1(src, static_cast<BlockQ5_1*>(dst), n, importance); return;
    case DType::q2_k: quantize_row_q2_k(src, static_cast<BlockQ2_K*>(dst), n, importance); return;
    case DType::q3_k: quantize_row_q3_k(src, static_cast<BlockQ3_K*>(dst), n, importance); return;
    case DType::q4_k: quantize_row_q4_k(src, static_cast<BlockQ4_K*>(dst), n, importance); return;
    case DType::q5_k: quantize_row_q5_k(src, static_cast<BlockQ5_K*>(dst), n, importance); return;
    case DType::q6_k: quantize_row_q6_k(src, static_cast<BlockQ6_K*>(dst), n, importance); return;
    default: quantize_row(type, src, dst, n); return;
  }
}

}  // namespace owl
