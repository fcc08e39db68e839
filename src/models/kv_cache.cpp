// KV cache allocation; sized once, never grown during generation.
#include "models/kv_cache.h"

#include "base/error.h"
#include "base/system_memory.h"

namespace owl {

KvCache::KvCache(const ModelSpec& spec, int64_t n_ctx)
    : n_ctx_(n_ctx), n_layer_(spec.n_layer), row_(spec.n_head_kv * spec.head_dim) {
  if (n_ctx <= 0) fail("context size must be positive, got {}", n_ctx);
  // Sizes come from a file and the command line: multiply with overflow checks, and refuse a cache
  // larger than this machine's memory instead of letting the allocation or the OOM killer decide.
  int64_t floats = 0;
  int64_t bytes = 0;
  if (__builtin_mul_overflow(n_ctx, row_, &layer_stride_) || __builtin_mul_overflow(layer_stride_, n_layer_, &floats) ||
      __builtin_mul_overflow(floats, int64_t{2 * sizeof(float)}, &bytes)) {
    fail("context size {}: the KV cache size overflows", n_ctx);
  }
  const uint64_t memory = total_memory_bytes();
  if (memory > 0 && static_cast<uint64_t>(bytes) > memory) {
    fail("context size {}: the KV cache would need {:.2f} GiB, more than this machine's {:.2f} GiB", n_ctx,
         bytes / 1073741824.0, memory / 1073741824.0);
  }
  k_.assign(static_cast<size_t>(floats), 0.0f);
  v_.assign(static_cast<size_t>(floats), 0.0f);
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

}  // namespace owl
