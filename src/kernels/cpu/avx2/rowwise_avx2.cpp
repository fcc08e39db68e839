// AVX2 row-wise kernels (RMSNorm, softmax, SwiGLU, GeGLU): simd/rowwise.h on the AVX2 backend.
#include "kernels/cpu/avx2/simd_avx2.h"
#include "kernels/cpu/simd/rowwise.h"

namespace owl::kernels::avx2 {

void fill_rowwise(KernelTable& t);
void fill_rowwise(KernelTable& t) { simd::fill_rowwise<Simd>(t); }

}  // namespace owl::kernels::avx2
