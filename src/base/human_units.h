// Sizes and counts for people: "3.56 GiB", "7.24 B" (parameters).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace owl {

inline std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", v, units[u]);
}

// Parameter counts as model cards write them: "7.24 B", "260.00 K".
inline std::string human_count(uint64_t n) {
  if (n >= 1000000000) return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9);
  if (n >= 1000000) return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
  if (n >= 1000) return fmt::format("{:.2f} K", static_cast<double>(n) / 1e3);
  return std::to_string(n);
}

}  // namespace owl
