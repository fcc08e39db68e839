// Row conversion between float32 and every weight type: the scalar reference implementations,
// bit-exact with ggml's dequantize_row_* / quantize_row_*_ref (see ../shared/fixtures/quant-goldens).
// n is the number of values and must be a multiple of the type's block size.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace owl {

void dequantize_row(DType type, const void* src, float* dst, int64_t n);
void quantize_row(DType type, const float* src, void* dst, int64_t n);

}  // namespace owl
