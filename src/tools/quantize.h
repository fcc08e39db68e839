// Whole-model conversion to one weight type (`owl quantize`): matrices take the target type,
// 1-D tensors (norms, biases) stay float32, metadata is copied with general.file_type updated.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "tensor/dtype.h"

namespace owl {

struct QuantizeOptions {
  DType type = DType::q8_0;
  int n_threads = 0;
  // Called after each tensor with (tensors done, total, the tensor's name, the type it got).
  std::function<void(size_t, size_t, std::string_view, DType)> progress;
};

struct QuantizeReport {
  size_t n_tensors = 0;
  size_t n_fallback = 0;  // matrices whose rows do not fit the block size: stored as f16
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

QuantizeReport quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& options);

}  // namespace owl
