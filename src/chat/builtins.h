// Internal interfaces between the evaluator and the builtin methods of str, dict and list
// (Python's, as jinja2's ImmutableSandboxedEnvironment exposes them) and string formatting.
#pragma once

#include <string>
#include <unordered_map>

#include "chat/evaluator.h"
#include "chat/value.h"

namespace owl::chat {

// The bound method obj.name (e.g. "abc".upper, d.items), or undefined when obj has none.
// Mutating methods of lists and dicts raise SecurityError when called, as in the sandbox.
Value find_method(const Value& obj, const std::string& name);
// Python str.format(*args, **kwargs) and printf-style "fmt % args".
std::string python_format(Evaluator& ev, const std::string& fmt, const CallArgs& args);
std::string percent_format(Evaluator& ev, const std::string& fmt, const Value& args);
// Python int(x) / float(x) conversions used by filters: nullopt-like failure through ok=false.
int64_t to_int_or(const Value& v, int64_t fallback, bool* ok = nullptr);
// Python str.split(sep, maxsplit); sep none splits on runs of whitespace.
List split_string(Evaluator& ev, const std::string& s, const Value& sep, int64_t maxsplit);

// str(v) for a filter's argument, within the evaluator's output limit.
inline std::string str_of(Evaluator& ev, const Value& v) { return to_str(v, ev.max_bytes()); }

using FilterTable = std::unordered_map<std::string, FilterFn>;
// The rarely used filters (filters_extra.cpp): truncate, urlencode, xmlattr, batch, slice.
void add_extra_filters(FilterTable& table);

}  // namespace owl::chat
