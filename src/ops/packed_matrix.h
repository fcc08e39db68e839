// Weights repacked at load into the layout of the integer kernels (kernels/cpu/packed.h), invisible
// to the model code: a Weight carries its packed copy and ops::matmul uses it when the kernel table
// has a packed kernel. Packing keeps each type's bit width, so memory stays about the file's size.
#pragma once

#include <cstdint>
#include <memory>

#include "base/huge_buffer.h"
#include "base/thread_pool.h"
#include "kernels/cpu/kernels.h"
#include "tensor/weight.h"

namespace owl {

struct PackedMatrix {
  uint32_t type = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t group_bytes = 0;  // one group of 16 rows
  HugeBuffer data;

  const uint8_t* group(int64_t g) const { return data.data() + static_cast<size_t>(g) * group_bytes; }
};

namespace ops {

// Whether kt would use a packed copy of w (its type has a packed form and kt a packed kernel).
bool packs(const Weight& w, const kernels::KernelTable& kt);

// Bytes the packed copy of w takes (0 when w's type has no packed form).
size_t packed_bytes(const Weight& w);

// The packed copy of w, built on the pool's threads; nullptr when packs(w, kt) is false.
std::shared_ptr<const PackedMatrix> pack_matrix(const Weight& w, const kernels::KernelTable& kt, ThreadPool& pool);

}  // namespace ops
}  // namespace owl
