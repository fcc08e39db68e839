// AVX2 float GEMM for f32, f16 and bf16 weights: simd/gemm_float.h on the AVX2 backend.
#include "kernels/cpu/avx2/simd_avx2.h"
#include "kernels/cpu/simd/gemm_float.h"

namespace owl::kernels::avx2 {

void fill_gemm_float(KernelTable& t);
void fill_gemm_float(KernelTable& t) { t.gemm_float = simd::gemm_float<Simd>; }

}  // namespace owl::kernels::avx2
