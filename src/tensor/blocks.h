// GGUF/ggml quantization blocks as packed structs, byte-identical to ggml-common.h (block_q4_0 ...),
// and the typed scalar reference row kernels over them (quant_legacy.cpp, quant_kquants*.cpp).
// Block pointers must be aligned to alignof(Block) (2, or 4 for q8_K); GGUF tensor data always is.
#pragma once

#include <cstddef>
#include <cstdint>

namespace owl {

inline constexpr int kQk = 32;    // values per legacy block (q4_0 ... q8_0)
inline constexpr int kQkK = 256;  // values per K-quant super-block

// Legacy 32-value blocks. `d`, `m` are IEEE binary16 bits. Value j of a block lives in the low nibble of
// qs[j] for j < 16 and in the high nibble of qs[j-16] for j >= 16; qh bit j (little-endian uint32) is the
// 5th bit of value j.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQk / 2];
};
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQk / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQk / 2];
};
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQk / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQk];
};

// K-quant 256-value super-blocks. The bit interleaving is that of ggml's dequantize_row_*.
struct BlockQ2_K {
  uint8_t scales[kQkK / 16];  // per 16 values: low nibble scale, high nibble min
  uint8_t qs[kQkK / 4];       // 2-bit quants
  uint16_t d;                 // super-block scale of the scales
  uint16_t dmin;              // super-block scale of the mins
};
struct BlockQ3_K {
  uint8_t hmask[kQkK / 8];  // high bit of each quant
  uint8_t qs[kQkK / 4];     // low 2 bits
  uint8_t scales[12];       // 16 6-bit scales, offset by 32
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];  // 8 6-bit scales and 8 6-bit mins
  uint8_t qs[kQkK / 2];
};
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQkK / 8];
  uint8_t qs[kQkK / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQkK / 2];  // low 4 bits
  uint8_t qh[kQkK / 4];  // high 2 bits
  int8_t scales[kQkK / 16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[kQkK];
  int16_t bsums[kQkK / 16];  // sum of each group of 16 qs
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// Typed scalar references: n values (a multiple of the block size, unchecked here). They never
// allocate and never throw. quantize_* mirror ggml's quantize_row_*_ref operation for operation; given
// `importance` (n values: how much each column's error costs, an importance matrix's mean squared
// activations), the types that have one run ggml's importance-weighted search (quantize_row_*_impl).
// q8_0, q8_K and the float types have none.
void dequantize_row_f16(const uint16_t* x, float* y, int64_t n);
void dequantize_row_bf16(const uint16_t* x, float* y, int64_t n);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_row_q2_k(const BlockQ2_K* x, float* y, int64_t n);
void dequantize_row_q3_k(const BlockQ3_K* x, float* y, int64_t n);
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_row_q8_k(const BlockQ8_K* x, float* y, int64_t n);

void quantize_row_f16(const float* x, uint16_t* y, int64_t n);
void quantize_row_bf16(const float* x, uint16_t* y, int64_t n);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n, const float* importance = nullptr);
void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n, const float* importance = nullptr);
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n, const float* importance = nullptr);
void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n, const float* importance = nullptr);
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q2_k(const float* x, BlockQ2_K* y, int64_t n, const float* importance = nullptr);
void quantize_row_q3_k(const float* x, BlockQ3_K* y, int64_t n, const float* importance = nullptr);
void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n, const float* importance = nullptr);
void quantize_row_q5_k(const float* x, BlockQ5_K* y, int64_t n, const float* importance = nullptr);
void quantize_row_q6_k(const float* x, BlockQ6_K* y, int64_t n, const float* importance = nullptr);
void quantize_row_q8_k(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace owl
