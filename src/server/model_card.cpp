// Model cards from GGUF headers, cached by (path, size, modification time).
#include "server/model_card.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "chat/model_template.h"
#include "formats/gguf.h"
#include "models/model_source.h"
#include "models/registry.h"
#include "server/http_error.h"

namespace owl::server {

namespace {

Json value_json(const gguf::Value& v) {
  return std::visit(
      [](const auto& x) -> Json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, gguf::Array>) {
          if (x.items.size() > 64) return nullptr;  // vocabularies and merges: as Ollama without verbose
          Json a = Json::array();
          for (const gguf::Value& item : x.items) a.push_back(value_json(item));
          return a;
        } else {
          return x;
        }
      },
      v.v);
}

std::string parameter_size(uint64_t n) {
  if (n >= 1000000000ull) return fmt::format("{:.1f}B", static_cast<double>(n) / 1e9);
  if (n >= 1000000ull) return fmt::format("{:.1f}M", static_cast<double>(n) / 1e6);
  return fmt::format("{:.1f}K", static_cast<double>(n) / 1e3);
}

// A params layer ({"stop": ["a", "b"], "temperature": 0.7}) as Ollama's show prints it: one
// "name value" line per value, strings quoted.
std::string parameters_text(const std::string& params) {
  std::string out;
  Json j;
  try {
    j = Json::parse(params);
  } catch (const Json::exception&) {
    return params;
  }
  if (!j.is_object()) return params;
  for (const auto& [key, value] : j.items()) {
    for (const Json& v : value.is_array() ? value : Json::array({value})) {
      out += fmt::format("{:<30} {}\n", key, v.dump());
    }
  }
  return out;
}

ModelCard read_card(const ModelEntry& e) {
  const auto f = open_model_file(e.path);
  ModelCard c;
  uint64_t params = 0;
  std::map<std::string, uint64_t> bytes_by_type;
  for (const auto& t : f->tensors()) {
    params += t.n_elements;
    if (t.shape.size() >= 2) bytes_by_type[std::string(dtype_name(t.type))] += t.n_bytes;
  }
  std::string quant = "unknown";
  if (!bytes_by_type.empty()) {
    quant = std::max_element(bytes_by_type.begin(), bytes_by_type.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; })->first;
    std::transform(quant.begin(), quant.end(), quant.begin(), [](unsigned char ch) { return std::toupper(ch); });
  }
  const std::string arch = f->find_string("general.architecture").value_or("unknown");
  c.details = Json{{"parent_model", ""},
                   {"format", "gguf"},
                   {"family", arch},
                   {"families", Json::array({arch})},
                   {"parameter_size", parameter_size(params)},
                   {"quantization_level", quant}};
  c.model_info = Json::object();
  for (const auto& [key, value] : f->metadata()) c.model_info[key] = value_json(value);
  c.model_info["general.parameter_count"] = params;
  if (const gguf::Value* tokens = f->find("tokenizer.ggml.tokens"); tokens != nullptr && tokens->type() == gguf::ValueType::array) {
    const std::string key = arch + ".vocab_size";  // as converters write it; some files leave it out
    if (!c.model_info.contains(key)) c.model_info[key] = std::get<gguf::Array>(tokens->v).items.size();
  }
  try {
    c.template_source = chat::model_template(*f, chat_fallback_for(*f)).source;
  } catch (const Error&) {
  }
  c.license = e.extras.license.empty() ? f->find_string("general.license").value_or("") : e.extras.license;
  c.parameters = parameters_text(e.extras.params);
  c.system = e.extras.system;
  if (!e.digest.empty()) {
    c.digest = e.digest;
    return c;
  }
  // FNV-1a over what identifies this version of the file, widened to 64 hex digits.
  const std::string key = fmt::format("{}\n{}\n{}", e.path, e.size, e.modified.time_since_epoch().count());
  uint64_t h = 1469598103934665603ull;
  for (int round = 0; round < 4; ++round) {
    for (unsigned char ch : key) h = (h ^ ch) * 1099511628211ull;
    c.digest += fmt::format("{:016x}", h);
    h ^= static_cast<uint64_t>(round + 1);
  }
  return c;
}

}  // namespace

const ModelCard& model_card(const ModelEntry& e) {
  static std::mutex mutex;
  static std::map<std::string, ModelCard> cache;
  const std::string key = fmt::format("{}|{}|{}|{}", e.path, e.size, e.modified.time_since_epoch().count(), e.digest);
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  try {
    return cache.emplace(key, read_card(e)).first->second;
  } catch (const std::exception& ex) {
    throw HttpError(500, fmt::format("model '{}': {}", e.name, ex.what()));
  }
}

}  // namespace owl::server
