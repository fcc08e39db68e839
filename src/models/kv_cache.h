// The key/value cache of one sequence: per layer, the keys and values of every position so far,
// (n_ctx, n_head_kv*head_dim) row-major, stored as float32, float16 or Q8_0 (--kv-type). F16 halves
// and Q8_0 nearly quarters the memory and the bytes each decode step reads at long context; rows
// are converted as they are written, and attention reads them in their own type.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "models/spec.h"
#include "ops/attention.h"
#include "tensor/dtype.h"

namespace owl {

// f32, f16 or q8_0 (any case); owl::Error naming the choices otherwise.
DType kv_type_from_name(std::string_view name);

class KvCache {
 public:
  // owl::Error when n_ctx is not positive, the type is not f32/f16/q8_0 (Q8_0 needs a head size that is
  // a multiple of 32), or the cache would not fit in this machine's memory.
  KvCache(const ModelSpec& spec, int64_t n_ctx, DType type = DType::f32);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_past() const { return n_past_; }  // positions filled
  void set_n_past(int64_t n);                 // truncate to n <= n_past() (e.g. to keep a common prefix)
  void advance(int64_t n);                    // n more positions were written
  void clear() { n_past_ = 0; }
  void check_fits(const ModelSpec& spec) const;  // owl::Error when built for another shape
  DType type() const { return type_; }
  size_t bytes() const { return k_.size() + v_.size(); }

  // Stores the key and value rows (row_size() floats each) of position pos in layer `layer`.
  void store(int64_t layer, int64_t pos, const float* k, const float* v);
  ops::KvRows k(int64_t layer) const { return rows(k_, layer); }
  ops::KvRows v(int64_t layer) const { return rows(v_, layer); }
  int64_t row_size() const { return row_; }

 private:
  ops::KvRows rows(const std::vector<uint8_t>& data, int64_t layer) const;
  void convert(const float* x, uint8_t* row) const;

  int64_t n_ctx_;
  int64_t n_layer_;
  int64_t row_;
  DType type_;
  size_t row_bytes_ = 0;
  size_t layer_bytes_ = 0;
  int64_t n_past_ = 0;
  std::vector<uint8_t> k_;
  std::vector<uint8_t> v_;
};

}  // namespace owl
