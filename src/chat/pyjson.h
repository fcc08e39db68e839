// Python's json.dumps over template values: what transformers installs as the `tojson` filter
// (ensure_ascii=False by default, ", " / ": " separators, key order kept, Python float repr).
#pragma once

#include <string>

#include "chat/value.h"

namespace owl::chat {

struct JsonDumpOptions {
  bool ensure_ascii = false;
  bool has_indent = false;  // indent=None when false
  std::string indent;       // the indent unit (indent=N gives N spaces)
  std::string item_separator = ", ";  // json.dumps default; "," once an indent is given
  std::string key_separator = ": ";
  bool sort_keys = false;
  size_t max_bytes = SIZE_MAX;
};

// Throws ValueError(type) for values JSON cannot hold (undefined, functions, namespaces).
std::string json_dumps(const Value& v, const JsonDumpOptions& options);

}  // namespace owl::chat
