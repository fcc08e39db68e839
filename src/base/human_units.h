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

}  // namespace owl
