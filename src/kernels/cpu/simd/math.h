// Vector math of the SIMD layer, written once over a backend S (avx2/simd_avx2.h,
// avx512/simd_avx512.h): functions of the shared kernels that are more than one instruction.
// Every function here is a template on S, so each ISA's file compiles its own copy with its flags.
#pragma once

namespace owl::kernels::simd {

// e^x: Cody-Waite reduction (x = n·ln2 + r, ln2 in two parts) and Cephes' degree-6 polynomial,
// with x clamped to the backend's range and the power of two applied by the backend.
template <class S>
typename S::F exp(typename S::F x) {
  using F = typename S::F;
  x = S::max(S::min(x, S::set1(S::kExpHi)), S::set1(S::kExpLo));
  const F n = S::round(S::mul(x, S::set1(1.44269504088896341f)));
  F r = S::fnma(n, S::set1(0.693359375f), x);
  r = S::fnma(n, S::set1(-2.12194440e-4f), r);
  F p = S::set1(1.9875691500e-4f);
  p = S::fma(p, r, S::set1(1.3981999507e-3f));
  p = S::fma(p, r, S::set1(8.3334519073e-3f));
  p = S::fma(p, r, S::set1(4.1665795894e-2f));
  p = S::fma(p, r, S::set1(1.6666665459e-1f));
  p = S::fma(p, r, S::set1(5.0000001201e-1f));
  const F e = S::add(S::fma(S::mul(p, r), r, r), S::set1(1.0f));
  return S::scale_pow2(e, n);
}

}  // namespace owl::kernels::simd
