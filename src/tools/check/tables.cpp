// Views over the byte arrays CMakeLists.txt generates from data/*.json (owl_embedded_data.h).
#include "tools/check/tables.h"

#include "base/embedded_text.h"
#include "owl_embedded_data.h"

namespace owl::check {

std::string_view licenses_json() { return embedded_text(kEmbedded_licenses_json); }
std::string_view ecosystem_json() { return embedded_text(kEmbedded_ecosystem_json); }
std::string_view check_schema_json() { return embedded_text(kEmbedded_check_schema_json); }

}  // namespace owl::check
