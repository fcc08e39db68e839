// The reference table's block conversions: tensor/quant.h's scalar dequantize_row and quantize_row
// for every quantized type.
#include "kernels/cpu/kernels.h"
#include "tensor/quant.h"

namespace owl::kernels::ref {

namespace {

template <DType kType>
void dequantize(const void* row, float* y, int64_t k) {
  dequantize_row(kType, row, y, k);
}

template <DType kType>
void quantize(const float* x, void* row, int64_t k) {
  quantize_row(kType, x, row, k);
}

template <DType... kTypes>
void fill(DequantizeFn* dequantizers, QuantizeFn* quantizers) {
  ((dequantizers[static_cast<int>(kTypes)] = dequantize<kTypes>), ...);
  ((quantizers[static_cast<int>(kTypes)] = quantize<kTypes>), ...);
}

}  // namespace

void fill_block_converters(DequantizeFn* dequantize, QuantizeFn* quantize) {
  fill<DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k, DType::q4_k,
       DType::q5_k, DType::q6_k, DType::q8_k>(dequantize, quantize);
}

}  // namespace owl::kernels::ref
