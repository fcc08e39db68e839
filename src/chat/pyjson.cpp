// json.dumps as CPython's json module writes it (Lib/json/encoder.py): string escaping with and
// without ensure_ascii, float repr, NaN/Infinity, key coercion, indentation and sort_keys.
#include "chat/pyjson.h"

#include <algorithm>
#include <cstdio>

#include "chat/text.h"

namespace owl::chat {

namespace {

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  char buf[16];
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = text::next_code_point(s, pos);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
      if (cp >= 0x10000) {
        const char32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                      static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      }
      out += buf;
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  out += '"';
}

std::string float_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  return format_float(v);
}

std::string key_string(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::string: return k.str();
    case Value::Kind::boolean: return k.as_bool() ? "true" : "false";
    case Value::Kind::none: return "null";
    case Value::Kind::integer: return std::to_string(k.as_int());
    case Value::Kind::floating: return float_json(k.as_double());
    default: throw_type(std::string("keys must be str, int, float, bool or None, not ") + k.type_name());
  }
}

class Dumper {
 public:
  explicit Dumper(const JsonDumpOptions& o) : o_(o) {}

  void dump(const Value& v, int depth) {
    if (depth > kMaxValueDepth) throw_type("maximum recursion depth exceeded while encoding a JSON object");
    switch (v.kind()) {
      case Value::Kind::none: out += "null"; break;
      case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; break;
      case Value::Kind::integer: out += std::to_string(v.as_int()); break;
      case Value::Kind::floating: out += float_json(v.as_double()); break;
      case Value::Kind::string: append_json_string(out, v.str(), o_.ensure_ascii); break;
      case Value::Kind::list: {
        if (v.is_generator()) throw_type("Object of type generator is not JSON serializable");
        const List& items = v.list();
        if (items.empty()) {
          out += "[]";
          break;
        }
        out += '[';
        for (size_t i = 0; i < items.size(); ++i) {
          separator(i == 0, depth + 1);
          dump(items[i], depth + 1);
        }
        close(depth);
        out += ']';
        break;
      }
      case Value::Kind::dict: {
        const Dict& d = v.dict();
        if (d.is_namespace) throw_type("Object of type Namespace is not JSON serializable");
        if (d.size() == 0) {
          out += "{}";
          break;
        }
        std::vector<std::pair<std::string, const Value*>> entries;
        entries.reserve(d.size());
        for (const auto& [k, e] : d.items) entries.emplace_back(key_string(k), &e);
        if (o_.sort_keys) {
          std::stable_sort(entries.begin(), entries.end(),
                           [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        out += '{';
        for (size_t i = 0; i < entries.size(); ++i) {
          separator(i == 0, depth + 1);
          append_json_string(out, entries[i].first, o_.ensure_ascii);
          out += o_.key_separator;
          dump(*entries[i].second, depth + 1);
        }
        close(depth);
        out += '}';
        break;
      }
      case Value::Kind::undefined: throw_type("Object of type Undefined is not JSON serializable");
      case Value::Kind::function: throw_type("Object of type function is not JSON serializable");
    }
    if (out.size() > o_.max_bytes) throw_budget("tojson output too long");
  }

  std::string out;

 private:
  void separator(bool first, int level) {
    if (!first) out += o_.item_separator;
    if (o_.has_indent) {
      out += '\n';
      for (int i = 0; i < level; ++i) out += o_.indent;
    }
  }
  void close(int level) {
    if (!o_.has_indent) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += o_.indent;
  }
  const JsonDumpOptions& o_;
};

}  // namespace

std::string json_dumps(const Value& v, const JsonDumpOptions& options) {
  Dumper d(options);
  d.dump(v, 0);
  return std::move(d.out);
}

}  // namespace owl::chat
