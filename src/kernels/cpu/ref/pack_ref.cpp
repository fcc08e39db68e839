// The load-time packer (layout in kernels/cpu/packed.h): values come from the scalar unpackers,
// scales straight from the blocks, so the SIMD kernel can redo the unpackers' float arithmetic.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/packed.h"
#include "tensor/kquant_scales.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"

namespace owl::kernels {

namespace {

// One row's scales of super-block sb: the f16 bits of d and of the second float (m or dmin), and the
// per-group integer scales and mins.
void raw_scales(DType type, const uint8_t* row, int64_t sb, uint16_t& d, uint16_t& d2, uint8_t* sc, uint8_t* mn) {
  switch (type) {
    case DType::q4_0:
      d = reinterpret_cast<const BlockQ4_0*>(row)[sb].d;
      return;
    case DType::q5_0:
      d = reinterpret_cast<const BlockQ5_0*>(row)[sb].d;
      return;
    case DType::q8_0:
      d = reinterpret_cast<const BlockQ8_0*>(row)[sb].d;
      return;
    case DType::q4_1: {
      const auto& b = reinterpret_cast<const BlockQ4_1*>(row)[sb];
      d = b.d;
      d2 = b.m;
      return;
    }
    case DType::q5_1: {
      const auto& b = reinterpret_cast<const BlockQ5_1*>(row)[sb];
      d = b.d;
      d2 = b.m;
      return;
    }
    case DType::q2_k: {
      const auto& b = reinterpret_cast<const BlockQ2_K*>(row)[sb];
      d = b.d;
      d2 = b.dmin;
      for (int g = 0; g < 16; ++g) {
        sc[g] = b.scales[g] & 0x0f;
        mn[g] = b.scales[g] >> 4;
      }
      return;
    }
    case DType::q3_k: {
      const auto& b = reinterpret_cast<const BlockQ3_K*>(row)[sb];
      d = b.d;
      for (int g = 0; g < 16; ++g) sc[g] = static_cast<uint8_t>(static_cast<int8_t>(kquant::q3_k_scale(b.scales, g)));
      return;
    }
    case DType::q4_k: {
      const auto& b = reinterpret_cast<const BlockQ4_K*>(row)[sb];
      d = b.d;
      d2 = b.dmin;
      for (int g = 0; g < 8; ++g) kquant::k4_scale_min(g, b.scales, &sc[g], &mn[g]);
      return;
    }
    case DType::q5_k: {
      const auto& b = reinterpret_cast<const BlockQ5_K*>(row)[sb];
      d = b.d;
      d2 = b.dmin;
      for (int g = 0; g < 8; ++g) kquant::k4_scale_min(g, b.scales, &sc[g], &mn[g]);
      return;
    }
    case DType::q6_k: {
      const auto& b = reinterpret_cast<const BlockQ6_K*>(row)[sb];
      d = b.d;
      for (int g = 0; g < 16; ++g) sc[g] = static_cast<uint8_t>(b.scales[g]);
      return;
    }
    default:
      return;
  }
}

void put_f16(uint8_t* p, int lane, uint16_t v) { std::memcpy(p + 2 * lane, &v, 2); }

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Byte b of a 5-bit type's high plane: bit s holds bit (4s + b) of the block's 32 fifth bits.
uint8_t fifth_bits(uint32_t qh, int b) {
  unsigned h = 0;
  for (int s = 0; s < 8; ++s) h |= ((qh >> (4 * s + b)) & 1u) << s;
  return static_cast<uint8_t>(h);
}

// The values u (k of them) of row r into the unit chunks: row r owns bytes 4r..4r+3 of every chunk.
void place_values(const PackedFormat& f, const uint8_t* u, int64_t k, int r, uint8_t* group) {
  constexpr int64_t kUnitsPerChunk = kPackChunk / 32;
  size_t chunk_units = 0;  // offset of the current chunk's units
  for (int64_t n = 0; n < k / 32; ++n) {
    if (n % kUnitsPerChunk == 0) chunk_units = packed_unit_offset(f, k, n);  // once per chunk, not per unit
    uint8_t* unit = group + chunk_units + packed_unit_bytes(f) * static_cast<size_t>(n % kUnitsPerChunk) + 4 * r;
    const uint8_t* v = u + n * 32;
    if (f.vbits == 8) {
      for (int s = 0; s < 8; ++s) std::memcpy(unit + s * 64, v + 4 * s, 4);
      continue;
    }
    if (f.vbits <= 3) {
      for (int b = 0; b < 4; ++b) {
        unsigned lo0 = 0;
        unsigned lo1 = 0;
        unsigned high = 0;
        for (int s = 0; s < 8; ++s) {
          const unsigned x = v[4 * s + b];
          (s < 4 ? lo0 : lo1) |= (x & 3) << (2 * (s % 4));
          high |= ((x >> 2) & 1) << s;
        }
        unit[b] = static_cast<uint8_t>(lo0);
        unit[64 + b] = static_cast<uint8_t>(lo1);
        if (f.vbits == 3) unit[128 + b] = static_cast<uint8_t>(high);
      }
      continue;
    }
    for (int c = 0; c < 4; ++c) {
      const uint32_t w = (load_u32(v + 4 * c) & 0x0f0f0f0fu) | ((load_u32(v + 16 + 4 * c) & 0x0f0f0f0fu) << 4);
      std::memcpy(unit + c * 64, &w, 4);
    }
    for (int b = 0; b < 4 && f.vbits > 4; ++b) {
      unsigned h0 = 0;
      unsigned h1 = 0;
      for (int s = 0; s < 8; ++s) {
        const unsigned high = v[4 * s + b] >> 4;
        if (f.vbits == 5) h0 |= (high & 1) << s;
        if (f.vbits == 6) (s < 4 ? h0 : h1) |= (high & 3) << (2 * (s % 4));
      }
      unit[4 * 64 + b] = static_cast<uint8_t>(h0);
      if (f.vbits == 6) unit[5 * 64 + b] = static_cast<uint8_t>(h1);
    }
  }
}

// The legacy 32-value types straight from their blocks (their qs bytes already pair value j with
// value j + 16, as the nibble chunks do): loading a 7B model packs in a fraction of the unpack route.
// Unit by unit, all rows at once, so the writes stay within a few cache lines.
bool place_legacy_values(const PackedFormat& f, DType type, const uint8_t* rows, size_t row_stride, int n_rows,
                         int64_t k, uint8_t* group) {
  if (type != DType::q4_0 && type != DType::q4_1 && type != DType::q5_0 && type != DType::q5_1 && type != DType::q8_0) {
    return false;
  }
  for (int64_t n = 0; n < k / 32; ++n) {
    uint8_t* const unit0 = group + packed_unit_offset(f, k, n);
    for (int r = 0; r < n_rows; ++r) {
      const uint8_t* row = rows + r * row_stride;
      uint8_t* unit = unit0 + 4 * r;
      const uint8_t* qs = nullptr;
      const uint8_t* qh = nullptr;
      switch (type) {
        case DType::q4_0:
          qs = reinterpret_cast<const BlockQ4_0*>(row)[n].qs;
          break;
        case DType::q4_1:
          qs = reinterpret_cast<const BlockQ4_1*>(row)[n].qs;
          break;
        case DType::q5_0:
          qs = reinterpret_cast<const BlockQ5_0*>(row)[n].qs;
          qh = reinterpret_cast<const BlockQ5_0*>(row)[n].qh;
          break;
        case DType::q5_1:
          qs = reinterpret_cast<const BlockQ5_1*>(row)[n].qs;
          qh = reinterpret_cast<const BlockQ5_1*>(row)[n].qh;
          break;
        default: {  // q8_0
          const auto* q = reinterpret_cast<const uint8_t*>(reinterpret_cast<const BlockQ8_0*>(row)[n].qs);
          for (int s = 0; s < 8; ++s) {
            const uint32_t w = load_u32(q + 4 * s) ^ 0x80808080u;  // q + 128, as unpack_q8_0
            std::memcpy(unit + s * 64, &w, 4);
          }
          continue;
        }
      }
      for (int c = 0; c < 4; ++c) std::memcpy(unit + c * 64, qs + 4 * c, 4);
      if (qh != nullptr) {
        const uint32_t bits = load_u32(qh);
        for (int b = 0; b < 4; ++b) unit[4 * 64 + b] = fifth_bits(bits, b);
      }
    }
  }
  return true;
}

}  // namespace

const PackedFormat* packed_format(uint32_t type) {
  const PackedFormat* out = nullptr;
  with_packed_format(type, [&]<PackedFormat F>() { out = &F; });
  return out;
}

namespace {
size_t chunk_bytes(const PackedFormat& f, int64_t n) {
  return packed_chunk_scale_bytes(f, n) + packed_unit_bytes(f) * static_cast<size_t>(n / 32);
}
size_t chunk_offset(const PackedFormat& f, int64_t c) { return static_cast<size_t>(c) * chunk_bytes(f, kPackChunk); }
}  // namespace

size_t packed_group_bytes(const PackedFormat& f, int64_t k) {
  return chunk_offset(f, k / kPackChunk) + chunk_bytes(f, k % kPackChunk);
}

size_t packed_scale_offset(const PackedFormat& f, int64_t sb) {
  const int64_t c = sb * f.superblock / kPackChunk;
  const int64_t first = c * kPackChunk / f.superblock;
  return chunk_offset(f, c) + packed_superblock_scale_bytes(f) * static_cast<size_t>(sb - first);
}

size_t packed_unit_offset(const PackedFormat& f, int64_t k, int64_t n) {
  const int64_t c = n * 32 / kPackChunk;
  const int64_t in_chunk = std::min<int64_t>(kPackChunk, k - c * kPackChunk);
  return chunk_offset(f, c) + packed_chunk_scale_bytes(f, in_chunk) +
         packed_unit_bytes(f) * static_cast<size_t>(n - c * (kPackChunk / 32));
}

namespace ref {

void pack_group(uint32_t type, const void* rows, size_t row_stride, int n_rows, int64_t k, uint8_t* dst,
                UnpackFn unpack) {
  const PackedFormat& f = *packed_format(type);
  const auto dtype = static_cast<DType>(type);
  if (unpack == nullptr) unpack = table_for(Isa::ref).unpack[type];
  const int groups = f.superblock / f.group;
  std::vector<uint8_t> u(static_cast<size_t>(k));
  std::vector<float> s(static_cast<size_t>(k / 16));
  std::vector<float> m(static_cast<size_t>(k / 16));
  const bool legacy = place_legacy_values(f, dtype, static_cast<const uint8_t*>(rows), row_stride, n_rows, k, dst);
  for (int r = 0; r < n_rows && !legacy; ++r) {
    unpack(static_cast<const uint8_t*>(rows) + r * row_stride, k, u.data(), s.data(), m.data());
    place_values(f, u.data(), k, r, dst);
  }
  for (int64_t sb = 0; sb < k / f.superblock; ++sb) {
    uint8_t* area = dst + packed_scale_offset(f, sb);
    for (int r = 0; r < n_rows; ++r) {
      uint16_t d = 0;
      uint16_t d2 = 0;
      uint8_t sc[16] = {};
      uint8_t mn[16] = {};
      raw_scales(dtype, static_cast<const uint8_t*>(rows) + r * row_stride, sb, d, d2, sc, mn);
      put_f16(area, r, d);
      switch (f.scale) {
        case PackScale::d_only:
          break;
        case PackScale::d_and_m:
          put_f16(area + 32, r, d2);
          break;
        case PackScale::d_dmin_u8:
          put_f16(area + 32, r, d2);
          for (int g = 0; g < groups; ++g) {
            area[64 + g * 16 + r] = sc[g];
            area[64 + (groups + g) * 16 + r] = mn[g];
          }
          break;
        case PackScale::d_dmin_u4:
          put_f16(area + 32, r, d2);
          for (int g = 0; g < groups; ++g) area[64 + g * 16 + r] = static_cast<uint8_t>(sc[g] | mn[g] << 4);
          break;
        case PackScale::d_i8:
          for (int g = 0; g < groups; ++g) area[32 + g * 16 + r] = sc[g];
          break;
      }
    }
  }
}

}  // namespace ref

}  // namespace owl::kernels
