// AVX-512 float GEMM for f32, f16 and bf16 weights: simd/gemm_float.h on the AVX-512 backend.
#include "kernels/cpu/avx512/simd_avx512.h"
#include "kernels/cpu/simd/gemm_float.h"

namespace owl::kernels::avx512 {

void fill_gemm_float(KernelTable& t);
void fill_gemm_float(KernelTable& t) { t.gemm_float = simd::gemm_float<Simd>; }

}  // namespace owl::kernels::avx512
