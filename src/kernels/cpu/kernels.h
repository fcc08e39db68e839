// The CPU kernel table: one set of function pointers per ISA (ref, avx2, avx512), chosen once at
// start-up by CPU feature detection (OWL_CPU=ref|avx2|avx512 forces one). Mirrors CTranslate2's
// per-ISA dispatch; every entry is tested against the scalar reference (tests/kernels).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace owl {
struct BlockQ8_0;  // tensor/blocks.h
}

namespace owl::kernels {

enum class Isa : int { ref = 0, avx2 = 1, avx512 = 2 };

std::string_view isa_name(Isa isa);

// ---- the integer path (weights unpacked to uint8, activations quantised to int8) -------------
// A weight row of k values is unpacked to u[k] (uint8) and, per group of G values (G = 16 or 32,
// see unpack_group), a scale s and an offset m: value[i] = s[i/G] * u[i] + m[i/G]. For the types
// whose offset is a whole multiple of the scale (m = c * s, c = unpack_offset), the products add
// c * sum(q) to the integer sums instead of using m: one float operation less per group and token.
using UnpackFn = void (*)(const void* row, int64_t k, uint8_t* u, float* s, float* m);

// Activations of one token, quantised per block of `block` values (32, or 256 for the K-quants as
// llama.cpp's q8_K: d = max|x| / 127 over the block, q = round(x / d)) and padded with zeros to kp
// values (kp a multiple of 64). d16/s16/sq16: per 16 values the scale of their block, d * sum(q)
// and sum(q) over those 16; d32/s32/sq32 the same per 32.
struct QuantActs {
  const int8_t* q;
  const float* d16;
  const float* s16;
  const float* d32;
  const float* s32;
  const int32_t* sq16;
  const int32_t* sq32;
};
using QuantizeActsFn = void (*)(const float* x, int64_t k, int64_t kp, int block, int8_t* q, float* d16, float* s16,
                                float* d32, float* s32, int32_t* sq16, int32_t* sq32);

// The block of a weight type's activations: 256 for the K-quants (their scale groups then share
// one activation scale per super-block, applied once per super-block: see gemm_q16), 32 otherwise.
int act_block(uint32_t type);

// 16 unpacked rows (row-major u (16, kp), s and m (16, kp/G)) rearranged so that 64 bytes hold the
// same 4 columns of all 16 rows: u_il (kp/4, 16, 4); s_il, m_il (kp/G, 16).
using InterleaveFn = void (*)(const uint8_t* u, const float* s, const float* m, int64_t kp, int g, uint8_t* u_il,
                              float* s_il, float* m_il);

// Quantised activations rearranged for gemm_q16, in tiles of kTileTokens tokens, so that one
// pointer with constant offsets reaches every token of a tile (no per-token address registers):
// q (tiles, kp/4, kTileTokens, 4): per 4 columns, those of each token of the tile;
// d, sm (tiles, kp/g, kTileTokens): per scale group, QuantActs' d (d16 for g = 16, d32 for g = 32)
// of each token, and QuantActs' s (d * sum(q)), or with block_groups > 1 the plain sum(q) as a
// float; off, laid out as d: c * sum(q) for weights of a whole offset c (unpack_offset), or null
// for weights with a float offset. block_groups: 1 (the activation scale applied per group), or the
// scale groups per block of 256-value activations (act_block / g: 8 or 16), the scale applied once
// per block. Tokens past the last of a partial tile are zeros.
inline constexpr int kTileTokens = 8;
struct TiledActs {
  const int8_t* q;
  const float* d;
  const float* sm;
  const int32_t* off;
  int block_groups;
};
// Sizes of TiledActs' arrays for n_tokens tokens.
inline int64_t tiled_q_size(int64_t n_tokens, int64_t kp) {
  return (n_tokens + kTileTokens - 1) / kTileTokens * kTileTokens * kp;
}
inline int64_t tiled_scale_size(int64_t n_tokens, int64_t kp, int g) { return tiled_q_size(n_tokens, kp) / g; }
// Tokens [t0, ...) of tiled acts (t0 a multiple of kTileTokens), as tiled acts of their own.
inline TiledActs tiles_from(const TiledActs& a, int64_t t0, int64_t kp, int g) {
  return TiledActs{a.q + t0 * kp, a.d + t0 * kp / g, a.sm + t0 * kp / g, a.off ? a.off + t0 * kp / g : nullptr,
                   a.block_groups};
}
// Rearranges tokens [0, n_tokens) of acts (token-major, kp values each) into the tiled arrays of
// the given block_groups, for weights of whole offset c (off is written unless c is 0).
void tile_acts(const QuantActs& acts, int64_t n_tokens, int64_t kp, int g, int block_groups, int c, int8_t* q, float* d,
               float* sm, int32_t* off);

// out (n_tokens, 16) = the 16 interleaved rows dotted with tokens [0, n_tokens) of the tiled acts.
// Per (row, token) and scale group j: isum = sum(u * q), plus off when acts.off is set (then m_il is
// not read); with block_groups = 1, acc += isum * (s_j * d_j), then acc += m_j * sm_j; with
// block_groups = B > 1, per activation block b += isum * s_j (+ m_j * sum_j) over its B groups,
// then acc += b * d. The summation order does not depend on n_tokens, so decode and prefill give
// identical numbers, and every kernel of the integer path follows it.
using GemmQ16Fn = void (*)(const uint8_t* u_il, const float* s_il, const float* m_il, int64_t kp, int g,
                           const TiledActs& acts, int64_t n_tokens, float* out);

// The same product for 16 consecutive rows read straight from their blocks (row_stride bytes apart),
// skipping unpack and interleave; bit-identical to unpack + interleave + gemm_q16. k: values per row.
using GemmDirectFn = void (*)(const void* rows, size_t row_stride, int64_t k, int64_t kp, const QuantActs& acts,
                              int64_t n_tokens, float* out);

// The same product over a row group packed at load (kernels/cpu/packed.h) for a type with a packed
// form: out (n_tokens, 16), bit-identical to unpack + interleave + gemm_q16 of the same 16 rows.
using GemmPackedFn = void (*)(const uint8_t* group, uint32_t type, int64_t k, int64_t kp, const QuantActs& acts,
                              int64_t n_tokens, float* out);

// A packed row group expanded to gemm_q16's interleaved form (u_il (kp/4, 16, 4), s_il and m_il
// (kp/G, 16)), zero-padded from k to kp: for long prompts, decoding once and reusing the bytes for
// every token is cheaper. Same numbers as gemm_packed.
using ExpandPackedFn = void (*)(const uint8_t* group, uint32_t type, int64_t k, int64_t kp, uint8_t* u_il,
                                float* s_il, float* m_il);

// A row of k values of a quantized type as float32: the same numbers as tensor/quant.h's
// dequantize_row (the reference table calls it), for weights multiplied with float activations.
using DequantizeFn = void (*)(const void* row, float* y, int64_t k);
// k float32 values quantized into a row of a quantized type: the bytes of tensor/quant.h's
// quantize_row (the reference table calls it), for owl convert and owl quantize.
using QuantizeFn = void (*)(const float* x, void* row, int64_t k);

// The transposed product of training, on float rows: for t < n_tokens and c < width,
// dx[t·dx_stride + c] += Σ_{r < n_rows} dy[t·dy_stride + r] · w[r·w_stride + c], rows summed in order.
using AddRowsProductFn = void (*)(float* dx, int64_t dx_stride, const float* dy, int64_t dy_stride, const float* w,
                                  int64_t w_stride, int64_t n_tokens, int64_t n_rows, int64_t width);

// ---- float paths --------------------------------------------------------------------------------
using DotF32Fn = float (*)(const float* a, const float* b, int64_t n);       // fixed summation order
using ToF32Fn = void (*)(const uint16_t* src, float* dst, int64_t n);        // f16 or bf16 bits -> f32

// y[t * y_stride + r] = row r of w (f32, f16 or bf16; row_stride bytes apart) dotted with token t of x
// (n_tokens rows of k floats), for r < n_rows. Per (row, token) the order of the sum is fixed.
using GemmFloatFn = void (*)(const void* w, size_t row_stride, uint32_t type, int64_t n_rows, int64_t k,
                             const float* x, int64_t n_tokens, float* y, int64_t y_stride);

// ---- attention and activations -------------------------------------------------------------------
// Attention of up to kMaxQueries queries at once, so that each key and value row is read once for
// all of them. Query j is q + j*q_stride; its scores are out + j*out_stride:
// out_j[p] = dot(q_j, k + p*stride over d values) * scale, for p in [0, n).
inline constexpr int kMaxQueries = 4;
using DotRowsFn = void (*)(const float* q, int64_t q_stride, int nq, const float* k, int64_t stride, int64_t n,
                           int64_t d, float scale, float* out, int64_t out_stride);
// out_j[0, d) = sum over p in [0, n) of w_j[p] * (v + p*stride)[0, d), with w_j = w + j*w_stride and
// out_j = out + j*out_stride: the attention-weighted values. Per query, the same numbers as nq = 1.
using WeightedSumFn = void (*)(const float* w, int64_t w_stride, int nq, const float* v, int64_t stride, int64_t n,
                               int64_t d, float* out, int64_t out_stride);
// The same two kernels over a KV cache stored as f16 (rows `stride` uint16 apart) or Q8_0 (rows `stride`
// blocks apart; d a multiple of 32): dot_rows / weighted_sum on the rows converted to float32 (tensor/
// quant.h's dequantize for Q8_0), up to summation order; the AVX2 ones give exactly AVX2's float numbers.
using DotRowsF16Fn = void (*)(const float* q, int64_t q_stride, int nq, const uint16_t* k, int64_t stride, int64_t n,
                              int64_t d, float scale, float* out, int64_t out_stride);
using WeightedSumF16Fn = void (*)(const float* w, int64_t w_stride, int nq, const uint16_t* v, int64_t stride,
                                  int64_t n, int64_t d, float* out, int64_t out_stride);
using DotRowsQ8Fn = void (*)(const float* q, int64_t q_stride, int nq, const BlockQ8_0* k, int64_t stride, int64_t n,
                             int64_t d, float scale, float* out, int64_t out_stride);
using WeightedSumQ8Fn = void (*)(const float* w, int64_t w_stride, int nq, const BlockQ8_0* v, int64_t stride,
                                 int64_t n, int64_t d, float* out, int64_t out_stride);
// gate[i] = silu(gate[i]) * up[i] (SwiGLU).
using SwigluFn = void (*)(float* gate, const float* up, int64_t n);
// gate[i] = gelu_tanh(gate[i]) * up[i] (GeGLU, the tanh approximation of GELU).
using GegluFn = void (*)(float* gate, const float* up, int64_t n);
// y = x / sqrt(mean(x²) + eps) * w (y may alias x).
using RmsNormFn = void (*)(float* y, const float* x, const float* w, int64_t n, float eps);
// In place softmax; all -inf gives zeros, a NaN makes every entry NaN.
using SoftmaxFn = void (*)(float* x, int64_t n);

struct KernelTable {
  Isa isa = Isa::ref;
  DotF32Fn dot_f32 = nullptr;
  ToF32Fn f16_to_f32 = nullptr;
  ToF32Fn bf16_to_f32 = nullptr;
  GemmFloatFn gemm_float = nullptr;  // optional: null means the chunked dot path
  AddRowsProductFn add_rows_product = nullptr;
  DotRowsFn dot_rows = nullptr;
  WeightedSumFn weighted_sum = nullptr;
  DotRowsF16Fn dot_rows_f16 = nullptr;
  WeightedSumF16Fn weighted_sum_f16 = nullptr;
  DotRowsQ8Fn dot_rows_q8_0 = nullptr;
  WeightedSumQ8Fn weighted_sum_q8_0 = nullptr;
  SwigluFn swiglu = nullptr;
  GegluFn geglu = nullptr;
  RmsNormFn rms_norm = nullptr;
  SoftmaxFn softmax = nullptr;
  // Integer path: null entries mean "use the reference matmul".
  QuantizeActsFn quantize_acts = nullptr;
  InterleaveFn interleave = nullptr;
  GemmQ16Fn gemm_q16 = nullptr;
  UnpackFn unpack[32] = {};  // indexed by the GGUF type number (DType)
  GemmDirectFn gemm_direct[32] = {};  // optional, per type
  DequantizeFn dequantize[32] = {};  // per quantized type (DType); every table has all of them
  QuantizeFn quantize[32] = {};      // the same
  GemmPackedFn gemm_packed = nullptr;  // optional: weights packed at load
  ExpandPackedFn expand_packed = nullptr;  // optional, with gemm_packed
};

// The table of an ISA (a ref-filled table with that ISA's overrides); isa_supported says whether
// this CPU and OS can run it.
const KernelTable& table_for(Isa isa);
bool isa_supported(Isa isa);

// The best supported ISA, or OWL_CPU's choice (owl::Error when OWL_CPU names an unknown or unsupported
// ISA). Chosen on first use; thread-safe.
const KernelTable& active();

// Values per scale group of the unpacked form of a type (16 or 32), 0 when the type has no unpacker.
int unpack_group(uint32_t type);
// The whole c of a type whose unpacked offset is m = c * s (q4_0 -8, q5_0 -16, q8_0 and q8_K -128,
// q3_K -4, q6_K -32), 0 for the types with a float offset.
int unpack_offset(uint32_t type);

namespace ref {
float dot_f32_row(const float* a, const float* b, int64_t n);  // vec.h dot_f32, out of line
void f16_to_f32(const uint16_t* src, float* dst, int64_t n);
void bf16_to_f32(const uint16_t* src, float* dst, int64_t n);
void dot_rows(const float* q, int64_t q_stride, int nq, const float* k, int64_t stride, int64_t n, int64_t d,
              float scale, float* out, int64_t out_stride);
void weighted_sum(const float* w, int64_t w_stride, int nq, const float* v, int64_t stride, int64_t n, int64_t d,
                  float* out, int64_t out_stride);
void dot_rows_f16(const float* q, int64_t q_stride, int nq, const uint16_t* k, int64_t stride, int64_t n, int64_t d,
                  float scale, float* out, int64_t out_stride);
void weighted_sum_f16(const float* w, int64_t w_stride, int nq, const uint16_t* v, int64_t stride, int64_t n, int64_t d,
                      float* out, int64_t out_stride);
void dot_rows_q8_0(const float* q, int64_t q_stride, int nq, const BlockQ8_0* k, int64_t stride, int64_t n, int64_t d,
                   float scale, float* out, int64_t out_stride);
void weighted_sum_q8_0(const float* w, int64_t w_stride, int nq, const BlockQ8_0* v, int64_t stride, int64_t n,
                       int64_t d, float* out, int64_t out_stride);
void swiglu(float* gate, const float* up, int64_t n);
void geglu(float* gate, const float* up, int64_t n);
void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps);
void softmax(float* x, int64_t n);
void add_rows_product(float* dx, int64_t dx_stride, const float* dy, int64_t dy_stride, const float* w, int64_t w_stride,
                      int64_t n_tokens, int64_t n_rows, int64_t width);
void quantize_acts(const float* x, int64_t k, int64_t kp, int block, int8_t* q, float* d16, float* s16, float* d32,
                   float* s32, int32_t* sq16, int32_t* sq32);
// What every ISA's quantize_acts writes for the 32 values of block b, given their scale d and the
// sums of their two halves of 16: d16, s16, sq16 per half, d32, s32, sq32 for the block.
void store_act_sums(int64_t b, float d, int32_t sum0, int32_t sum1, float* d16, float* s16, float* d32, float* s32,
                    int32_t* sq16, int32_t* sq32);
void interleave(const uint8_t* u, const float* s, const float* m, int64_t kp, int g, uint8_t* u_il, float* s_il,
                float* m_il);
void gemm_q16(const uint8_t* u_il, const float* s_il, const float* m_il, int64_t kp, int g, const TiledActs& acts,
              int64_t n_tokens, float* out);
void fill_unpackers(UnpackFn* table);
void fill_block_converters(DequantizeFn* dequantize, QuantizeFn* quantize);
}  // namespace ref

namespace avx2 {
void fill(KernelTable& t);
}
namespace avx512 {
void fill(KernelTable& t);
}

}  // namespace owl::kernels
