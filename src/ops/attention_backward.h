// The gradients of ops::attention over whole sequences (training), on the kernel table's attention
// kernels: the products with the values and keys are the scores (dot_rows) and weighted sums
// (weighted_sum) that inference uses.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "ops/attention.h"

namespace owl::ops {

// n_seq sequences of n positions each, every sequence attending to itself from position 0:
// dq, dk, dv += the gradients of out given dout. q, dq, dout: (n_seq·n, n_head·head_dim); k, v,
// dk, dv: (n_seq·n, n_head_kv·head_dim); probs: the weights ops::attention kept, (n_seq, n_head,
// n, n) (the entries a query does not see are not read). A work item is one sequence's KV group:
// its heads alone add into its columns of dk and dv, in head order, so the numbers do not depend on
// the thread count.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                        const float* k, const float* v, int64_t n_seq, int64_t n, const AttentionShape& shape,
                        ThreadPool& pool);

}  // namespace owl::ops
