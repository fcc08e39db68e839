// The weight types owl reads, numbered exactly as GGUF/ggml number them (ggml_type), with
// their block geometry. Unknown numbers from a file are rejected through dtype_from_gguf().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace owl {

enum class DType : uint32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q4_1 = 3,
  q5_0 = 6,
  q5_1 = 7,
  q8_0 = 8,
  q2_k = 10,
  q3_k = 11,
  q4_k = 12,
  q5_k = 13,
  q6_k = 14,
  q8_k = 15,
  bf16 = 30,
};

struct DTypeTraits {
  DType type;
  std::string_view name;  // ggml spelling: "f32", "q4_K", ...
  int64_t block_size;     // values per block (1 for float types)
  size_t block_bytes;     // bytes per block
};

// Traits of a known type. Every DType enumerator is known.
const DTypeTraits& dtype_traits(DType type);
std::string_view dtype_name(DType type);

// A type number read from a file; nullopt when owl does not know it.
std::optional<DType> dtype_from_gguf(uint32_t raw);

// "q4_0", "Q4_K", "q4_k_m"-style suffixes are not accepted here: exact type names, any case.
std::optional<DType> dtype_from_name(std::string_view name);

// Whether the type is a block-quantized one (not f32, f16 or bf16).
inline bool is_quantized(DType type) { return type != DType::f32 && type != DType::f16 && type != DType::bf16; }

// Bytes for n values of one row; n must be a multiple of the block size (checked by callers).
inline size_t row_bytes(DType type, int64_t n) {
  const DTypeTraits& t = dtype_traits(type);
  return static_cast<size_t>(n / t.block_size) * t.block_bytes;
}

}  // namespace owl
