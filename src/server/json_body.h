// Request bodies are hostile until checked: parsed with a nesting limit, and every field read
// through typed getters that range-check it and answer 400 naming the field (llama-server once had
// an out-of-bounds write from a negative field).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace owl::server {

using Json = nlohmann::ordered_json;

inline constexpr int kMaxJsonDepth = 64;

// The body as a JSON object; HttpError 400 for anything else or nesting deeper than kMaxJsonDepth.
Json parse_body(std::string_view body);

// Typed, range-checked reads of an object's fields. Absent and null fields give nullopt; a field of
// the wrong type or out of range is HttpError 400 naming it (as `prefix + key`).
class Fields {
 public:
  explicit Fields(const Json& object, std::string prefix = "");
  std::optional<std::string> string(const char* key) const;
  std::optional<bool> boolean(const char* key) const;
  std::optional<int64_t> integer(const char* key, int64_t lo, int64_t hi) const;
  std::optional<double> number(const char* key, double lo, double hi) const;
  // A string or a list of at most max_items strings (OpenAI "stop", Ollama options.stop).
  std::vector<std::string> strings(const char* key, size_t max_items) const;
  const Json* object(const char* key) const;  // nullptr when absent; 400 when not an object
  const Json* array(const char* key) const;   // nullptr when absent; 400 when not a list
  const Json* raw(const char* key) const;     // any type; nullptr when absent or null
  std::string name(const char* key) const { return prefix_ + key; }

 private:
  const Json& j_;
  std::string prefix_;
};

}  // namespace owl::server
