// Row conversion between float32 and every weight type: the scalar reference implementations,
// bit-exact with ggml's dequantize_row_* / quantize_row_*_ref (see ../shared/fixtures/quant-goldens).
// n is the number of values and must be a multiple of the type's block size.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace owl {

void dequantize_row(DType type, const void* src, float* dst, int64_t n);
void quantize_row(DType type, const float* src, void* dst, int64_t n);

// Whether the type has an importance-weighted search (llama-quantize --imatrix): the 4- and 5-bit legacy
// types and q2_K..q6_K. The others quantize the same with or without importance.
bool has_importance_search(DType type);
// quantize_row under per-column importance (n values, e.g. an importance matrix's mean squared
// activations): ggml's quantize_row_*_impl searches, minimising the importance-weighted error.
void quantize_row_weighted(DType type, const float* src, void* dst, int64_t n, const float* importance);

}  // namespace owl
