// Load-time repacking of quantised weights for the integer path. Sixteen consecutive rows become
// one "row group" laid out so that one 64-byte load brings the same 4 (or 8) values of all 16 rows,
// keeping each type's bit width: decoding reads no more bytes than the file holds, and the kernel
// needs neither gathers nor a per-call unpack. The arithmetic is exactly that of unpack + gemm_q16.
//
// A row group of k values is a run of chunks of 256 values (the last may be shorter), each
// [scales of its super-blocks, padded to 64 bytes][its value units], so a decode reads one stream:
//  - scales, per super-block (SB values), 16 lanes each:
//      d_only     f16 d[16]                                  (s = d,  m = offset * s)
//      d_and_m    f16 d[16], f16 m[16]                       (s = d,  m = m)
//      d_dmin_u8  f16 d[16], f16 dmin[16], per group u8 sc[16], then per group u8 mn[16]
//                                                            (s = d * sc, m = -(dmin * mn))
//      d_dmin_u4  f16 d[16], f16 dmin[16], per group u8 (sc | mn << 4)[16]   (as d_dmin_u8)
//      d_i8       f16 d[16], per group i8 sc[16]            (s = d * sc, m = offset * s)
//  - value units, one per 32 values, each a whole number of 64-byte chunks. Step s (0..7) of a unit
//    is values 4s..4s+3, which sit in bytes 4r..4r+3 of a 64-byte vector for row r:
//      nibbles (every vbits): 4 chunks; chunk c holds step c in the low and step c+4 in the high nibble;
//      vbits 5: one more chunk whose bit s of each byte is bit 4 of that step-s value;
//      vbits 6: two more; chunk h holds bits 4-5 of step 4h+i in bits 2i..2i+1;
//      vbits 8: 8 chunks of whole bytes instead, chunk s holding step s;
//      vbits 2, 3: instead of nibbles, 2 chunks of the low 2 bits (chunk h holds step 4h+i in bits
//               2i..2i+1); vbits 3 adds one chunk whose bit s of each byte is bit 2 of step s.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "tensor/dtype.h"

namespace owl::kernels {

enum class PackScale : uint8_t { d_only, d_and_m, d_dmin_u8, d_dmin_u4, d_i8 };

struct PackedFormat {
  int vbits;  // 2, 3, 4, 5, 6 or 8 bits per value
  PackScale scale;
  float offset;    // m = offset * s for d_only and d_i8
  int group;       // values per scale group: 16 or 32
  int superblock;  // values per block of the source type: 32 or 256
};

inline constexpr PackedFormat kPackedQ4_0{4, PackScale::d_only, -8.0f, 32, 32};
inline constexpr PackedFormat kPackedQ4_1{4, PackScale::d_and_m, 0.0f, 32, 32};
inline constexpr PackedFormat kPackedQ5_0{5, PackScale::d_only, -16.0f, 32, 32};
inline constexpr PackedFormat kPackedQ5_1{5, PackScale::d_and_m, 0.0f, 32, 32};
inline constexpr PackedFormat kPackedQ8_0{8, PackScale::d_only, -128.0f, 32, 32};
inline constexpr PackedFormat kPackedQ2_K{2, PackScale::d_dmin_u4, 0.0f, 16, 256};
inline constexpr PackedFormat kPackedQ3_K{3, PackScale::d_i8, -4.0f, 16, 256};
inline constexpr PackedFormat kPackedQ4_K{4, PackScale::d_dmin_u8, 0.0f, 32, 256};
inline constexpr PackedFormat kPackedQ5_K{5, PackScale::d_dmin_u8, 0.0f, 32, 256};
inline constexpr PackedFormat kPackedQ6_K{6, PackScale::d_i8, -32.0f, 16, 256};

// Whether the offset is a whole multiple of the scale (d_only, d_i8), which the products add to the
// integer sums as offset * sum(q) (kernels::unpack_offset gives the same numbers by type).
constexpr bool packed_whole_offset(const PackedFormat& f) {
  return f.scale == PackScale::d_only || f.scale == PackScale::d_i8;
}

// Bytes of one super-block's scales in the scale area.
constexpr size_t packed_superblock_scale_bytes(const PackedFormat& f) {
  const auto groups = static_cast<size_t>(f.superblock / f.group);
  switch (f.scale) {
    case PackScale::d_only:
      return 32;
    case PackScale::d_and_m:
      return 64;
    case PackScale::d_dmin_u8:
      return 64 + 32 * groups;
    case PackScale::d_dmin_u4:
      return 64 + 16 * groups;
    case PackScale::d_i8:
      return 32 + 16 * groups;
  }
  return 0;
}

// The one table from a GGUF type to its packed format: calls fn.template operator()<F>() with F a
// compile-time constant (the kernels are instantiated per format) and returns true, or returns false
// when the type has no packed form (f32, f16, bf16, q8_K).
template <typename Fn>
bool with_packed_format(uint32_t type, Fn&& fn) {
  switch (static_cast<DType>(type)) {
    case DType::q4_0:
      fn.template operator()<kPackedQ4_0>();
      return true;
    case DType::q4_1:
      fn.template operator()<kPackedQ4_1>();
      return true;
    case DType::q5_0:
      fn.template operator()<kPackedQ5_0>();
      return true;
    case DType::q5_1:
      fn.template operator()<kPackedQ5_1>();
      return true;
    case DType::q8_0:
      fn.template operator()<kPackedQ8_0>();
      return true;
    case DType::q2_k:
      fn.template operator()<kPackedQ2_K>();
      return true;
    case DType::q3_k:
      fn.template operator()<kPackedQ3_K>();
      return true;
    case DType::q4_k:
      fn.template operator()<kPackedQ4_K>();
      return true;
    case DType::q5_k:
      fn.template operator()<kPackedQ5_K>();
      return true;
    case DType::q6_k:
      fn.template operator()<kPackedQ6_K>();
      return true;
    default:
      return false;
  }
}

// nullptr when the type has no packed form. The packed copies are the file's size, or up to 3% more
// (6% for q3_K, whose 6-bit scales become bytes).
const PackedFormat* packed_format(uint32_t type);

inline constexpr int64_t kPackChunk = 256;  // values per chunk

// One 32-value unit of 16 rows.
constexpr size_t packed_unit_bytes(const PackedFormat& f) {
  switch (f.vbits) {
    case 8:
      return 512;
    case 5:
      return 320;
    case 6:
      return 384;
    case 3:
      return 192;
    case 2:
      return 128;
    default:
      return 256;
  }
}

// The scales of a chunk of n values, padded to 64 bytes.
constexpr size_t packed_chunk_scale_bytes(const PackedFormat& f, int64_t n) {
  const size_t bytes = packed_superblock_scale_bytes(f) * static_cast<size_t>(n / f.superblock);
  return (bytes + 63) / 64 * 64;
}

size_t packed_group_bytes(const PackedFormat& f, int64_t k);  // a whole row group, a multiple of 64
// Offset in a row group of the scales of super-block sb, and of the unit holding values 32n..32n+31
// (of a row of k values).
size_t packed_scale_offset(const PackedFormat& f, int64_t sb);
size_t packed_unit_offset(const PackedFormat& f, int64_t k, int64_t n);

// Bytes ahead of the data being read that a decode (one or two tokens, which stream the weights from
// memory) asks for: measured against 1, 2, 8 and 16 KiB on both ISAs.
inline constexpr int64_t kPackedPrefetch = 4096;

// Calls fn(unit, col, scales, n) for the 32-value units of a row group in order: unit points at the
// unit's chunks, col is its first value, scales is a Scales built from its super-block's scale area
// (once per super-block: each ISA reads the scales its own way) and n the unit's index there. With
// kPrefetch, each unit first asks for its share of the group kPackedPrefetch bytes ahead: a chunk's
// bytes (its scales included, which a prefetch of the units alone would leave to a stall) over its units.
template <PackedFormat F, typename Scales, bool kPrefetch, typename Fn>
[[gnu::always_inline]] inline void for_each_unit(const uint8_t* grp, int64_t k, Fn&& fn) {
  constexpr size_t kUnitBytes = packed_unit_bytes(F);
  constexpr int64_t kUnits = kPackChunk / 32;
  constexpr size_t kFullChunk = packed_chunk_scale_bytes(F, kPackChunk) + kUnitBytes * kUnits;
  constexpr size_t kShare = (kFullChunk + kUnits - 1) / kUnits;  // bytes to prefetch per unit
  const uint8_t* ahead = grp + kPackedPrefetch;
  for (int64_t c0 = 0; c0 < k; c0 += kPackChunk) {
    const int64_t n_values = k - c0 < kPackChunk ? k - c0 : kPackChunk;
    const uint8_t* chunk = grp + (c0 / kPackChunk) * kFullChunk;
    const uint8_t* units = chunk + (n_values == kPackChunk ? packed_chunk_scale_bytes(F, kPackChunk)
                                                           : packed_chunk_scale_bytes(F, n_values));
    for (int64_t sbl = 0; sbl < n_values / F.superblock; ++sbl) {
      const Scales scales(chunk + sbl * packed_superblock_scale_bytes(F));
      for (int n = 0; n < F.superblock / 32; ++n) {
        if constexpr (kPrefetch) {
          for (size_t off = 0; off < kShare; off += 64) __builtin_prefetch(ahead + off, 0, 3);
          ahead += kShare;
        }
        fn(units + (sbl * (F.superblock / 32) + n) * kUnitBytes, c0 + sbl * F.superblock + n * 32, scales, n);
      }
    }
  }
}

namespace ref {
// Packs n_rows (1..16) rows of `type` (row_stride bytes apart, k values each) into one row group at dst
// (packed_group_bytes long, zero-filled beforehand: fresh HugeBuffer memory is). Missing rows stay
// zero and contribute nothing. unpack: the type's unpacker for the K-quant rows (a SIMD one is
// bit-identical and faster at load time); null: the scalar one.
void pack_group(uint32_t type, const void* rows, size_t row_stride, int n_rows, int64_t k, uint8_t* dst,
                UnpackFn unpack = nullptr);
}  // namespace ref

}  // namespace owl::kernels
