// Hostile-input JSON reading (see json_body.h).
#include "server/json_body.h"

#include <algorithm>
#include <cmath>

#include "server/http_error.h"

namespace owl::server {

namespace {
// The deepest nesting of [ and { outside strings: checked before parsing, so that no deep value is
// ever built (destroying one recurses).
int nesting_depth(std::string_view text) {
  int depth = 0, max = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max = std::max(max, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max;
}
}  // namespace

Json parse_body(std::string_view body) {
  if (nesting_depth(body) > kMaxJsonDepth) bad_request(fmt::format("the body nests deeper than {} levels", kMaxJsonDepth));
  Json j = Json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) bad_request("the body is not valid JSON");
  if (!j.is_object()) bad_request("the body must be a JSON object");
  return j;
}

Fields::Fields(const Json& object, std::string prefix) : j_(object), prefix_(std::move(prefix)) {
  if (!j_.is_object()) bad_request(prefix_.empty() ? "expected a JSON object" : "'" + prefix_ + "' must be an object");
}

const Json* Fields::raw(const char* key) const {
  const auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> Fields::string(const char* key) const {
  const Json* v = raw(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) bad_request(fmt::format("'{}' must be a string", name(key)), name(key));
  return v->get<std::string>();
}

std::optional<bool> Fields::boolean(const char* key) const {
  const Json* v = raw(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) bad_request(fmt::format("'{}' must be true or false", name(key)), name(key));
  return v->get<bool>();
}

std::optional<int64_t> Fields::integer(const char* key, int64_t lo, int64_t hi) const {
  const Json* v = raw(key);
  if (v == nullptr) return std::nullopt;
  int64_t x = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) x = INT64_MAX;
    else x = v->get<int64_t>();
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) && std::floor(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e18) {
    x = static_cast<int64_t>(v->get<double>());
  } else {
    bad_request(fmt::format("'{}' must be an integer", name(key)), name(key));
  }
  if (x < lo || x > hi) bad_request(fmt::format("'{}' must be between {} and {}, not {}", name(key), lo, hi, x), name(key));
  return x;
}

std::optional<double> Fields::number(const char* key, double lo, double hi) const {
  const Json* v = raw(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) bad_request(fmt::format("'{}' must be a number", name(key)), name(key));
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    bad_request(fmt::format("'{}' must be between {} and {}, not {}", name(key), lo, hi, x), name(key));
  }
  return x;
}

std::vector<std::string> Fields::strings(const char* key, size_t max_items) const {
  const Json* v = raw(key);
  if (v == nullptr) return {};
  if (v->is_string()) return {v->get<std::string>()};
  if (!v->is_array()) bad_request(fmt::format("'{}' must be a string or a list of strings", name(key)), name(key));
  if (v->size() > max_items) bad_request(fmt::format("'{}' has more than {} items", name(key), max_items), name(key));
  std::vector<std::string> out;
  for (const Json& s : *v) {
    if (!s.is_string()) bad_request(fmt::format("'{}' must be a list of strings", name(key)), name(key));
    out.push_back(s.get<std::string>());
  }
  return out;
}

const Json* Fields::object(const char* key) const {
  const Json* v = raw(key);
  if (v != nullptr && !v->is_object()) bad_request(fmt::format("'{}' must be an object", name(key)), name(key));
  return v;
}

const Json* Fields::array(const char* key) const {
  const Json* v = raw(key);
  if (v != nullptr && !v->is_array()) bad_request(fmt::format("'{}' must be a list", name(key)), name(key));
  return v;
}

}  // namespace owl::server
