// Matrix products against weights of any dtype. y (n_tokens, W.rows) = x (n_tokens, W.cols) · Wᵀ.
#pragma once

#include <cstdint>
#include <span>

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

// Several products of the same input (Q, K and V; gate and up) in one pass over the pool: the
// input is quantised once and the threads split the rows of all of them, so they wait for each
// other once. Each y[i] is what matmul(y[i], *w[i], ...) gives.
struct MatmulOutput {
  float* y;
  const Weight* w;
};
void matmul(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool);
void matmul(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool,
            const kernels::KernelTable& table);

// The product through W transposed, for gradients through a frozen weight of any dtype:
// dx (n_tokens, W.cols) += dy (n_tokens, W.rows) · W. Quantized rows are dequantized on the fly (the
// base of a QLoRA run stays quantized in memory). Threads split the columns, so the order of every
// sum is fixed whatever the thread count.
void matmul_backward_input(float* dx, const Weight& w, const float* dy, int64_t n_tokens, ThreadPool& pool);

// The weight's own gradient, for full-parameter training: dw (out, in) += dyᵀ (out, n_tokens) · x
// (n_tokens, in). Threads split dw into blocks; every sum runs over the tokens in order, so the
// result is the same whatever the thread count.
void matmul_backward_weight(float* dw, const float* dy, const float* x, int64_t n_tokens, int64_t out, int64_t in,
                            ThreadPool& pool);

// One row of w (e.g. a token embedding) as float32.
void weight_row(float* dst, const Weight& w, int64_t row);

}  // namespace owl::ops
