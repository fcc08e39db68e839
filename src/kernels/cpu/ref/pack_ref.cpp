// The load-time packer (layout in kernels/cpu/packed.h): values come from the scalar unpackers,
// scales straight from the blocks, so the SIMD kernel can redo the unpackers' float arithmetic.
#include <cstring>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/ref/kquant_scales.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"

namespace owl::kernels {

namespace {

// One row's scales of super-block sb: the f16 bits of d and of the second float (m or dmin), and the
// per-group integer scales and mins.
void raw_scales(DType type, const uint8_t* row, int64_t sb, uint16_t& d, uint16_t& d2, uint8_t* sc, uint8_t* mn) {
  switch (type) {
    case DType::q4_0: d = reinterpret_cast<const BlockQ4_0*>(row)[sb].d; return;
    case DType::q5_0: d = reinterpret_cast<const BlockQ5_0*>(row)[sb].d; return;
    case DType::q8_0: d = reinterpret_cast<const BlockQ8_0*>(row)[sb].d; return;
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
    case DType::q4_k: {
      const auto& b = reinterpret_cast<const BlockQ4_K*>(row)[sb];
      d = b.d;
      d2 = b.dmin;
      for (int g = 0; g < 8; ++g) ref::k4_scale_min(g, b.scales, &sc[g], &mn[g]);
      return;
    }
    case DType::q5_k: {
      const auto& b = reinterpret_cast<const BlockQ5_K*>(row)[sb];
      d = b.d;
      d2 = b.dmin;
      for (int g = 0; g < 8; ++g) ref::k4_scale_min(g, b.scales, &sc[g], &mn[g]);
      return;
    }
    case DType::q6_k: {
      const auto& b = reinterpret_cast<const BlockQ6_K*>(row)[sb];
      d = b.d;
      for (int g = 0; g < 16; ++g) sc[g] = static_cast<uint8_t>(b.scales[g]);
      return;
    }
    default: return;
  }
}

void put_f16(uint8_t* p, int lane, uint16_t v) { std::memcpy(p + 2 * lane, &v, 2); }

// The values u (k of them) of row r into the unit chunks.
void place_values(const PackedFormat& f, const uint8_t* u, int64_t k, int r, uint8_t* units) {
  const size_t unit_bytes = packed_unit_bytes(f);
  for (int64_t n = 0; n < k / 32; ++n) {
    uint8_t* unit = units + n * unit_bytes;
    const uint8_t* v = u + n * 32;
    for (int s = 0; s < 8; ++s) {
      for (int b = 0; b < 4; ++b) {
        const uint8_t x = v[4 * s + b];
        const int byte = 4 * r + b;
        if (f.vbits == 8) {
          unit[s * 64 + byte] = x;
          continue;
        }
        unit[(s % 4) * 64 + byte] |= static_cast<uint8_t>((x & 0x0f) << (s < 4 ? 0 : 4));
        if (f.vbits == 5) unit[4 * 64 + byte] |= static_cast<uint8_t>(((x >> 4) & 1) << s);
        if (f.vbits == 6) unit[(4 + s / 4) * 64 + byte] |= static_cast<uint8_t>(((x >> 4) & 3) << (2 * (s % 4)));
      }
    }
  }
}

}  // namespace

const PackedFormat* packed_format(uint32_t type) {
  switch (static_cast<DType>(type)) {
    case DType::q4_0: return &kPackedQ4_0;
    case DType::q4_1: return &kPackedQ4_1;
    case DType::q5_0: return &kPackedQ5_0;
    case DType::q5_1: return &kPackedQ5_1;
    case DType::q8_0: return &kPackedQ8_0;
    case DType::q4_k: return &kPackedQ4_K;
    case DType::q5_k: return &kPackedQ5_K;
    case DType::q6_k: return &kPackedQ6_K;
    default: return nullptr;
  }
}

size_t packed_scale_bytes(const PackedFormat& f, int64_t k) {
  const size_t bytes = packed_superblock_scale_bytes(f) * static_cast<size_t>(k / f.superblock);
  return (bytes + 63) / 64 * 64;
}

size_t packed_unit_bytes(const PackedFormat& f) {
  switch (f.vbits) {
    case 8: return 512;
    case 5: return 320;
    case 6: return 384;
    default: return 256;
  }
}

size_t packed_group_bytes(const PackedFormat& f, int64_t k) {
  return packed_scale_bytes(f, k) + packed_unit_bytes(f) * static_cast<size_t>(k / 32);
}

namespace ref {

void pack_group(uint32_t type, const void* rows, size_t row_stride, int n_rows, int64_t k, uint8_t* dst) {
  const PackedFormat& f = *packed_format(type);
  const auto dtype = static_cast<DType>(type);
  static const KernelTable& table = table_for(Isa::ref);
  const UnpackFn unpack = table.unpack[type];
  std::memset(dst, 0, packed_group_bytes(f, k));
  uint8_t* units = dst + packed_scale_bytes(f, k);
  const size_t sb_bytes = packed_superblock_scale_bytes(f);
  const int groups = f.superblock / f.group;
  std::vector<uint8_t> u(static_cast<size_t>(k));
  std::vector<float> s(static_cast<size_t>(k / 16));
  std::vector<float> m(static_cast<size_t>(k / 16));
  for (int r = 0; r < n_rows; ++r) {
    const auto* row = static_cast<const uint8_t*>(rows) + r * row_stride;
    unpack(row, k, u.data(), s.data(), m.data());
    place_values(f, u.data(), k, r, units);
    for (int64_t sb = 0; sb < k / f.superblock; ++sb) {
      uint16_t d = 0;
      uint16_t d2 = 0;
      uint8_t sc[16] = {};
      uint8_t mn[16] = {};
      raw_scales(dtype, row, sb, d, d2, sc, mn);
      uint8_t* area = dst + sb * sb_bytes;
      put_f16(area, r, d);
      switch (f.scale) {
        case PackScale::d_only: break;
        case PackScale::d_and_m: put_f16(area + 32, r, d2); break;
        case PackScale::d_dmin_u8:
          put_f16(area + 32, r, d2);
          for (int g = 0; g < groups; ++g) {
            area[64 + g * 16 + r] = sc[g];
            area[64 + (groups + g) * 16 + r] = mn[g];
          }
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
