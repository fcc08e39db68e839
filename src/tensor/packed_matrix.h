// A weight's rows copied at load into the layout of the integer kernels (kernels/cpu/packed.h):
// the data a Weight carries beside its file bytes. ops/packed_matrix.h builds it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/huge_buffer.h"

namespace owl {

struct PackedMatrix {
  uint32_t type = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t group_bytes = 0;  // one group of 16 rows
  HugeBuffer data;

  const uint8_t* group(int64_t g) const { return data.data() + static_cast<size_t>(g) * group_bytes; }
};

}  // namespace owl
