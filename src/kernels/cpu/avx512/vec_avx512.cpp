// AVX-512 float vector kernels (simd/vec.h on the AVX-512 backend) and the table of the AVX-512
// kernels (the AVX2 table's entries overridden where this ISA has its own).
#include "kernels/cpu/avx512/simd_avx512.h"
#include "kernels/cpu/simd/vec.h"

namespace owl::kernels::avx512 {

void fill_vec(KernelTable& t);
void fill_unpack(KernelTable& t);
void fill_qgemm(KernelTable& t);
void fill_packed(KernelTable& t);
void fill_attention(KernelTable& t);
void fill_gemm_float(KernelTable& t);
void fill_rowwise(KernelTable& t);
void fill_add_rows_product(KernelTable& t);

void fill_vec(KernelTable& t) { simd::fill_vec<Simd>(t); }

void fill(KernelTable& t) {
  fill_vec(t);
  fill_unpack(t);
  fill_qgemm(t);
  fill_packed(t);
  fill_attention(t);
  fill_gemm_float(t);
  fill_rowwise(t);
  fill_add_rows_product(t);
}

}  // namespace owl::kernels::avx512
