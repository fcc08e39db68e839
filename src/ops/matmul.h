// Matrix products against weights of any dtype. y (n_tokens, W.rows) = x (n_tokens, W.cols) · Wᵀ.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "tensor/weight.h"

namespace owl::ops {

void matmul(float* y, const Weight& w, const float* x, int64_t n_tokens, ThreadPool& pool);

// One row of w (e.g. a token embedding) as float32.
void weight_row(float* dst, const Weight& w, int64_t row);

}  // namespace owl::ops
