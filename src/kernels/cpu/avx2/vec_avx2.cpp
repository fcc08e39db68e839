// AVX2 float vector kernels (simd/vec.h on the AVX2 backend) and the table of the AVX2 kernels
// (packed integer matmul, row-wise, attention, float GEMM, block conversions).
#include "kernels/cpu/avx2/simd_avx2.h"
#include "kernels/cpu/simd/vec.h"

namespace owl::kernels::avx2 {

void fill_packed(KernelTable& t);
void fill_rowwise(KernelTable& t);
void fill_attention(KernelTable& t);
void fill_gemm_float(KernelTable& t);
void fill_blocks(KernelTable& t);
void fill_add_rows_product(KernelTable& t);
void fill_qgemm(KernelTable& t);

void fill(KernelTable& t) {
  fill_packed(t);
  fill_rowwise(t);
  fill_attention(t);
  fill_gemm_float(t);
  fill_blocks(t);
  fill_add_rows_product(t);
  fill_qgemm(t);
  simd::fill_vec<Simd>(t);
}

}  // namespace owl::kernels::avx2
