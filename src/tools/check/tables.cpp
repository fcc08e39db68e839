// Views over the byte arrays CMakeLists.txt generates from data/*.json (owl_embedded_data.h).
#include "tools/check/tables.h"

#include "owl_embedded_data.h"

namespace owl::check {

namespace {
template <size_t N>
std::string_view view(const unsigned char (&bytes)[N]) {
  return {reinterpret_cast<const char*>(bytes), N};
}
}  // namespace

std::string_view licenses_json() { return view(kEmbedded_licenses); }
std::string_view ecosystem_json() { return view(kEmbedded_ecosystem); }
std::string_view check_schema_json() { return view(kEmbedded_check_schema); }

}  // namespace owl::check
