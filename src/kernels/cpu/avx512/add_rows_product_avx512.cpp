// AVX-512 transposed product of training: simd/add_rows_product.h on the AVX-512 backend.
#include "kernels/cpu/avx512/simd_avx512.h"
#include "kernels/cpu/simd/add_rows_product.h"

namespace owl::kernels::avx512 {

void fill_add_rows_product(KernelTable& t);
void fill_add_rows_product(KernelTable& t) { t.add_rows_product = simd::add_rows_product<Simd>; }

}  // namespace owl::kernels::avx512
