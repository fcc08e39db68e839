// Reading a Hugging Face model directory (transformers' save_pretrained layout). Shard names
// come from an index file, so each is checked to be a plain file name inside the directory.
#include "formats/hf_directory.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "base/error.h"

namespace owl::hf {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json_file(const std::string& path, bool optional, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    if (optional && !fs::exists(path, ec)) return nullptr;
    fail("{}: missing (or not a regular file)", path);
  }
  const auto size = fs::file_size(path, ec);
  if (ec || size > max_bytes) fail("{}: {} bytes is more than the {} a JSON file here may have", path, size, max_bytes);
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail("{}: read error", path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

namespace {

std::optional<std::string> read_text(const fs::path& p, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  if (fs::file_size(p, ec) > max_bytes) fail("{}: larger than {} bytes", p.string(), max_bytes);
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A template given as a string or as [{"name": ..., "template": ...}, ...].
std::optional<std::string> template_from(const json& v, const std::string& where) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) fail("{}: 'chat_template' must be a string or a list of named templates", where);
  std::optional<std::string> first;
  for (const json& t : v) {
    if (!t.is_object() || !t.contains("template") || !t["template"].is_string()) {
      fail("{}: 'chat_template' entries must be objects with a string 'template'", where);
    }
    const std::string name = t.value("name", "");
    if (name == "default") return t["template"].get<std::string>();
    if (!first) first = t["template"].get<std::string>();
  }
  return first;
}

// "license: apache-2.0" in the YAML front matter between the first two "---" lines.
std::optional<std::string> front_matter_license(const std::string& readme) {
  if (!readme.starts_with("---")) return std::nullopt;
  size_t pos = readme.find('\n');
  while (pos != std::string::npos && pos + 1 < readme.size()) {
    const size_t end = readme.find('\n', pos + 1);
    std::string line = readme.substr(pos + 1, (end == std::string::npos ? readme.size() : end) - pos - 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("---")) break;
    if (line.starts_with("license:")) {
      std::string v = line.substr(8);
      v.erase(0, v.find_first_not_of(" \t\"'"));
      v.erase(v.find_last_not_of(" \t\"'") + 1);
      if (!v.empty()) return v;
    }
    pos = end;
  }
  return std::nullopt;
}

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name.find('\\') == std::string::npos &&
         name != "." && name != "..";
}

}  // namespace

std::string Directory::name() const {
  fs::path p(path_);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

std::unique_ptr<Directory> Directory::open(const std::string& dir) {
  auto d = std::make_unique<Directory>();
  d->path_ = dir;
  const fs::path root(dir);
  d->config_ = read_json_file((root / "config.json").string(), false, 16u << 20);
  if (!d->config_.is_object()) fail("{}: expected a JSON object", (root / "config.json").string());
  if (json g = read_json_file((root / "generation_config.json").string(), true, 1u << 20); g.is_object()) {
    d->generation_ = std::move(g);
  }
  const std::string tc_path = (root / "tokenizer_config.json").string();
  if (json t = read_json_file(tc_path, true); t.is_object()) d->tokenizer_config_ = std::move(t);

  if (auto jinja = read_text(root / "chat_template.jinja", 4u << 20)) {
    d->chat_template_ = std::move(jinja);
  } else if (json ct = read_json_file((root / "chat_template.json").string(), true, 4u << 20); ct.is_object()) {
    d->chat_template_ = template_from(ct.value("chat_template", json()), (root / "chat_template.json").string());
  } else if (d->tokenizer_config_.contains("chat_template")) {
    d->chat_template_ = template_from(d->tokenizer_config_["chat_template"], tc_path);
  }
  if (auto readme = read_text(root / "README.md", 4u << 20)) d->license_ = front_matter_license(*readme);

  // Weights: the shards an index names, else model.safetensors.
  std::vector<std::string> files;
  std::map<std::string, std::string> weight_map;
  const std::string index_path = (root / "model.safetensors.index.json").string();
  if (json index = read_json_file(index_path, true); !index.is_null()) {
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
      fail("{}: expected an object with a 'weight_map' object", index_path);
    }
    std::set<std::string> seen;
    for (const auto& [name, file] : index["weight_map"].items()) {
      if (!file.is_string() || !is_plain_file_name(file.get<std::string>())) {
        fail("{}: weight_map['{}'] must name a file in the directory", index_path, name);
      }
      weight_map[name] = file.get<std::string>();
      if (seen.insert(file.get<std::string>()).second) files.push_back(file.get<std::string>());
    }
    if (files.empty()) fail("{}: 'weight_map' names no tensor", index_path);
  } else {
    std::error_code ec;
    if (!fs::is_regular_file(root / "model.safetensors", ec)) {
      fail("{}: no model.safetensors or model.safetensors.index.json (is this a Hugging Face model directory?)", dir);
    }
    files.push_back("model.safetensors");
  }
  for (const std::string& f : files) {
    const std::string shard_path = (root / f).string();
    std::error_code ec;
    if (!fs::is_regular_file(shard_path, ec)) fail("{}: shard '{}' named by the index is missing", index_path, f);
    std::shared_ptr<const safetensors::File> shard = safetensors::File::open(shard_path);
    for (const safetensors::Tensor& t : shard->tensors()) {
      if (auto it = weight_map.find(t.name); !weight_map.empty() && it != weight_map.end() && it->second != f) {
        continue;  // the index places this name in another shard
      }
      if (!d->tensors_.emplace(t.name, &t).second) fail("{}: tensor '{}' is also in another shard", shard_path, t.name);
    }
    d->shards_.push_back(std::move(shard));
  }
  for (const auto& [name, file] : weight_map) {
    if (!d->tensors_.contains(name)) fail("{}: tensor '{}' is not in its shard '{}'", index_path, name, file);
  }
  return d;
}

}  // namespace owl::hf
