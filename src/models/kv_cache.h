// The key/value cache of one sequence: per layer, keys and values of every position so far,
// float32, (n_ctx, n_head_kv*head_dim) row-major.
#pragma once

#include <cstdint>
#include <vector>

#include "models/spec.h"

namespace owl {

class KvCache {
 public:
  // owl::Error when n_ctx is not positive or the cache would not fit in this machine's memory.
  KvCache(const ModelSpec& spec, int64_t n_ctx);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_past() const { return n_past_; }  // positions filled
  void set_n_past(int64_t n);                 // truncate to n <= n_past() (e.g. to keep a common prefix)
  void advance(int64_t n);                    // n more positions were written
  void clear() { n_past_ = 0; }
  void check_fits(const ModelSpec& spec) const;  // owl::Error when built for another shape
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

  float* k(int64_t layer) { return k_.data() + layer * layer_stride_; }
  float* v(int64_t layer) { return v_.data() + layer * layer_stride_; }
  int64_t row_size() const { return row_; }

 private:
  int64_t n_ctx_;
  int64_t n_layer_;
  int64_t row_;
  int64_t layer_stride_ = 0;
  int64_t n_past_ = 0;
  std::vector<float> k_;
  std::vector<float> v_;
};

}  // namespace owl
