// A dot product in one fixed order that vectorises, for code whose numbers a scalar reference must
// equal (ops::add_lora and train/grad_ops.h lora_forward).
#pragma once

#include <cstdint>

namespace owl::ops {

// Σ x[i]·a[i] as eight interleaved partial sums (lane l adds the terms i ≡ l mod 8, in order), then
// added pairwise. A single running sum would wait on every add.
template <typename T>
T dot8(const T* x, const T* a, int64_t n) {
  T s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) s[l] += x[i + l] * a[i + l];
  }
  for (int l = 0; i < n; ++i, ++l) s[l] += x[i] * a[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

}  // namespace owl::ops
