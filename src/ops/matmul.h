// Matrix products against weights of any dtype. y (n_tokens, W.rows) = x (n_tokens, W.cols) · Wᵀ.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "kernels/cpu/kernels.h"
#include "tensor/weight.h"

namespace owl::ops {

// Uses the kernel table chosen at start-up (kernels::active(); OWL_CPU=ref forces the reference).
// The result for a row never depends on the thread count.
void matmul(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool);

// The same with an explicit kernel table (tests compare ISAs with it).
void matmul(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool,
            const kernels::KernelTable& table);

// One row of w (e.g. a token embedding) as float32.
void weight_row(float* dst, const Weight& w, int64_t row);

}  // namespace owl::ops
