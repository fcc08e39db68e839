// KV cache allocation; sized once, never grown during generation.
#include "models/kv_cache.h"

#include "base/error.h"

namespace owl {

KvCache::KvCache(const ModelSpec& spec, int64_t n_ctx)
    : n_ctx_(n_ctx), row_(spec.n_head_kv * spec.head_dim), layer_stride_(n_ctx * spec.n_head_kv * spec.head_dim) {
  if (n_ctx <= 0) fail("context size must be positive, got {}", n_ctx);
  const size_t n = static_cast<size_t>(layer_stride_ * spec.n_layer);
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

}  // namespace owl
