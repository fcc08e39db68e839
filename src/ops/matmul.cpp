// Matmul: rows of W are split across threads (by whole 16-row groups), so each row is computed by
// one thread in a fixed order whatever the thread count. Three paths, chosen per weight type and ISA:
//  - reference (OWL_CPU=ref, or a type without a SIMD path): each row dequantised chunk by chunk
//    with tensor/quant.h and dotted with every token in float (the original scalar reference);
//  - float (f32, f16, bf16 weights): the ISA's register-tiled GEMM (gemm_float), or the chunked loop
//    with its f16/bf16 conversion and dot where it has none;
//  - integer (quantised weights): activations quantised once per call to int8 per 32 values, each
//    16-row group unpacked to uint8 + per-group scales, interleaved, and multiplied with VNNI
//    (kernels/cpu/avx512/qgemm_avx512.cpp). Its per-(row, token) arithmetic does not depend on the
//    batch size, so decoding and prefilling give identical numbers. When the weight was packed at
//    load (ops/packed_matrix.h) the same arithmetic runs over the packed copy, skipping the unpack.
#include "ops/matmul.h"

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "base/error.h"
#include "kernels/cpu/ref/vec.h"
#include "ops/packed_matrix.h"
#include "tensor/quant.h"

namespace owl::ops {

namespace {
constexpr int64_t kChunk = 1024;                // a multiple of every block size (32, 256)

void check_shape(const Weight& w) {
  const int64_t block = dtype_traits(w.type).block_size;
  if (w.cols % block != 0) {
    fail("{}: {} columns are not a multiple of the {} block size", w.name, w.cols, dtype_name(w.type));
  }
}

void matmul_reference(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool) {
  const int64_t in = w.cols;
  const int64_t out = w.rows;
  const int64_t block = dtype_traits(w.type).block_size;
  const size_t bytes_per_value_block = dtype_traits(w.type).block_bytes;
  pool.parallel_for(out, [&](int64_t r0, int64_t r1, int) {
    float buf[kChunk];
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* row = w.row(r);
      if (w.type == DType::f32) {
        const auto* wr = reinterpret_cast<const float*>(row);
        for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] = kernels::ref::dot_f32(wr, x + t * in, in);
        continue;
      }
      for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] = 0.0f;
      for (int64_t c = 0; c < in; c += kChunk) {
        const int64_t len = std::min(kChunk, in - c);
        dequantize_row(w.type, row + (c / block) * bytes_per_value_block, buf, len);
        for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] += kernels::ref::dot_f32(buf, x + t * in + c, len);
      }
    }
  }, min_items(in * n_tokens));
}

// Float weights with a GEMM kernel: each thread takes whole blocks of 16 rows; tokens go in blocks
// whose activations stay in cache while the thread's rows stream past.
void matmul_float_gemm(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool,
                       const kernels::KernelTable& kt) {
  const int64_t in = w.cols;
  const int64_t out = w.rows;
  constexpr int64_t kTokenBlock = 128;
  const int64_t n_blocks = (out + 15) / 16;
  pool.parallel_for(n_blocks, [&](int64_t b0, int64_t b1, int) {
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenBlock) {
      const int64_t nt = std::min(kTokenBlock, n_tokens - t0);
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t r0 = b * 16;
        kt.gemm_float(w.row(r0), w.row_stride(), static_cast<uint32_t>(w.type), std::min<int64_t>(16, out - r0), in,
                      x + t0 * in, nt, y + t0 * out + r0, out);
      }
    }
  }, min_items(16 * in * n_tokens));
}

void matmul_float(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool,
                  const kernels::KernelTable& kt) {
  if (kt.gemm_float != nullptr) return matmul_float_gemm(y, w, x, n_tokens, pool, kt);
  const int64_t in = w.cols;
  const int64_t out = w.rows;
  pool.parallel_for(out, [&](int64_t r0, int64_t r1, int) {
    float buf[kChunk];
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* row = w.row(r);
      if (w.type == DType::f32) {
        const auto* wr = reinterpret_cast<const float*>(row);
        for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] = kt.dot_f32(wr, x + t * in, in);
        continue;
      }
      const auto* wr = reinterpret_cast<const uint16_t*>(row);
      for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] = 0.0f;
      for (int64_t c = 0; c < in; c += kChunk) {
        const int64_t len = std::min(kChunk, in - c);
        (w.type == DType::f16 ? kt.f16_to_f32 : kt.bf16_to_f32)(wr + c, buf, len);
        for (int64_t t = 0; t < n_tokens; ++t) y[t * out + r] += kt.dot_f32(buf, x + t * in + c, len);
      }
    }
  }, min_items(in * n_tokens));
}

// Quantized rows times float32 activations (Weight::float_activations): each thread dequantizes
// blocks of 16 rows into float32 and runs the float GEMM on them, so only the weights are rounded.
void matmul_dequantized(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool,
                        const kernels::KernelTable& kt) {
  const int64_t in = w.cols;
  const int64_t out = w.rows;
  const int64_t n_blocks = (out + 15) / 16;
  const kernels::DequantizeFn dequantize = kt.dequantize[static_cast<int>(w.type)];
  if (dequantize == nullptr) fail("{}: no dequantizer for {}", w.name, dtype_name(w.type));
  pool.parallel_for(n_blocks, [&](int64_t b0, int64_t b1, int) {
    thread_local std::vector<float> rows;
    rows.resize(static_cast<size_t>(16 * in));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * 16, n = std::min<int64_t>(16, out - r0);
      for (int64_t r = 0; r < n; ++r) dequantize(w.row(r0 + r), rows.data() + r * in, in);
      kt.gemm_float(rows.data(), static_cast<size_t>(in) * sizeof(float), static_cast<uint32_t>(DType::f32), n, in, x,
                    n_tokens, y + r0, out);
    }
  }, min_items(16 * in * n_tokens));
}

// Per-thread scratch of the integer path; grown, never shrunk.
struct GroupScratch {
  std::vector<uint8_t> u, u_il;
  std::vector<float> s, m, s_il, m_il, out;
};

struct ActScratch {
  std::vector<int8_t> q;
  std::vector<float> d16, s16, d32, s32;
  std::vector<int32_t> sq16, sq32;
};

template <typename T>
T* grow(std::vector<T>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

// Quantises n_tokens rows of x (in values each) per `block` values (32 or 256) into the calling
// thread's scratch for that block size, padded to kp.
kernels::QuantActs quantize_activations(const float* x, int64_t n_tokens, int64_t in, int64_t kp, int block,
                                        ThreadPool& pool, const kernels::KernelTable& kt) {
  thread_local ActScratch slots[2];
  ActScratch& acts = slots[block == 256 ? 1 : 0];
  int8_t* q = grow(acts.q, n_tokens * kp);
  float* d16 = grow(acts.d16, n_tokens * kp / 16);
  float* s16 = grow(acts.s16, n_tokens * kp / 16);
  float* d32 = grow(acts.d32, n_tokens * kp / 32);
  float* s32 = grow(acts.s32, n_tokens * kp / 32);
  int32_t* sq16 = grow(acts.sq16, n_tokens * kp / 16);
  int32_t* sq32 = grow(acts.sq32, n_tokens * kp / 32);
  pool.parallel_for(
      n_tokens,
      [&](int64_t t0, int64_t t1, int) {
        for (int64_t t = t0; t < t1; ++t) {
          kt.quantize_acts(x + t * in, in, kp, block, q + t * kp, d16 + t * kp / 16, s16 + t * kp / 16,
                           d32 + t * kp / 32, s32 + t * kp / 32, sq16 + t * kp / 16, sq32 + t * kp / 32);
        }
      },
      min_items(in));
  return kernels::QuantActs{q, d16, s16, d32, s32, sq16, sq32};
}

// The activations of one matmul call, quantised per 32 values for the legacy types and per 256 for
// the K-quants (kernels::act_block), each only when an output needs it.
struct BlockActs {
  kernels::QuantActs per32{}, per256{};
  const kernels::QuantActs& of(uint32_t type) const { return kernels::act_block(type) == 256 ? per256 : per32; }
};

// Tokens [t0, ...) of acts, as acts of their own.
kernels::QuantActs tokens_from(const kernels::QuantActs& a, int64_t t0, int64_t kp) {
  return kernels::QuantActs{a.q + t0 * kp,        a.d16 + t0 * kp / 16,  a.s16 + t0 * kp / 16, a.d32 + t0 * kp / 32,
                            a.s32 + t0 * kp / 32, a.sq16 + t0 * kp / 16, a.sq32 + t0 * kp / 32};
}

// The activations rearranged for gemm_q16 (kernels::TiledActs) for weights of one type, in the
// calling thread's scratch slot `slot` (slots stay valid together, for matrices of several types:
// growing the list moves the slots' vectors, not their buffers).
kernels::TiledActs tile_activations(const kernels::QuantActs& acts, int64_t n_tokens, int64_t kp, DType type,
                                    ThreadPool& pool, int slot = 0) {
  struct Tiled {
    std::vector<int8_t> q;
    std::vector<float> d, sm;
    std::vector<int32_t> off;
  };
  thread_local std::vector<Tiled> slots;
  if (slots.size() <= static_cast<size_t>(slot)) slots.resize(static_cast<size_t>(slot) + 1);
  Tiled& sc = slots[static_cast<size_t>(slot)];
  const int g = kernels::unpack_group(static_cast<uint32_t>(type));
  const int c = kernels::unpack_offset(static_cast<uint32_t>(type));
  const int block_groups = kernels::act_block(static_cast<uint32_t>(type)) == 256 ? 256 / g : 1;
  const int64_t n_scales = kernels::tiled_scale_size(n_tokens, kp, g);
  int8_t* q = grow(sc.q, kernels::tiled_q_size(n_tokens, kp));
  float* d = grow(sc.d, n_scales);
  float* sm = grow(sc.sm, n_scales);
  int32_t* off = c != 0 ? grow(sc.off, n_scales) : nullptr;
  const int64_t n_tiles = (n_tokens + kernels::kTileTokens - 1) / kernels::kTileTokens;
  pool.parallel_for(
      n_tiles,
      [&](int64_t b, int64_t e, int) {  // tiles are independent
        const int64_t t0 = b * kernels::kTileTokens;
        const int64_t ng = kp / g;
        kernels::tile_acts(tokens_from(acts, t0, kp), std::min(e * kernels::kTileTokens, n_tokens) - t0, kp, g,
                           block_groups, c, q + t0 * kp, d + t0 * ng, sm + t0 * ng,
                           off != nullptr ? off + t0 * ng : nullptr);
      },
      min_items(kernels::kTileTokens * kp));
  return kernels::TiledActs{q, d, sm, off, block_groups};
}

// The 16-row groups of several matrices that share their input, numbered one after the other.
class GroupIndex {
 public:
  explicit GroupIndex(std::span<const MatmulOutput> outs) : outs_(outs) {
    for (const MatmulOutput& o : outs) total_ += (o.w->rows + 15) / 16;
  }
  int64_t total() const { return total_; }
  // Moves to global group grp (never backwards): its output, matrix, first row and row count.
  struct Group {
    const MatmulOutput* out;
    int64_t group;  // within its matrix
    int64_t r0;
    size_t rows;
  };
  Group seek(int64_t grp) {
    while (grp >= first_ + groups_of(job_)) first_ += groups_of(job_++);
    const Weight& w = *outs_[job_].w;
    const int64_t local = grp - first_;
    return Group{&outs_[job_], local, local * 16, static_cast<size_t>(std::min<int64_t>(16, w.rows - local * 16))};
  }

 private:
  int64_t groups_of(size_t job) const { return (outs_[job].w->rows + 15) / 16; }
  std::span<const MatmulOutput> outs_;
  int64_t total_ = 0;
  size_t job_ = 0;
  int64_t first_ = 0;  // global index of job_'s first group
};

// Results of a group for tokens [t0, t0 + nt) (res: nt x 16) into its output rows.
void store_group(const GroupIndex::Group& gr, const float* res, int64_t t0, int64_t nt) {
  const int64_t rows = gr.out->w->rows;
  float* y = gr.out->y + t0 * rows + gr.r0;
  if (gr.rows == 16) {  // a constant size: one inlined 64-byte move per token, not a library call
    for (int64_t t = 0; t < nt; ++t) std::memcpy(y + t * rows, res + t * 16, sizeof(float) * 16);
    return;
  }
  for (int64_t t = 0; t < nt; ++t) std::memcpy(y + t * rows, res + t * 16, sizeof(float) * gr.rows);
}

// Short prompts on packed weights: tiles straight from the packed bytes, in token blocks whose
// activations stay in L2. The threads claim runs of whole 16-row groups until none is left.
void matmul_packed_tiles(std::span<const MatmulOutput> outs, const BlockActs& qa, int64_t n_tokens, int64_t kp,
                         ThreadPool& pool, const kernels::KernelTable& kt) {
  const int64_t in = outs.front().w->cols;
  constexpr int64_t kTokenBlock = 64;
  constexpr int64_t kGrain = 8;  // groups a thread claims at a time: 128 rows, ~300 KB of a 7B q4_0 matrix
  pool.parallel_for_dynamic(
      GroupIndex(outs).total(), kGrain,
      [&](int64_t g0, int64_t g1, int) {
        thread_local std::vector<float> res_scratch;
        const int64_t block_tokens = std::min(n_tokens, kTokenBlock);
        float* res = grow(res_scratch, 16 * block_tokens);
        for (int64_t t0 = 0; t0 < n_tokens; t0 += block_tokens) {
          const int64_t nt = std::min(block_tokens, n_tokens - t0);
          GroupIndex index(outs);
          for (int64_t grp = g0; grp < g1; ++grp) {
            const GroupIndex::Group gr = index.seek(grp);
            const PackedMatrix& pm = *gr.out->w->packed;
            kt.gemm_packed(pm.group(gr.group), pm.type, in, kp, tokens_from(qa.of(pm.type), t0, kp), nt, res);
            store_group(gr, res, t0, nt);
          }
        }
      },
      min_items(16 * in * n_tokens));
}

// Long prompts on packed weights: kGroupsPerPass groups are expanded to gemm_q16's bytes at a time
// (decoding once, reused by every token), then each tile of 8 tokens goes through all of them while
// its activations are in L1, so the activations are read from L3 once per pass, not once per group.
void matmul_packed_expanded(std::span<const MatmulOutput> outs, const BlockActs& qa, int64_t n_tokens, int64_t kp,
                            ThreadPool& pool, const kernels::KernelTable& kt) {
  const int64_t in = outs.front().w->cols;
  // One tiling per weight type among the outputs (they differ in scale groups and offsets).
  std::vector<DType> types;
  std::vector<kernels::TiledActs> tiled;
  std::vector<size_t> slot_of(outs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    const auto type = static_cast<DType>(outs[i].w->packed->type);
    size_t slot = 0;
    while (slot < types.size() && types[slot] != type) ++slot;
    if (slot == types.size()) {
      types.push_back(type);
      tiled.push_back(
          tile_activations(qa.of(static_cast<uint32_t>(type)), n_tokens, kp, type, pool, static_cast<int>(slot)));
    }
    slot_of[i] = slot;
  }
  constexpr int kGroupsPerPass = 4;
  pool.parallel_for_dynamic(
      GroupIndex(outs).total(), kGroupsPerPass,
      [&](int64_t g0, int64_t g1, int) {
        thread_local GroupScratch sc[kGroupsPerPass];
        GroupIndex index(outs);
        for (int64_t grp = g0; grp < g1; grp += kGroupsPerPass) {
          const int n = static_cast<int>(std::min<int64_t>(kGroupsPerPass, g1 - grp));
          GroupIndex::Group gr[kGroupsPerPass];
          int g[kGroupsPerPass];
          const kernels::TiledActs* acts[kGroupsPerPass];
          for (int c = 0; c < n; ++c) {
            gr[c] = index.seek(grp + c);
            const PackedMatrix& pm = *gr[c].out->w->packed;
            g[c] = kernels::unpack_group(pm.type);
            acts[c] = &tiled[slot_of[static_cast<size_t>(gr[c].out - outs.data())]];
            kt.expand_packed(pm.group(gr[c].group), pm.type, in, kp, grow(sc[c].u_il, 16 * kp),
                             grow(sc[c].s_il, 16 * kp / g[c]), grow(sc[c].m_il, 16 * kp / g[c]));
          }
          for (int64_t t0 = 0; t0 < n_tokens; t0 += kernels::kTileTokens) {
            const int64_t nt = std::min<int64_t>(kernels::kTileTokens, n_tokens - t0);
            for (int c = 0; c < n; ++c) {
              const kernels::TiledActs tile = kernels::tiles_from(*acts[c], t0, kp, g[c]);
              kt.gemm_q16(sc[c].u_il.data(), sc[c].s_il.data(), sc[c].m_il.data(), kp, g[c], tile, nt,
                          grow(sc[c].out, 16 * n_tokens) + t0 * 16);
            }
          }
          for (int c = 0; c < n; ++c) store_group(gr[c], sc[c].out.data(), 0, n_tokens);
        }
      },
      min_items(16 * in * n_tokens));
}

void matmul_packed(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool,
                   const kernels::KernelTable& kt) {
  const int64_t in = outs.front().w->cols;
  const int64_t kp = (in + 63) / 64 * 64;
  BlockActs qa;
  for (const MatmulOutput& o : outs) {
    kernels::QuantActs& a = kernels::act_block(o.w->packed->type) == 256 ? qa.per256 : qa.per32;
    if (a.q == nullptr) a = quantize_activations(x, n_tokens, in, kp, &a == &qa.per256 ? 256 : 32, pool, kt);
  }
  constexpr int64_t kExpandTokens = 16;
  if (n_tokens >= kExpandTokens && kt.expand_packed != nullptr && kt.gemm_q16 != nullptr) {
    matmul_packed_expanded(outs, qa, n_tokens, kp, pool, kt);
  } else {
    matmul_packed_tiles(outs, qa, n_tokens, kp, pool, kt);
  }
}

bool uses_packed(const Weight& w, const kernels::KernelTable& kt) {
  return w.packed != nullptr && kt.gemm_packed != nullptr && kt.quantize_acts != nullptr;
}

void matmul_integer(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool,
                    const kernels::KernelTable& kt) {
  const int64_t in = w.cols;
  const int64_t out = w.rows;
  const int g = kernels::unpack_group(static_cast<uint32_t>(w.type));
  const kernels::UnpackFn unpack = kt.unpack[static_cast<int>(w.type)];
  const int64_t kp = (in + 63) / 64 * 64;
  const int64_t ng = kp / g;      // scale groups per padded row
  const int64_t ng_in = in / g;   // of which hold data
  const kernels::QuantActs qa =
      quantize_activations(x, n_tokens, in, kp, kernels::act_block(static_cast<uint32_t>(w.type)), pool, kt);

  const int64_t n_groups = (out + 15) / 16;
  constexpr int64_t kMaxDirectTokens = 4;  // beyond this, unpacking once per group and reusing it is faster
  const kernels::GemmDirectFn direct = n_tokens <= kMaxDirectTokens ? kt.gemm_direct[static_cast<int>(w.type)] : nullptr;
  // gemm_q16 takes whatever direct does not: every group, or only a last one of fewer than 16 rows.
  const bool needs_tiled = direct == nullptr || out % 16 != 0;
  const kernels::TiledActs tiled =
      needs_tiled ? tile_activations(qa, n_tokens, kp, w.type, pool) : kernels::TiledActs{};
  pool.parallel_for(n_groups, [&](int64_t g0, int64_t g1, int) {
    thread_local GroupScratch sc;
    uint8_t* u = grow(sc.u, 16 * kp);
    float* s = grow(sc.s, 16 * ng);
    float* m = grow(sc.m, 16 * ng);
    uint8_t* u_il = grow(sc.u_il, 16 * kp);
    float* s_il = grow(sc.s_il, 16 * ng);
    float* m_il = grow(sc.m_il, 16 * ng);
    float* res = grow(sc.out, 16 * n_tokens);
    for (int64_t grp = g0; grp < g1; ++grp) {
      const int64_t r0 = grp * 16;
      const int64_t nr = std::min<int64_t>(16, out - r0);
      if (direct != nullptr && nr == 16) {  // few tokens: read the blocks straight, same numbers
        direct(w.row(r0), w.row_stride(), in, kp, qa, n_tokens, res);
        for (int64_t t = 0; t < n_tokens; ++t) std::memcpy(y + t * out + r0, res + t * 16, sizeof(float) * 16);
        continue;
      }
      for (int64_t i = 0; i < 16; ++i) {
        uint8_t* ui = u + i * kp;
        float* si = s + i * ng;
        float* mi = m + i * ng;
        int64_t filled_u = 0;
        int64_t filled_g = 0;
        if (i < nr) {
          unpack(w.row(r0 + i), in, ui, si, mi);
          filled_u = in;
          filled_g = ng_in;
        }
        if (filled_u < kp) std::memset(ui + filled_u, 0, static_cast<size_t>(kp - filled_u));
        for (int64_t j = filled_g; j < ng; ++j) si[j] = mi[j] = 0.0f;
      }
      kt.interleave(u, s, m, kp, g, u_il, s_il, m_il);
      kt.gemm_q16(u_il, s_il, m_il, kp, g, tiled, n_tokens, res);
      for (int64_t t = 0; t < n_tokens; ++t) {
        std::memcpy(y + t * out + r0, res + t * 16, sizeof(float) * static_cast<size_t>(nr));
      }
    }
  }, min_items(16 * in * n_tokens));
}

}  // namespace

void matmul(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool,
            const kernels::KernelTable& kt) {
  check_shape(w);
  if (n_tokens <= 0) return;
  if (kt.isa == kernels::Isa::ref) return matmul_reference(y, w, x, n_tokens, pool);
  if (uses_packed(w, kt)) {
    const MatmulOutput one{y, &w};
    return matmul_packed({&one, 1}, x, n_tokens, pool, kt);
  }
  if (w.type == DType::f32 || w.type == DType::f16 || w.type == DType::bf16) {
    return matmul_float(y, w, x, n_tokens, pool, kt);
  }
  if (w.float_activations) {
    if (kt.gemm_float != nullptr) return matmul_dequantized(y, w, x, n_tokens, pool, kt);
    return matmul_reference(y, w, x, n_tokens, pool);
  }
  const int g = kernels::unpack_group(static_cast<uint32_t>(w.type));
  if (g != 0 && kt.gemm_q16 != nullptr && kt.unpack[static_cast<int>(w.type)] != nullptr) {
    return matmul_integer(y, w, x, n_tokens, pool, kt);
  }
  matmul_reference(y, w, x, n_tokens, pool);
}

void matmul(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool) {
  matmul(y, w, x, n_tokens, pool, kernels::active());
}

void matmul(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool,
            const kernels::KernelTable& kt) {
  if (outs.empty() || n_tokens <= 0) return;
  bool together = true;
  for (const MatmulOutput& o : outs) {
    check_shape(*o.w);
    together = together && uses_packed(*o.w, kt) && o.w->cols == outs.front().w->cols;
  }
  if (together) return matmul_packed(outs, x, n_tokens, pool, kt);
  for (const MatmulOutput& o : outs) matmul(o.y, *o.w, x, n_tokens, pool, kt);
}

void matmul(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool) {
  matmul(outs, x, n_tokens, pool, kernels::active());
}

void weight_row(float* dst, const Weight& w, int64_t row) {
  if (row < 0 || row >= w.rows) fail("{}: row {} out of range [0, {})", w.name, row, w.rows);
  dequantize_row(w.type, w.row(row), dst, w.cols);
}

}  // namespace owl::ops
