// What the LoRA tests share: raw float32 reference files and the NMSE they are compared by.
#pragma once

#include <cstring>
#include <filesystem>
#include <span>
#include <vector>

#include "nmse.h"
#include "test_files.h"

// A file of little-endian float32 values (the fixtures' logits_*.f32).
inline std::vector<float> read_f32_file(const std::filesystem::path& p) {
  const std::string bytes = read_file(p);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}
