// AVX2 kernel over packed row groups (layout: kernels/cpu/packed.h) for CPUs without AVX-512 VNNI.
// A 64-byte chunk holds 16 rows; each half (8 rows) is one 256-bit register. Without vpdpbusd the
// 4-value dot products are vpmaddubsw + vpmaddwd: exact while a byte pair stays below 32768, which
// holds for values up to 6 bits; 8-bit values (q8_0) are split into nibbles first. The integer sums
// are thus those of the AVX-512 kernel, and so are the float steps: the results are bit-identical.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/static_count.h"
#include "tensor/dtype.h"

namespace owl::kernels::avx2 {

namespace {

inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline __m256 load_f16x8(const uint8_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m128i load_8_bytes(const uint8_t* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return _mm_cvtsi64_si128(v);
}

inline __m256 load_u8x8(const uint8_t* p) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(load_8_bytes(p))); }
inline __m256 load_i8x8(const uint8_t* p) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(load_8_bytes(p))); }

// Step S of a unit for rows 8h..8h+7 (one row per dword lane).
template <PackedFormat F, int S>
inline __m256i decode_step(const uint8_t* unit, int h) {
  const auto* v = reinterpret_cast<const __m256i*>(unit + 32 * h);  // chunk c is v[2c]
  if constexpr (F.vbits == 8) {
    return _mm256_loadu_si256(v + 2 * S);
  } else if constexpr (F.vbits <= 3) {
    constexpr int kPair = S % 4;  // which 2-bit field of the byte
    const __m256i lo =
        _mm256_and_si256(_mm256_srli_epi16(_mm256_loadu_si256(v + 2 * (S / 4)), 2 * kPair), _mm256_set1_epi8(0x03));
    if constexpr (F.vbits == 2) return lo;
    const __m256i hp = _mm256_loadu_si256(v + 2 * 2);
    const __m256i hb = S <= 2 ? _mm256_slli_epi16(hp, 2 - S) : _mm256_srli_epi16(hp, S - 2);
    return _mm256_or_si256(lo, _mm256_and_si256(hb, _mm256_set1_epi8(0x04)));
  } else {
    const __m256i nib = _mm256_loadu_si256(v + 2 * (S % 4));
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i lo = S < 4 ? _mm256_and_si256(nib, low4) : _mm256_and_si256(_mm256_srli_epi16(nib, 4), low4);
    if constexpr (F.vbits == 4) {
      return lo;
    } else if constexpr (F.vbits == 5) {
      const __m256i hp = _mm256_loadu_si256(v + 2 * 4);
      const __m256i hb = S <= 4 ? _mm256_slli_epi16(hp, 4 - S) : _mm256_srli_epi16(hp, S - 4);
      return _mm256_or_si256(lo, _mm256_and_si256(hb, _mm256_set1_epi8(0x10)));
    } else {
      const __m256i hp = _mm256_loadu_si256(v + 2 * (4 + S / 4));
      constexpr int kPair = S % 4;
      const __m256i hb = kPair < 3 ? _mm256_slli_epi16(hp, 4 - 2 * kPair) : _mm256_srli_epi16(hp, 2);
      return _mm256_or_si256(lo, _mm256_and_si256(hb, _mm256_set1_epi8(0x30)));
    }
  }
}

template <PackedFormat F, int S0, int... Is>
inline void decode_steps(const uint8_t* unit, int h, __m256i* w, std::integer_sequence<int, Is...>) {
  ((w[Is] = decode_step<F, S0 + Is>(unit, h)), ...);
}

// Sum over 4 values per dword lane of unsigned w times signed a (vpdpbusd without VNNI).
template <int VBITS>
inline __m256i dot4(__m256i w, __m256i a) {
  const __m256i ones = _mm256_set1_epi16(1);
  if constexpr (VBITS == 8) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(w, low4), a), ones);
    const __m256i hi =
        _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(w, 4), low4), a), ones);
    return _mm256_add_epi32(lo, _mm256_slli_epi32(hi, 4));
  } else {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), ones);
  }
}

template <PackedFormat F, int NT>
void packed_tile(const uint8_t* grp, int64_t k, int64_t kp, const QuantActs& a, int64_t t0, int h, float* out) {
  constexpr int kGroup = F.group;
  constexpr int kSteps = kGroup / 4;
  constexpr int kGroupsPerUnit = 32 / kGroup;
  constexpr int kGroupsPerSb = F.superblock / kGroup;
  constexpr size_t kSbBytes = packed_superblock_scale_bytes(F);
  constexpr size_t kUnitBytes = packed_unit_bytes(F);
  constexpr size_t kFullChunk = packed_chunk_scale_bytes(F, kPackChunk) + kUnitBytes * (kPackChunk / 32);
  const int64_t ng = kp / kGroup;
  const float* ad = kGroup == 16 ? a.d16 : a.d32;
  const float* as = kGroup == 16 ? a.s16 : a.s32;
  const int32_t* asq = kGroup == 16 ? a.sq16 : a.sq32;
  constexpr bool kWholeOffset = packed_whole_offset(F);  // enters the integer sums, as in gemm_q16
  constexpr bool kPerBlock = F.superblock == 256;        // one activation scale per super-block, as there
  __m256 acc[NT];
  __m256 blk[NT];
  const int8_t* q[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = blk[t] = _mm256_setzero_ps();
    q[t] = a.q + (t0 + t) * kp;
  }
  for (int64_t c0 = 0; c0 < k; c0 += kPackChunk) {
    const int64_t n_values = std::min<int64_t>(kPackChunk, k - c0);
    const uint8_t* chunk = grp + (c0 / kPackChunk) * kFullChunk;
    const uint8_t* units = chunk + (n_values == kPackChunk ? packed_chunk_scale_bytes(F, kPackChunk)
                                                           : packed_chunk_scale_bytes(F, n_values));
    for (int64_t sbl = 0; sbl < n_values / F.superblock; ++sbl) {
      const uint8_t* area = chunk + sbl * kSbBytes;
      const __m256 dv = load_f16x8(area + 16 * h);
      __m256 second = _mm256_setzero_ps();
      if constexpr (F.scale == PackScale::d_and_m) second = load_f16x8(area + 32 + 16 * h);
      if constexpr (F.scale == PackScale::d_dmin_u8 || F.scale == PackScale::d_dmin_u4) {
        second = _mm256_xor_ps(load_f16x8(area + 32 + 16 * h), _mm256_set1_ps(-0.0f));
      }
      for (int n = 0; n < F.superblock / 32; ++n) {
        const uint8_t* unit = units + (sbl * (F.superblock / 32) + n) * kUnitBytes;
        for (int half = 0; half < kGroupsPerUnit; ++half) {
          const int gi = n * kGroupsPerUnit + half;
          __m256 sv;
          __m256 mv;
          if constexpr (F.scale == PackScale::d_only) {
            sv = dv;
            mv = _mm256_setzero_ps();
          } else if constexpr (F.scale == PackScale::d_and_m) {
            sv = dv;
            mv = second;
          } else if constexpr (F.scale == PackScale::d_dmin_u8) {
            sv = _mm256_mul_ps(dv, load_u8x8(area + 64 + gi * 16 + 8 * h));
            mv = _mm256_mul_ps(second, load_u8x8(area + 64 + (kGroupsPerSb + gi) * 16 + 8 * h));
          } else if constexpr (F.scale == PackScale::d_dmin_u4) {
            const __m256i both = _mm256_cvtepu8_epi32(load_8_bytes(area + 64 + gi * 16 + 8 * h));
            sv = _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_and_si256(both, _mm256_set1_epi32(0x0f))));
            mv = _mm256_mul_ps(second, _mm256_cvtepi32_ps(_mm256_srli_epi32(both, 4)));
          } else {
            sv = _mm256_mul_ps(dv, load_i8x8(area + 32 + gi * 16 + 8 * h));
            mv = _mm256_setzero_ps();
          }
          __m256i w[kSteps];
          if constexpr (kGroupsPerUnit == 1) {
            decode_steps<F, 0>(unit, h, w, std::make_integer_sequence<int, kSteps>{});
          } else if (half == 0) {
            decode_steps<F, 0>(unit, h, w, std::make_integer_sequence<int, kSteps>{});
          } else {
            decode_steps<F, 4>(unit, h, w, std::make_integer_sequence<int, kSteps>{});
          }
          const int64_t col = c0 + sbl * F.superblock + n * 32 + half * kGroup;
          const int64_t gidx = col / kGroup;
          for (int t = 0; t < NT; ++t) {
            const int64_t idx = (t0 + t) * ng + gidx;
            __m256i isum = dot4<F.vbits>(w[0], _mm256_set1_epi32(load_i32(q[t] + col)));
            if constexpr (kWholeOffset) {
              isum = _mm256_add_epi32(isum, _mm256_set1_epi32(static_cast<int32_t>(F.offset) * asq[idx]));
            }
            for (int i = 1; i < kSteps; ++i) {
              isum = _mm256_add_epi32(isum, dot4<F.vbits>(w[i], _mm256_set1_epi32(load_i32(q[t] + col + 4 * i))));
            }
            if constexpr (kPerBlock) {
              blk[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), sv, blk[t]);
              if constexpr (!kWholeOffset)
                blk[t] = _mm256_fmadd_ps(mv, _mm256_set1_ps(static_cast<float>(asq[idx])), blk[t]);
              if (gi == kGroupsPerSb - 1) {  // the super-block's last group
                acc[t] = _mm256_fmadd_ps(blk[t], _mm256_set1_ps(ad[idx]), acc[t]);
                blk[t] = _mm256_setzero_ps();
              }
            } else {
              const __m256 scale = _mm256_mul_ps(sv, _mm256_set1_ps(ad[idx]));
              acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale, acc[t]);
              if constexpr (!kWholeOffset) acc[t] = _mm256_fmadd_ps(mv, _mm256_set1_ps(as[idx]), acc[t]);
            }
          }
        }
      }
    }
  }
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + (t0 + t) * 16 + 8 * h, acc[t]);
}

template <PackedFormat F>
void packed_gemm(const uint8_t* grp, int64_t k, int64_t kp, const QuantActs& a, int64_t n_tokens, float* out) {
  for (int h = 0; h < 2; ++h) {  // rows 0-7, then 8-15 (the second pass finds the group in cache)
    int64_t t = 0;
    for (; t + 4 <= n_tokens; t += 4) packed_tile<F, 4>(grp, k, kp, a, t, h, out);
    with_count<3>(n_tokens - t, [&]<int N>() { packed_tile<F, N>(grp, k, kp, a, t, h, out); });
  }
}

void gemm_packed(const uint8_t* grp, uint32_t type, int64_t k, int64_t kp, const QuantActs& a, int64_t n_tokens,
                 float* out) {
  with_packed_format(type, [&]<PackedFormat F>() { packed_gemm<F>(grp, k, kp, a, n_tokens, out); });
}

}  // namespace

void fill_packed(KernelTable& t);
void fill_packed(KernelTable& t) {
  t.quantize_acts = ref::quantize_acts;  // bit-identical to the AVX-512 one, and cheap next to the product
  t.gemm_packed = gemm_packed;
}

}  // namespace owl::kernels::avx2
