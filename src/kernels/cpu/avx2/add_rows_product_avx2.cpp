// AVX2 transposed product of training: simd/add_rows_product.h on the AVX2 backend.
#include "kernels/cpu/avx2/simd_avx2.h"
#include "kernels/cpu/simd/add_rows_product.h"

namespace owl::kernels::avx2 {

void fill_add_rows_product(KernelTable& t);
void fill_add_rows_product(KernelTable& t) { t.add_rows_product = simd::add_rows_product<Simd>; }

}  // namespace owl::kernels::avx2
