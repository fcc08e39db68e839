// AVX-512 VNNI kernel over packed row groups (layout: kernels/cpu/packed.h). Per 32-value unit the
// values of 16 rows are decoded once into up to 8 vectors (one per 4-value step, one row per dword
// lane) and multiplied with every token of the tile by vpdpbusd. Scales and the float steps per group
// are those of unpack + gemm_q16, operation for operation, so the results are bit-identical.
#include <immintrin.h>

#include <cstring>
#include <utility>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/static_count.h"
#include "tensor/dtype.h"

namespace owl::kernels::avx512 {

namespace {

inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline __m512 load_f16x16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

inline __m512 load_u8x16(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

inline __m512 load_i8x16(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// Step S (values 4S..4S+3 of the unit, one row per dword lane) of a unit.
template <PackedFormat F, int S>
inline __m512i decode_step(const uint8_t* unit) {
  const __m512i* v = reinterpret_cast<const __m512i*>(unit);
  if constexpr (F.vbits == 8) {
    return _mm512_loadu_si512(v + S);
  } else if constexpr (F.vbits <= 3) {
    constexpr int kPair = S % 4;
    const __m512i lo =
        _mm512_and_si512(_mm512_srli_epi16(_mm512_loadu_si512(v + S / 4), 2 * kPair), _mm512_set1_epi8(0x03));
    if constexpr (F.vbits == 2) return lo;
    const __m512i h = _mm512_loadu_si512(v + 2);
    const __m512i hb = S <= 2 ? _mm512_slli_epi16(h, 2 - S) : _mm512_srli_epi16(h, S - 2);
    return _mm512_ternarylogic_epi32(lo, hb, _mm512_set1_epi8(0x04), 0xf8);  // lo | (hb & 0x04)
  } else {
    const __m512i nib = _mm512_loadu_si512(v + S % 4);
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const __m512i lo = S < 4 ? _mm512_and_si512(nib, low4) : _mm512_and_si512(_mm512_srli_epi16(nib, 4), low4);
    if constexpr (F.vbits == 4) {
      return lo;
    } else if constexpr (F.vbits == 5) {
      const __m512i h = _mm512_loadu_si512(v + 4);
      const __m512i hb = S <= 4 ? _mm512_slli_epi16(h, 4 - S) : _mm512_srli_epi16(h, S - 4);
      return _mm512_ternarylogic_epi32(lo, hb, _mm512_set1_epi8(0x10), 0xf8);  // lo | (hb & 0x10)
    } else {
      const __m512i h = _mm512_loadu_si512(v + 4 + S / 4);
      constexpr int kPair = S % 4;
      const __m512i hb = kPair < 3 ? _mm512_slli_epi16(h, 4 - 2 * kPair) : _mm512_srli_epi16(h, 2);
      return _mm512_ternarylogic_epi32(lo, hb, _mm512_set1_epi8(0x30), 0xf8);  // lo | (hb & 0x30)
    }
  }
}

template <PackedFormat F, int S0, int... Is>
inline void decode_steps(const uint8_t* unit, __m512i* w, std::integer_sequence<int, Is...>) {
  ((w[Is] = decode_step<F, S0 + Is>(unit)), ...);
}

// The scales of one super-block of a row group, and from them each group's s and m for 16 rows.
template <PackedFormat F>
struct SuperblockScales {
  const uint8_t* area;
  __m512 d;
  __m512 second = _mm512_setzero_ps();  // m, or -dmin

  explicit SuperblockScales(const uint8_t* scales) : area(scales), d(load_f16x16(scales)) {
    if constexpr (F.scale == PackScale::d_and_m) second = load_f16x16(area + 32);
    if constexpr (F.scale == PackScale::d_dmin_u8 || F.scale == PackScale::d_dmin_u4) {
      second = _mm512_xor_ps(load_f16x16(area + 32), _mm512_set1_ps(-0.0f));
    }
  }

  // Group gi of the super-block: value = sv * u + mv, as the unpackers compute them.
  [[gnu::always_inline]] void group(int gi, __m512& sv, __m512& mv) const {
    constexpr int kGroupsPerSb = F.superblock / F.group;
    if constexpr (F.scale == PackScale::d_only) {
      sv = d;
      mv = _mm512_mul_ps(_mm512_set1_ps(F.offset), d);
    } else if constexpr (F.scale == PackScale::d_and_m) {
      sv = d;
      mv = second;
    } else if constexpr (F.scale == PackScale::d_dmin_u8) {
      sv = _mm512_mul_ps(d, load_u8x16(area + 64 + gi * 16));
      mv = _mm512_mul_ps(second, load_u8x16(area + 64 + (kGroupsPerSb + gi) * 16));
    } else if constexpr (F.scale == PackScale::d_dmin_u4) {
      const __m512i both = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(area + 64 + gi * 16)));
      sv = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_and_si512(both, _mm512_set1_epi32(0x0f))));
      mv = _mm512_mul_ps(second, _mm512_cvtepi32_ps(_mm512_srli_epi32(both, 4)));
    } else {
      sv = _mm512_mul_ps(d, load_i8x16(area + 32 + gi * 16));
      mv = _mm512_mul_ps(_mm512_set1_ps(F.offset), sv);
    }
  }
};

template <PackedFormat F, int NT>
void packed_tile(const uint8_t* grp, int64_t k, int64_t kp, const QuantActs& a, int64_t t0, float* out) {
  constexpr int kGroup = F.group;
  constexpr int kSteps = kGroup / 4;
  constexpr int kGroupsPerUnit = 32 / kGroup;
  constexpr bool kWholeOffset = packed_whole_offset(F);
  constexpr bool kPerBlock = F.superblock == 256;  // activations quantised per super-block: see gemm_q16
  constexpr int kUnitsPerSb = F.superblock / 32;
  const int64_t ng = kp / kGroup;  // activation scale groups per token
  const float* ad = kGroup == 16 ? a.d16 : a.d32;
  const float* as = kGroup == 16 ? a.s16 : a.s32;
  const int32_t* asq = kGroup == 16 ? a.sq16 : a.sq32;
  __m512 acc[NT];
  __m512 blk[NT];  // kPerBlock: the super-block's sums before the activation scale
  const int8_t* q[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = blk[t] = _mm512_setzero_ps();
    q[t] = a.q + (t0 + t) * kp;
  }
  for_each_unit<F, SuperblockScales<F>, NT <= 2>(
      grp, k, [&](const uint8_t* unit, int64_t col0, const SuperblockScales<F>& scales, int n) [[gnu::always_inline]] {
        for (int half = 0; half < kGroupsPerUnit; ++half) {
          __m512 sv;
          __m512 mv;
          scales.group(n * kGroupsPerUnit + half, sv, mv);
          __m512i w[kSteps];
          if constexpr (kGroupsPerUnit == 1) {
            decode_steps<F, 0>(unit, w, std::make_integer_sequence<int, kSteps>{});
          } else if (half == 0) {
            decode_steps<F, 0>(unit, w, std::make_integer_sequence<int, kSteps>{});
          } else {
            decode_steps<F, 4>(unit, w, std::make_integer_sequence<int, kSteps>{});
          }
          const int64_t col = col0 + half * kGroup;  // first value of the group
          const int64_t gidx = col / kGroup;
          for (int t = 0; t < NT; ++t) {
            const int64_t idx = (t0 + t) * ng + gidx;
            // A whole offset enters the integer sum (see unpack_offset); a float one is mv's FMA below.
            __m512i s0 =
                kWholeOffset ? _mm512_set1_epi32(static_cast<int32_t>(F.offset) * asq[idx]) : _mm512_setzero_si512();
            __m512i s1 = _mm512_setzero_si512();
            for (int i = 0; i < kSteps; i += 2) {
              s0 = _mm512_dpbusd_epi32(s0, w[i], _mm512_set1_epi32(load_i32(q[t] + col + 4 * i)));
              s1 = _mm512_dpbusd_epi32(s1, w[i + 1], _mm512_set1_epi32(load_i32(q[t] + col + 4 * i + 4)));
            }
            const __m512 isum = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
            if constexpr (kPerBlock) {
              blk[t] = _mm512_fmadd_ps(isum, sv, blk[t]);
              if constexpr (!kWholeOffset)
                blk[t] = _mm512_fmadd_ps(mv, _mm512_set1_ps(static_cast<float>(asq[idx])), blk[t]);
              if (n == kUnitsPerSb - 1 && half == kGroupsPerUnit - 1) {  // the super-block's last group
                acc[t] = _mm512_fmadd_ps(blk[t], _mm512_set1_ps(ad[idx]), acc[t]);
                blk[t] = _mm512_setzero_ps();
              }
            } else {
              const __m512 scale = _mm512_mul_ps(sv, _mm512_set1_ps(ad[idx]));
              acc[t] = _mm512_fmadd_ps(isum, scale, acc[t]);
              if constexpr (!kWholeOffset) acc[t] = _mm512_fmadd_ps(mv, _mm512_set1_ps(as[idx]), acc[t]);
            }
          }
        }
      });
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(out + (t0 + t) * 16, acc[t]);
}

// A packed row group back to the unpacking path's interleaved form (u_il, s_il, m_il of gemm_q16,
// zero-padded to kp), for prompts long enough that decoding the nibbles once and reusing the bytes
// for every token beats decoding them per tile of tokens.
template <PackedFormat F>
void expand_group(const uint8_t* grp, int64_t k, int64_t kp, uint8_t* u_il, float* s_il, float* m_il) {
  constexpr int kGroup = F.group;
  constexpr int kGroupsPerUnit = 32 / kGroup;
  for_each_unit<F, SuperblockScales<F>, false>(
      grp, k, [&](const uint8_t* unit, int64_t col, const SuperblockScales<F>& scales, int n) {
        __m512i w[8];
        decode_steps<F, 0>(unit, w, std::make_integer_sequence<int, 8>{});
        for (int i = 0; i < 8; ++i) _mm512_storeu_si512(u_il + (col / 4 + i) * 64, w[i]);
        for (int half = 0; half < kGroupsPerUnit; ++half) {
          __m512 sv;
          __m512 mv;
          scales.group(n * kGroupsPerUnit + half, sv, mv);
          const int64_t j = (col + half * kGroup) / kGroup;
          _mm512_storeu_ps(s_il + j * 16, sv);
          _mm512_storeu_ps(m_il + j * 16, mv);
        }
      });
  std::memset(u_il + k * 16, 0, static_cast<size_t>((kp - k) * 16));
  for (int64_t j = k / kGroup; j < kp / kGroup; ++j) {
    _mm512_storeu_ps(s_il + j * 16, _mm512_setzero_ps());
    _mm512_storeu_ps(m_il + j * 16, _mm512_setzero_ps());
  }
}

template <PackedFormat F>
void packed_gemm(const uint8_t* grp, int64_t k, int64_t kp, const QuantActs& a, int64_t n_tokens, float* out) {
  int64_t t = 0;
  for (; t + 8 <= n_tokens; t += 8) packed_tile<F, 8>(grp, k, kp, a, t, out);
  with_count<7>(n_tokens - t, [&]<int N>() { packed_tile<F, N>(grp, k, kp, a, t, out); });
}

void gemm_packed(const uint8_t* grp, uint32_t type, int64_t k, int64_t kp, const QuantActs& a, int64_t n_tokens,
                 float* out) {
  with_packed_format(type, [&]<PackedFormat F>() { packed_gemm<F>(grp, k, kp, a, n_tokens, out); });
}

void expand_packed(const uint8_t* grp, uint32_t type, int64_t k, int64_t kp, uint8_t* u_il, float* s_il, float* m_il) {
  with_packed_format(type, [&]<PackedFormat F>() { expand_group<F>(grp, k, kp, u_il, s_il, m_il); });
}

}  // namespace

void fill_packed(KernelTable& t);
void fill_packed(KernelTable& t) {
  t.gemm_packed = gemm_packed;
  t.expand_packed = expand_packed;
}

}  // namespace owl::kernels::avx512
