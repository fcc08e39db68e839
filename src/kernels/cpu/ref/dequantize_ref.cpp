// The reference table's dequantizers: tensor/quant.h's scalar dequantize_row for every quantized type.
#include "kernels/cpu/kernels.h"
#include "tensor/quant.h"

namespace owl::kernels::ref {

namespace {

template <DType kType>
void dequantize(const void* row, float* y, int64_t k) {
  dequantize_row(kType, row, y, k);
}

template <DType... kTypes>
void fill(DequantizeFn* table) {
  ((table[static_cast<int>(kTypes)] = dequantize<kTypes>), ...);
}

}  // namespace

void fill_dequantizers(DequantizeFn* table) {
  fill<DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k, DType::q4_k,
       DType::q5_k, DType::q6_k, DType::q8_k>(table);
}

}  // namespace owl::kernels::ref
