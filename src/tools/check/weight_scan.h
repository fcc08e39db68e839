// NaN and Inf in a model's weights: every tensor dequantized row by row and its values counted, so
// that a broken conversion or a corrupt download shows in owl check instead of in garbled output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace owl {
class ModelFile;

namespace check {

struct NonFiniteTensor {
  std::string name;
  uint64_t count = 0;  // NaN or infinite values
};

// The tensors holding NaN or Inf values, in file order (types that cannot be read as rows are skipped).
std::vector<NonFiniteTensor> non_finite_weights(const ModelFile& file);

}  // namespace check
}  // namespace owl
