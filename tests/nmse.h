// The normalised mean squared error the tests compare numbers by: Σ(a - ref)² / Σ ref², in double
// (the plain sum of squares when the reference is all zeros). NaN, which fails every bound, when
// there is nothing to compare (an unread reference file) or the lengths differ.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

inline double nmse(std::span<const float> a, std::span<const float> ref) {
  if (ref.empty() || a.size() != ref.size()) return std::numeric_limits<double>::quiet_NaN();
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(a[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0 ? num / den : num;
}

inline double nmse(const float* a, const float* ref, int64_t n) {
  return nmse(std::span(a, static_cast<size_t>(n)), std::span(ref, static_cast<size_t>(n)));
}
