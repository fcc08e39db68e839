// AVX2 kernel over packed row groups (layout: kernels/cpu/packed.h) for CPUs without AVX-512 VNNI.
// A 64-byte chunk holds 16 rows; each half (8 rows) is one 256-bit register. Without vpdpbusd the
// 4-value dot products are vpmaddubsw + vpmaddwd (see run_steps for why that is exact). The integer
// sums are thus those of the AVX-512 kernel, and so are the float steps: the results are bit-identical.
#include <immintrin.h>

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

// vpmaddubsw multiplies unsigned weight bytes with signed activation bytes and adds pairs into int16,
// at most 2 * (2^vbits - 1) * 128 in magnitude: no saturation up to 7 bits, and the pair sums of
// several steps can be added in int16 before one vpmaddwd (with ones) widens them to int32: 8 steps
// of up to 4 bits (30720), 4 of 5 bits (31744), 2 of 6 bits (32256). 8-bit values (q8_0) go through
// as two nibbles, each a run of 8. Integer sums are exact in any order.
constexpr int run_steps(int vbits) { return vbits == 5 ? 4 : vbits == 6 ? 2 : 8; }

// The scales of one super-block of a row group, and from them each group's s and m, per 8-row half.
template <PackedFormat F>
struct HalfScales {
  const uint8_t* area;
  __m256 d[2];
  __m256 second[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};  // m, or -dmin

  explicit HalfScales(const uint8_t* scales) : area(scales) {
    for (int h = 0; h < 2; ++h) {
      d[h] = load_f16x8(area + 16 * h);
      if constexpr (F.scale == PackScale::d_and_m) second[h] = load_f16x8(area + 32 + 16 * h);
      if constexpr (F.scale == PackScale::d_dmin_u8 || F.scale == PackScale::d_dmin_u4) {
        second[h] = _mm256_xor_ps(load_f16x8(area + 32 + 16 * h), _mm256_set1_ps(-0.0f));
      }
    }
  }

  // Group gi of the super-block for rows 8h..8h+7: value = sv * u + mv, as the unpackers compute them
  // (no mv for a whole offset, which enters the integer sums instead).
  [[gnu::always_inline]] void group(int gi, int h, __m256& sv, __m256& mv) const {
    constexpr int kGroupsPerSb = F.superblock / F.group;
    mv = second[h];
    if constexpr (F.scale == PackScale::d_only || F.scale == PackScale::d_and_m) {
      sv = d[h];
    } else if constexpr (F.scale == PackScale::d_dmin_u8) {
      sv = _mm256_mul_ps(d[h], load_u8x8(area + 64 + gi * 16 + 8 * h));
      mv = _mm256_mul_ps(second[h], load_u8x8(area + 64 + (kGroupsPerSb + gi) * 16 + 8 * h));
    } else if constexpr (F.scale == PackScale::d_dmin_u4) {
      const __m256i both = _mm256_cvtepu8_epi32(load_8_bytes(area + 64 + gi * 16 + 8 * h));
      sv = _mm256_mul_ps(d[h], _mm256_cvtepi32_ps(_mm256_and_si256(both, _mm256_set1_epi32(0x0f))));
      mv = _mm256_mul_ps(second[h], _mm256_cvtepi32_ps(_mm256_srli_epi32(both, 4)));
    } else {
      sv = _mm256_mul_ps(d[h], load_i8x8(area + 32 + gi * 16 + 8 * h));
    }
  }
};

constexpr int kHalves = 2;  // 8-row halves of a row group, one register each

// isum[t][h] += the integer dot products of one scale group, steps S0.. of a unit, for rows 8h..8h+7
// and token t, whose activations for the group start at q[t] + col.
template <PackedFormat F, int NT, int S0, int... Is>
[[gnu::always_inline]] inline void add_group_sums(const uint8_t* unit, const int8_t* const* q, int64_t col,
                                                  __m256i (&isum)[NT][kHalves], std::integer_sequence<int, Is...>) {
  constexpr int kRun = run_steps(F.vbits);
  constexpr int kSteps = sizeof...(Is);
  constexpr bool kSplit = F.vbits == 8;
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256i lo[NT][kHalves];  // int16 runs (of the low nibbles when split)
  __m256i hi[NT][kHalves];  // of the high nibbles (split only)
  for (int t = 0; t < NT; ++t) {
    for (int h = 0; h < kHalves; ++h) lo[t][h] = hi[t][h] = _mm256_setzero_si256();
  }
  auto step = [&]<int I>() [[gnu::always_inline]] {
    __m256i w[kHalves];
    __m256i wh[kHalves];
    for (int h = 0; h < kHalves; ++h) {
      w[h] = decode_step<F, S0 + I>(unit, h);
      if constexpr (kSplit) {
        wh[h] = _mm256_and_si256(_mm256_srli_epi16(w[h], 4), low4);
        w[h] = _mm256_and_si256(w[h], low4);
      }
    }
    for (int t = 0; t < NT; ++t) {
      const __m256i av = _mm256_set1_epi32(load_i32(q[t] + col + 4 * I));
      for (int h = 0; h < kHalves; ++h) {
        // A saturating add never saturates here (see run_steps), but unlike a plain one the compiler
        // cannot reassociate it into a tree that keeps every product live (and spills them).
        lo[t][h] = _mm256_adds_epi16(lo[t][h], _mm256_maddubs_epi16(w[h], av));
        if constexpr (kSplit) hi[t][h] = _mm256_adds_epi16(hi[t][h], _mm256_maddubs_epi16(wh[h], av));
      }
    }
    if constexpr ((I + 1) % kRun == 0 || I + 1 == kSteps) {  // widen the run into the int32 sums
      for (int t = 0; t < NT; ++t) {
        for (int h = 0; h < kHalves; ++h) {
          __m256i s = _mm256_madd_epi16(lo[t][h], ones);
          if constexpr (kSplit) s = _mm256_add_epi32(s, _mm256_slli_epi32(_mm256_madd_epi16(hi[t][h], ones), 4));
          isum[t][h] = _mm256_add_epi32(isum[t][h], s);
          lo[t][h] = hi[t][h] = _mm256_setzero_si256();
        }
      }
    }
  };
  (step.template operator()<Is>(), ...);
}

// Tokens t0..t0+NT-1 through the 16 rows of a row group, into out (n_tokens, 16). Both halves in one
// pass: the group streams from memory once, and each activation broadcast serves both.
template <PackedFormat F, int NT>
void packed_tile(const uint8_t* grp, int64_t k, int64_t kp, const QuantActs& a, int64_t t0, float* out) {
  constexpr int kGroup = F.group;
  constexpr int kSteps = kGroup / 4;
  constexpr int kGroupsPerUnit = 32 / kGroup;
  constexpr int kUnitsPerSb = F.superblock / 32;
  constexpr bool kWholeOffset = packed_whole_offset(F);  // enters the integer sums, as in gemm_q16
  constexpr bool kPerBlock = F.superblock == 256;        // one activation scale per super-block, as there
  const int64_t ng = kp / kGroup;
  const float* ad = kGroup == 16 ? a.d16 : a.d32;
  const float* as = kGroup == 16 ? a.s16 : a.s32;
  const int32_t* asq = kGroup == 16 ? a.sq16 : a.sq32;
  __m256 acc[NT][kHalves];
  __m256 blk[NT][kHalves];  // kPerBlock: the super-block's sums before the activation scale
  const int8_t* q[NT];
  for (int t = 0; t < NT; ++t) {
    for (int h = 0; h < kHalves; ++h) acc[t][h] = blk[t][h] = _mm256_setzero_ps();
    q[t] = a.q + (t0 + t) * kp;
  }
  auto unit_fn = [&](const uint8_t* unit, int64_t col0, const HalfScales<F>& scales, int n) [[gnu::always_inline]] {
    for (int half = 0; half < kGroupsPerUnit; ++half) {
      const int gi = n * kGroupsPerUnit + half;
      const int64_t col = col0 + half * kGroup;
      const int64_t gidx = col / kGroup;
      __m256i isum[NT][kHalves];
      for (int t = 0; t < NT; ++t) {
        const int32_t offset = kWholeOffset ? static_cast<int32_t>(F.offset) * asq[(t0 + t) * ng + gidx] : 0;
        for (int h = 0; h < kHalves; ++h) isum[t][h] = _mm256_set1_epi32(offset);
      }
      if (half == 0) {
        add_group_sums<F, NT, 0>(unit, q, col, isum, std::make_integer_sequence<int, kSteps>{});
      } else {
        add_group_sums<F, NT, 4>(unit, q, col, isum, std::make_integer_sequence<int, kSteps>{});
      }
      for (int h = 0; h < kHalves; ++h) {
        __m256 sv;
        __m256 mv;
        scales.group(gi, h, sv, mv);
        for (int t = 0; t < NT; ++t) {
          const int64_t idx = (t0 + t) * ng + gidx;
          const __m256 fsum = _mm256_cvtepi32_ps(isum[t][h]);
          if constexpr (kPerBlock) {
            blk[t][h] = _mm256_fmadd_ps(fsum, sv, blk[t][h]);
            if constexpr (!kWholeOffset) {
              blk[t][h] = _mm256_fmadd_ps(mv, _mm256_set1_ps(static_cast<float>(asq[idx])), blk[t][h]);
            }
            if (n == kUnitsPerSb - 1 && half == kGroupsPerUnit - 1) {  // the super-block's last group
              acc[t][h] = _mm256_fmadd_ps(blk[t][h], _mm256_set1_ps(ad[idx]), acc[t][h]);
              blk[t][h] = _mm256_setzero_ps();
            }
          } else {
            acc[t][h] = _mm256_fmadd_ps(fsum, _mm256_mul_ps(sv, _mm256_set1_ps(ad[idx])), acc[t][h]);
            if constexpr (!kWholeOffset) acc[t][h] = _mm256_fmadd_ps(mv, _mm256_set1_ps(as[idx]), acc[t][h]);
          }
        }
      }
    }
  };
  for_each_unit<F, HalfScales<F>, NT <= 2>(grp, k, unit_fn);
  for (int t = 0; t < NT; ++t) {
    for (int h = 0; h < kHalves; ++h) _mm256_storeu_ps(out + (t0 + t) * 16 + 8 * h, acc[t][h]);
  }
}

// Tiles of 3 tokens x both halves (measured against 4, 5 and 6 tokens x one half and 2 x both: the
// best or within 3% for every type), the last one or two tokens as one tile.
template <PackedFormat F>
void packed_gemm(const uint8_t* grp, int64_t k, int64_t kp, const QuantActs& a, int64_t n_tokens, float* out) {
  int64_t t = 0;
  for (; t + 3 <= n_tokens; t += 3) packed_tile<F, 3>(grp, k, kp, a, t, out);
  with_count<2>(n_tokens - t, [&]<int N>() { packed_tile<F, N>(grp, k, kp, a, t, out); });
}

void gemm_packed(const uint8_t* grp, uint32_t type, int64_t k, int64_t kp, const QuantActs& a, int64_t n_tokens,
                 float* out) {
  with_packed_format(type, [&]<PackedFormat F>() { packed_gemm<F>(grp, k, kp, a, n_tokens, out); });
}

}  // namespace

void fill_packed(KernelTable& t);
void fill_packed(KernelTable& t) { t.gemm_packed = gemm_packed; }

}  // namespace owl::kernels::avx2
