// Views over the byte arrays CMakeLists.txt generates from data/*.json (owl_embedded_data.h).
#include "tools/check/tables.h"

#include "owl_embedded_data.h"

namespace owl::check {

namespace {
template <size_t N>
std::string_view view(const unsigned char (&bytes)[N]) {
  return {reinterpret_cast<const char*>(bytes), N - 1};  // the generator ends each array with a 0
}
}  // namespace

std::string_view licenses_json() { return view(kEmbedded_licenses_json); }
std::string_view ecosystem_json() { return view(kEmbedded_ecosystem_json); }
std::string_view check_schema_json() { return view(kEmbedded_check_schema_json); }

}  // namespace owl::check
