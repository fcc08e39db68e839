// AVX-512 row-wise kernels (RMSNorm, softmax, SwiGLU, GeGLU): simd/rowwise.h on the AVX-512 backend.
#include "kernels/cpu/avx512/simd_avx512.h"
#include "kernels/cpu/simd/rowwise.h"

namespace owl::kernels::avx512 {

void fill_rowwise(KernelTable& t);
void fill_rowwise(KernelTable& t) { simd::fill_rowwise<Simd>(t); }

}  // namespace owl::kernels::avx512
