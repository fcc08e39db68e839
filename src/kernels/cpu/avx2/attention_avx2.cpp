// AVX2 attention kernels (scores and weighted sums over f32, f16 and Q8_0 rows): simd/attention.h
// on the AVX2 backend.
#include "kernels/cpu/avx2/simd_avx2.h"
#include "kernels/cpu/simd/attention.h"

namespace owl::kernels::avx2 {

void fill_attention(KernelTable& t);
void fill_attention(KernelTable& t) { simd::fill_attention<Simd>(t); }

}  // namespace owl::kernels::avx2
