#include "tools/check/weight_scan.h"

#include <cmath>

#include "base/error.h"
#include "formats/model_file.h"
#include "tensor/quant.h"

namespace owl::check {

std::vector<NonFiniteTensor> non_finite_weights(const ModelFile& file) {
  std::vector<NonFiniteTensor> found;
  std::vector<float> row;
  for (const TensorInfo& t : file.tensors()) {
    if (t.data == nullptr || t.shape.empty() || t.n_elements == 0 || t.float_activations) continue;
    const int64_t cols = t.shape.back();
    if (cols <= 0) continue;
    const auto rows = static_cast<int64_t>(t.n_elements / static_cast<uint64_t>(cols));
    const size_t stride = row_bytes(t.type, cols);
    row.resize(static_cast<size_t>(cols));
    uint64_t count = 0;
    try {
      for (int64_t r = 0; r < rows; ++r) {
        dequantize_row(t.type, t.data + static_cast<size_t>(r) * stride, row.data(), cols);
        for (float v : row) count += std::isfinite(v) ? 0 : 1;
      }
    } catch (const Error&) {
      continue;  // a layout this scan does not read
    }
    if (count > 0) found.push_back({t.name, count});
  }
  return found;
}

}  // namespace owl::check
