// The data tables of `owl check` (data/licenses.json, data/ecosystem.json, data/check-schema.json),
// compiled into the library by CMakeLists.txt so the command works from any folder and a fresh clone.
#pragma once

#include <string_view>

namespace owl::check {

std::string_view licenses_json();
std::string_view ecosystem_json();
std::string_view check_schema_json();  // JSON Schema of `owl check --json` (docs/check-json.md)

}  // namespace owl::check
