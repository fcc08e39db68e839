// KV cache allocation (sized once, never grown during generation) and the conversion of each new
// row into the cache's type.
#include "models/kv_cache.h"

#include <cstring>
#include <string>

#include "base/error.h"
#include "base/fp16.h"
#include "base/system_memory.h"
#include "kernels/cpu/kernels.h"

namespace owl {

namespace {

bool storable(DType t) { return t == DType::f32 || t == DType::f16 || t == DType::q8_0; }

}  // namespace

DType kv_type_from_name(std::string_view name) {
  const std::optional<DType> t = dtype_from_name(name);
  if (!t || !storable(*t)) fail("KV cache type '{}': use f16, q8_0 or f32", name);
  return *t;
}

KvCache::KvCache(const ModelSpec& spec, int64_t n_ctx, DType type)
    : n_ctx_(n_ctx), n_layer_(spec.n_layer), row_(spec.n_head_kv * spec.head_dim), type_(type) {
  if (n_ctx <= 0) fail("context size must be positive, got {}", n_ctx);
  if (!storable(type)) fail("KV cache type {}: use f16, q8_0 or f32", dtype_name(type));
  // Q8_0 blocks of 32 values must not straddle two heads: attention reads one head's slice of a row.
  if (type == DType::q8_0 && spec.head_dim % 32 != 0) {
    fail("a q8_0 KV cache needs a head size that is a multiple of 32 (this model's is {}); use f16", spec.head_dim);
  }
  row_bytes_ = row_bytes(type, row_);
  // Sizes come from a file and the command line: multiply with overflow checks, and refuse a cache
  // larger than this machine's memory instead of letting the allocation or the OOM killer decide.
  int64_t layer_bytes = 0;
  int64_t half = 0;
  int64_t bytes = 0;
  if (__builtin_mul_overflow(n_ctx, static_cast<int64_t>(row_bytes_), &layer_bytes) ||
      __builtin_mul_overflow(layer_bytes, n_layer_, &half) || __builtin_mul_overflow(half, int64_t{2}, &bytes)) {
    fail("context size {}: the KV cache size overflows", n_ctx);
  }
  const uint64_t memory = total_memory_bytes();
  if (memory > 0 && static_cast<uint64_t>(bytes) > memory) {
    fail("context size {}: the KV cache would need {:.2f} GiB, more than this machine's {:.2f} GiB", n_ctx,
         bytes / 1073741824.0, memory / 1073741824.0);
  }
  layer_bytes_ = static_cast<size_t>(layer_bytes);
  k_.assign(static_cast<size_t>(half), 0);
  v_.assign(static_cast<size_t>(half), 0);
}

void KvCache::set_n_past(int64_t n) {
  if (n < 0 || n > n_past_) fail("KV cache: cannot truncate {} positions to {}", n_past_, n);
  n_past_ = n;
}

void KvCache::check_fits(const ModelSpec& spec) const {
  if (spec.n_layer != n_layer_ || spec.n_head_kv * spec.head_dim != row_) {
    fail("KV cache of {} layers x {} values does not fit a model of {} layers x {}", n_layer_, row_, spec.n_layer,
         spec.n_head_kv * spec.head_dim);
  }
}

void KvCache::advance(int64_t n) {
  if (n < 0 || n > n_ctx_ - n_past_) fail("KV cache: cannot advance {} positions past {} of {}", n, n_past_, n_ctx_);
  n_past_ += n;
}

void KvCache::convert(const float* x, uint8_t* row) const {
  switch (type_) {
    case DType::f16: {
      auto* h = reinterpret_cast<uint16_t*>(row);
      for (int64_t i = 0; i < row_; ++i) h[i] = fp32_to_fp16(x[i]);
      return;
    }
    case DType::q8_0:
      kernels::active().quantize[static_cast<int>(DType::q8_0)](x, row, row_);
      return;
    default:
      std::memcpy(row, x, sizeof(float) * static_cast<size_t>(row_));
  }
}

void KvCache::store(int64_t layer, int64_t pos, const float* k, const float* v) {
  const size_t at = static_cast<size_t>(layer) * layer_bytes_ + static_cast<size_t>(pos) * row_bytes_;
  convert(k, k_.data() + at);
  convert(v, v_.data() + at);
}

ops::KvRows KvCache::rows(const std::vector<uint8_t>& data, int64_t layer) const {
  return {data.data() + static_cast<size_t>(layer) * layer_bytes_, type_, row_bytes_};
}

}  // namespace owl
