// GGUF inspection. Long arrays (vocabularies, merges, scores) are summarised by type, count and the
// first few items; statistics run one tensor per task on the thread pool, in double precision.
#include "tools/inspect.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/thread_pool.h"
#include "base/human_units.h"
#include "formats/gguf.h"
#include "tensor/quant.h"

namespace owl {

namespace {

nlohmann::json scalar_json(const gguf::Value& v, const std::string& key) {
  switch (v.type()) {
    case gguf::ValueType::string: return v.to_string(key);
    case gguf::ValueType::boolean: return v.to_bool(key);
    case gguf::ValueType::f32:
    case gguf::ValueType::f64: return v.to_double(key);
    case gguf::ValueType::u64: return v.to_uint(key);
    default: return v.to_int(key);
  }
}

nlohmann::json value_json(const gguf::Value& v, const std::string& key, size_t preview) {
  if (v.type() != gguf::ValueType::array) return scalar_json(v, key);
  const gguf::Array& a = v.to_array(key);
  if (a.items.size() <= preview * 2) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : a.items) out.push_back(value_json(item, key, preview));
    return out;
  }
  nlohmann::json first = nlohmann::json::array();
  for (size_t i = 0; i < preview; ++i) first.push_back(value_json(a.items[i], key, preview));
  return {{"array_of", std::string(gguf::value_type_name(a.elem))}, {"count", a.items.size()}, {"first", first}};
}

std::string short_text(const nlohmann::json& v, size_t limit) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  if (s.size() > limit) s = s.substr(0, limit) + "...";
  return s;
}

}  // namespace

TensorStats tensor_stats(const ModelFile& file, size_t index) {
  const gguf::TensorInfo& t = file.tensors().at(index);
  TensorStats s;
  s.min = std::numeric_limits<double>::infinity();
  s.max = -std::numeric_limits<double>::infinity();
  const int64_t rows = t.rows();
  const int64_t cols = t.cols();
  const size_t stride = row_bytes(t.type, cols);
  std::vector<float> row(static_cast<size_t>(cols));
  double sum = 0, sum_sq = 0;
  uint64_t n = 0;
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(t.type, t.data + static_cast<size_t>(r) * stride, row.data(), cols);
    double rs = 0, rsq = 0;  // per-row partial sums keep the error small for big tensors
    for (float x : row) {
      if (std::isnan(x)) {
        ++s.n_nan;
      } else if (std::isinf(x)) {
        ++s.n_inf;
      } else {
        rs += x;
        rsq += static_cast<double>(x) * x;
        s.min = std::min<double>(s.min, x);
        s.max = std::max<double>(s.max, x);
        ++n;
      }
    }
    sum += rs;
    sum_sq += rsq;
  }
  if (n == 0) {
    s.min = s.max = 0;
    return s;
  }
  s.mean = sum / static_cast<double>(n);
  s.std = std::sqrt(std::max(0.0, sum_sq / static_cast<double>(n) - s.mean * s.mean));
  return s;
}

nlohmann::json inspect_json(const ModelFile& f, const InspectOptions& o) {
  using nlohmann::json;
  json j;
  j["file"] = {{"path", f.path()}, {"format", std::string(f.format())}, {"bytes", f.file_size()}};
  if (const auto* g = dynamic_cast<const gguf::File*>(&f)) {
    j["file"]["version"] = g->version();
    j["file"]["alignment"] = g->alignment();
    j["file"]["data_offset"] = g->data_offset();
  }
  const std::string arch = f.find_string("general.architecture").value_or("");
  j["architecture"] = arch;
  j["name"] = f.find_string("general.name").value_or("");
  json meta = json::object();
  json hyper = json::object();
  for (const auto& [key, value] : f.metadata()) {
    json v = value_json(value, key, o.array_preview);
    if (!arch.empty() && key.starts_with(arch + ".")) hyper[key.substr(arch.size() + 1)] = v;
    meta[key] = {{"type", std::string(gguf::value_type_name(value.type()))}, {"value", v}};
  }
  j["metadata"] = meta;
  j["hyperparameters"] = hyper;

  uint64_t params = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;  // type -> (tensors, bytes)
  json tensors = json::array();
  for (const auto& t : f.tensors()) {
    params += t.n_elements;
    auto& e = by_type[std::string(dtype_name(t.type))];
    ++e.first;
    e.second += t.n_bytes;
    tensors.push_back({{"name", t.name}, {"shape", t.shape}, {"type", std::string(dtype_name(t.type))},
                       {"offset", t.offset}, {"bytes", t.n_bytes}});
  }
  j["parameters"] = params;
  json types = json::object();
  for (const auto& [type, e] : by_type) types[type] = {{"tensors", e.first}, {"bytes", e.second}};
  j["types"] = types;

  if (o.stats && !f.tensors().empty()) {
    const size_t n = f.tensors().size();
    std::vector<TensorStats> stats(n);
    const unsigned hw = std::thread::hardware_concurrency();
    ThreadPool pool(o.threads > 0 ? o.threads : static_cast<int>(hw == 0 ? 1 : hw));
    std::atomic<size_t> done{0};
    std::mutex progress_mutex;
    // One tensor per task, interleaved so that big and small tensors spread across threads.
    pool.parallel_for(static_cast<int64_t>(pool.size()), [&](int64_t begin, int64_t end, int) {
      for (int64_t w = begin; w < end; ++w) {
        for (size_t i = static_cast<size_t>(w); i < n; i += static_cast<size_t>(pool.size())) {
          stats[i] = tensor_stats(f, i);
          const size_t d = ++done;
          if (o.progress) {
            std::lock_guard lock(progress_mutex);
            o.progress(d, n);
          }
        }
      }
    });
    for (size_t i = 0; i < n; ++i) {
      const TensorStats& s = stats[i];
      tensors[i]["stats"] = {{"min", s.min}, {"max", s.max}, {"mean", s.mean}, {"std", s.std}, {"nan", s.n_nan}, {"inf", s.n_inf}};
    }
  }
  j["tensors"] = tensors;

  json tok = json::object();
  auto str = [&](const char* key) { return f.find_string(key).value_or(""); };
  if (f.find("tokenizer.ggml.model") != nullptr) {
    tok["model"] = str("tokenizer.ggml.model");
    tok["pre"] = str("tokenizer.ggml.pre");
    auto count = [&](const char* key) -> uint64_t {
      const gguf::Value* v = f.find(key);
      return v != nullptr && v->type() == gguf::ValueType::array ? v->to_array(key).items.size() : 0;
    };
    tok["tokens"] = count("tokenizer.ggml.tokens");
    tok["merges"] = count("tokenizer.ggml.merges");
    const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
    for (const char* special : {"bos", "eos", "unknown", "padding", "eot"}) {
      const std::string key = fmt::format("tokenizer.ggml.{}_token_id", special);
      const gguf::Value* v = f.find(key);
      if (v == nullptr || !v->is_integer()) continue;
      const int64_t id = v->to_int(key);
      json entry = {{"id", id}};
      if (tokens != nullptr && tokens->type() == gguf::ValueType::array && id >= 0 &&
          static_cast<size_t>(id) < tokens->to_array(key).items.size()) {
        const auto& item = tokens->to_array(key).items[static_cast<size_t>(id)];
        if (item.type() == gguf::ValueType::string) entry["piece"] = item.to_string(key);
      }
      tok[special] = entry;
    }
    if (auto b = f.find("tokenizer.ggml.add_bos_token"); b != nullptr && b->type() == gguf::ValueType::boolean) {
      tok["add_bos"] = b->to_bool("tokenizer.ggml.add_bos_token");
    }
  }
  j["tokenizer"] = tok;
  const gguf::Value* tmpl = f.find("tokenizer.chat_template");
  j["chat_template"] = tmpl != nullptr && tmpl->type() == gguf::ValueType::string ? json(tmpl->to_string("tokenizer.chat_template"))
                                                                                   : json(nullptr);
  return j;
}

std::string inspect_text(const nlohmann::json& j, const InspectOptions& o) {
  std::string out;
  const auto& file = j["file"];
  if (file.contains("version")) {
    out += fmt::format("file:          {} (GGUF v{}, {}, data at {})\n", file["path"].get<std::string>(),
                       file["version"].get<uint32_t>(), human_bytes(file["bytes"].get<uint64_t>()),
                       file["data_offset"].get<uint64_t>());
  } else {
    const std::string format = file["format"].get<std::string>() == "mlx" ? "MLX" : "Hugging Face";
    out += fmt::format("file:          {} ({} directory, {} of weights)\n", file["path"].get<std::string>(), format,
                       human_bytes(file["bytes"].get<uint64_t>()));
  }
  out += fmt::format("architecture:  {}\n", j["architecture"].get<std::string>().empty() ? "(none)" : j["architecture"].get<std::string>());
  if (!j["name"].get<std::string>().empty()) out += fmt::format("name:          {}\n", j["name"].get<std::string>());
  out += fmt::format("parameters:    {}\n", j["parameters"].get<uint64_t>());
  out += "weight types:\n";
  for (const auto& [type, e] : j["types"].items()) {
    out += fmt::format("  {:<6} {:>5} tensors  {}\n", type, e["tensors"].get<uint64_t>(), human_bytes(e["bytes"].get<uint64_t>()));
  }
  if (!j["hyperparameters"].empty()) {
    out += "hyperparameters:\n";
    for (const auto& [k, v] : j["hyperparameters"].items()) out += fmt::format("  {:<36} {}\n", k, short_text(v, 100));
  }
  out += fmt::format("metadata ({} keys):\n", j["metadata"].size());
  for (const auto& [k, v] : j["metadata"].items()) {
    const auto& value = v["value"];
    std::string shown;
    if (value.is_object() && value.contains("array_of")) {
      shown = fmt::format("[{} x {}] {} ...", value["count"].get<uint64_t>(), value["array_of"].get<std::string>(),
                          short_text(value["first"], 80));
    } else {
      shown = short_text(value, 100);
    }
    out += fmt::format("  {:<44} {:<7} {}\n", k, v["type"].get<std::string>(), shown);
  }
  const auto& tok = j["tokenizer"];
  if (!tok.empty()) {
    out += fmt::format("tokenizer:     {} (pre: {}), {} tokens, {} merges\n", tok["model"].get<std::string>(),
                       tok["pre"].get<std::string>().empty() ? "-" : tok["pre"].get<std::string>(), tok["tokens"].get<uint64_t>(),
                       tok["merges"].get<uint64_t>());
    for (const char* special : {"bos", "eos", "unknown", "padding", "eot"}) {
      if (!tok.contains(special)) continue;
      const auto& e = tok[special];
      out += fmt::format("  {:<8} {} {}\n", special, e["id"].get<int64_t>(), e.contains("piece") ? short_text(e["piece"], 40) : "");
    }
  }
  if (j["chat_template"].is_string()) {
    const std::string t = j["chat_template"].get<std::string>();
    out += fmt::format("chat template: {} bytes: {}\n", t.size(), short_text(t, 120));
  } else {
    out += "chat template: none\n";
  }
  const auto& tensors = j["tensors"];
  out += fmt::format("tensors:       {}\n", tensors.size());
  if (o.tensors || o.stats) {
    for (const auto& t : tensors) {
      out += fmt::format("  {:<32} {:<20} {:<6} offset {:>12} {:>12}", t["name"].get<std::string>(),
                         fmt::format("[{}]", fmt::join(t["shape"].get<std::vector<int64_t>>(), ", ")),
                         t["type"].get<std::string>(), t["offset"].get<uint64_t>(), human_bytes(t["bytes"].get<uint64_t>()));
      if (t.contains("stats")) {
        const auto& s = t["stats"];
        out += fmt::format("  min {:.4g} max {:.4g} mean {:.4g} std {:.4g} nan {} inf {}", s["min"].get<double>(),
                           s["max"].get<double>(), s["mean"].get<double>(), s["std"].get<double>(), s["nan"].get<uint64_t>(),
                           s["inf"].get<uint64_t>());
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace owl
