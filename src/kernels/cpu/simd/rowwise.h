// Row-wise kernels written once for every ISA (kernels.h SwigluFn, GegluFn, RmsNormFn, SoftmaxFn):
// full vectors, then one masked step at the end of the row.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/simd/math.h"

namespace owl::kernels::simd {

template <class S>
void swiglu(float* gate, const float* up, int64_t n) {
  const auto one = S::set1(1.0f);
  for (int64_t i = 0; i < n; i += S::kLanes) {
    const auto m = S::tail(n - i);
    const auto g = S::load(gate + i, m);
    const auto sig = S::div(one, S::add(one, exp<S>(S::sub(S::zero(), g))));
    S::store(gate + i, m, S::mul(S::mul(g, sig), S::load(up + i, m)));
  }
}

// gelu_tanh(g) = 0.5 g (1 + tanh(y)), y = sqrt(2/pi) (g + 0.044715 g³), with
// 1 + tanh(y) = 2 - 2 / (exp(2y) + 1): no cancellation where it matters (the sum with 1).
template <class S>
void geglu(float* gate, const float* up, int64_t n) {
  const auto one = S::set1(1.0f);
  const auto two = S::set1(2.0f);
  for (int64_t i = 0; i < n; i += S::kLanes) {
    const auto m = S::tail(n - i);
    const auto g = S::load(gate + i, m);
    const auto g3 = S::mul(S::mul(g, g), g);
    const auto y = S::mul(S::set1(0.7978845608028654f), S::fma(S::set1(0.044715f), g3, g));
    const auto e = exp<S>(S::mul(two, y));
    const auto one_plus_tanh = S::sub(two, S::div(two, S::add(e, one)));
    S::store(gate + i, m, S::mul(S::mul(S::mul(S::set1(0.5f), g), one_plus_tanh), S::load(up + i, m)));
  }
}

template <class S>
void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps) {
  auto ss = S::zero();
  for (int64_t i = 0; i < n; i += S::kLanes) {
    const auto v = S::load(x + i, S::tail(n - i));
    ss = S::fma(v, v, ss);
  }
  const auto scale = S::set1(1.0f / std::sqrt(S::reduce_add(ss) / static_cast<float>(n) + eps));
  for (int64_t i = 0; i < n; i += S::kLanes) {
    const auto m = S::tail(n - i);
    S::store(y + i, m, S::mul(S::load(w + i, m), S::mul(scale, S::load(x + i, m))));
  }
}

template <class S>
void softmax(float* x, int64_t n) {
  const float ninf = -std::numeric_limits<float>::infinity();
  auto mx = S::set1(ninf);
  bool nan = false;
  for (int64_t i = 0; i < n; i += S::kLanes) {
    const auto m = S::tail(n - i);
    const auto v = S::select(m, S::load(x + i, m), S::set1(ninf));
    nan = nan || S::any_nan(v);
    mx = S::max(mx, v);
  }
  const float max = S::reduce_max(mx);
  if (nan || max == ninf) return ref::softmax(x, n);  // NaN propagation and all -inf: the reference's rules
  const auto vmax = S::set1(max);
  auto sum = S::zero();
  for (int64_t i = 0; i < n; i += S::kLanes) {
    const auto m = S::tail(n - i);
    const auto e = S::keep(m, exp<S>(S::sub(S::load(x + i, m), vmax)));
    S::store(x + i, m, e);
    sum = S::add(sum, e);
  }
  const auto total = S::set1(S::reduce_add(sum));
  for (int64_t i = 0; i < n; i += S::kLanes) {
    const auto m = S::tail(n - i);
    S::store(x + i, m, S::div(S::load(x + i, m), total));
  }
}

template <class S>
void fill_rowwise(KernelTable& t) {
  t.swiglu = swiglu<S>;
  t.geglu = geglu<S>;
  t.rms_norm = rms_norm<S>;
  t.softmax = softmax<S>;
}

}  // namespace owl::kernels::simd
