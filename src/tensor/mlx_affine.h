// MLX affine quantization (mode "affine" of mlx.core.quantize, as mlx-lm writes it): packing of b-bit codes
// into little-endian uint32 bit streams, and per-group scale/bias quantize/dequantize of one row.
// Mirrors ml-explore/mlx mlx/backend/cpu/quantized.cpp as specified in shared/fixtures/mlx-archs/README.md.
#pragma once

#include <cstdint>

namespace owl::mlx {

// The dtype of the stored scales and biases (the model dtype).
enum class ScaleType { bf16, f16 };

// Bits MLX's affine mode supports: 2, 3, 4, 5, 6, 8.
bool valid_bits(int bits);

// The row functions are kernels: they do not validate (callers check valid_bits, n % group == 0,
// group * bits % 32 == 0, buffer sizes) and never throw. Raw 16-bit scale / bias pointers may be unaligned
// (they point into memory-mapped files); they are read and written through memcpy, host-endian = little.

// Packs n b-bit codes (each < 2^b) into n*b/8 bytes: code k at stream bits k*b .. k*b+b-1, lowest bit
// first; 32-bit word j (little-endian) holds stream bits 32j .. 32j+31. n*b must be a multiple of 32.
void pack_row(const uint8_t* codes, int64_t n, int bits, uint8_t* packed);
void unpack_row(const uint8_t* packed, int64_t n, int bits, uint8_t* codes);

// mx.quantize on MLX's CPU backend, in float32, of one row of n values already rounded to the model dtype:
// n codes, and n/group scales and biases rounded (nearest even) to `type`.
void quantize_row(const float* w, int64_t n, int bits, int64_t group, ScaleType type, uint8_t* codes, uint16_t* scales,
                  uint16_t* biases);

// w[k] = q[k] * scale[k/group] + bias[k/group] in float32.
void dequantize_row(const uint8_t* codes, int64_t n, int64_t group, ScaleType type, const uint16_t* scales,
                    const uint16_t* biases, float* w);

// unpack_row + dequantize_row without a row-sized temporary (what a loader uses).
void dequantize_packed_row(const uint8_t* packed, int64_t n, int bits, int64_t group, ScaleType type,
                           const uint16_t* scales, const uint16_t* biases, float* w);

}  // namespace owl::mlx
