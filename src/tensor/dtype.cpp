// The dtype table: block sizes and byte sizes from the GGUF specification.
#include "tensor/dtype.h"

#include <array>
#include <cctype>

namespace owl {

namespace {
constexpr std::array<DTypeTraits, 14> kTraits{{
    {DType::f32, "f32", 1, 4},
    {DType::f16, "f16", 1, 2},
    {DType::q4_0, "q4_0", 32, 18},
    {DType::q4_1, "q4_1", 32, 20},
    {DType::q5_0, "q5_0", 32, 22},
    {DType::q5_1, "q5_1", 32, 24},
    {DType::q8_0, "q8_0", 32, 34},
    {DType::q2_k, "q2_K", 256, 84},
    {DType::q3_k, "q3_K", 256, 110},
    {DType::q4_k, "q4_K", 256, 144},
    {DType::q5_k, "q5_K", 256, 176},
    {DType::q6_k, "q6_K", 256, 210},
    {DType::q8_k, "q8_K", 256, 292},
    {DType::bf16, "bf16", 1, 2},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}
}  // namespace

const DTypeTraits& dtype_traits(DType type) {
  for (const auto& t : kTraits) {
    if (t.type == type) return t;
  }
  return kTraits[0];  // unreachable for valid enumerators
}

std::string_view dtype_name(DType type) { return dtype_traits(type).name; }

std::optional<DType> dtype_from_gguf(uint32_t raw) {
  for (const auto& t : kTraits) {
    if (static_cast<uint32_t>(t.type) == raw) return t.type;
  }
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& t : kTraits) {
    if (iequals(t.name, name)) return t.type;
  }
  return std::nullopt;
}

}  // namespace owl
