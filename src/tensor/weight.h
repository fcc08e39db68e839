// A non-owning view of a 2-D weight matrix in any dtype, stored (rows, cols) row-major in
// PyTorch order: matmul(y, W, x) computes y = x · Wᵀ with W (out, in).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tensor/dtype.h"

namespace owl {

struct PackedMatrix;  // tensor/packed_matrix.h: a copy of the rows in the integer kernels' layout

struct Weight {
  std::string name;
  DType type = DType::f32;
  const void* data = nullptr;
  int64_t rows = 0;  // out features
  int64_t cols = 0;  // in features (contiguous)
  std::shared_ptr<const PackedMatrix> packed;  // set at load when the kernels want another layout
  bool float_activations = false;  // quantized rows times float32 activations (MLX modules): never packed

  size_t row_stride() const { return row_bytes(type, cols); }
  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data) + r * row_stride(); }
  explicit operator bool() const { return data != nullptr; }
};

}  // namespace owl
