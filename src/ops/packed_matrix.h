// Weights repacked at load into the layout of the integer kernels (kernels/cpu/packed.h), invisible
// to the model code: a Weight carries its packed copy and ops::matmul uses it when the kernel table
// has a packed kernel. Packing keeps each type's bit width, so memory stays about the file's size.
#pragma once

#include <cstdint>
#include <memory>

#include "base/thread_pool.h"
#include "kernels/cpu/kernels.h"
#include "tensor/packed_matrix.h"
#include "tensor/weight.h"

namespace owl {
namespace ops {

// Whether kt would use a packed copy of w (its type has a packed form and kt a packed kernel).
bool packs(const Weight& w, const kernels::KernelTable& kt);

// Bytes the packed copy of w takes (0 when w's type has no packed form).
size_t packed_bytes(const Weight& w);

// The packed copy of w, built on the pool's threads; nullptr when packs(w, kt) is false.
std::shared_ptr<const PackedMatrix> pack_matrix(const Weight& w, const kernels::KernelTable& kt, ThreadPool& pool);

}  // namespace ops
}  // namespace owl
