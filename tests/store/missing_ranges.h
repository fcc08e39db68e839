// The byte ranges a pull left missing, as its "<partial>.json" records them (store/download.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;

inline Ranges missing_ranges(const std::filesystem::path& partial) {
  std::ifstream in(partial.string() + ".json");
  const nlohmann::json j = nlohmann::json::parse(in);
  Ranges out;
  for (const auto& r : j.at("missing")) out.emplace_back(r.at(0).get<uint64_t>(), r.at(1).get<uint64_t>());
  return out;
}
