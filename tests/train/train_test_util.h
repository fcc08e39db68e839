// What the LoRA tests share: raw float32 reference files and the NMSE they are compared by.
#pragma once

#include <cstring>
#include <filesystem>
#include <span>
#include <vector>

#include "test_files.h"

// A file of little-endian float32 values (the fixtures' logits_*.f32).
inline std::vector<float> read_f32_file(const std::filesystem::path& p) {
  const std::string bytes = read_file(p);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

// sum((a - ref)²) / sum(ref²) over ref's values.
inline double nmse(std::span<const float> a, std::span<const float> ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += (static_cast<double>(a[i]) - ref[i]) * (static_cast<double>(a[i]) - ref[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return num / den;
}
