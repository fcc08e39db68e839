// The model store (store/model_store.h): names, manifests, blobs, snapshots.
#include "store/model_store.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "base/atomic_write.h"
#include "base/error.h"
#include "store/digest.h"

namespace owl::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kDefaultRegistry = "registry.ollama.ai";
constexpr std::string_view kHfHost = "hf.co";

bool valid_part(std::string_view s, bool host = false) {
  if (s.empty() || s.size() > 200 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || (host && c == ':');
  });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t next = s.find(sep, at);
    parts.push_back(s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) return parts;
    at = next + 1;
  }
}

}  // namespace

// A repository path of a Hugging Face file: relative, no "." or ".." parts, no backslashes.
bool is_valid_repo_path(std::string_view p) {
  if (p.empty() || p.size() > 1000 || p.front() == '/') return false;
  for (std::string_view part : split(p, '/')) {
    if (part.empty() || part == "." || part == ".." || part.find('\\') != std::string_view::npos) return false;
  }
  return true;
}

std::string ModelName::str() const {
  if (hugging_face) return std::string(kHfHost) + "/" + ns + "/" + name + ":" + tag;
  if (host == kDefaultRegistry && ns == "library") return name + ":" + tag;
  return host + "/" + ns + "/" + name + ":" + tag;
}

ModelName parse_model_name(std::string_view text) {
  ModelName n;
  std::string_view rest = text;
  for (std::string_view hf : {"hf.co/", "huggingface.co/"}) {
    if (rest.substr(0, hf.size()) == hf) {
      n.hugging_face = true;
      rest.remove_prefix(hf.size());
    }
  }
  // The tag follows the last ':' of the last path part (a registry host may carry a port).
  const size_t slash = rest.rfind('/');
  const size_t colon = rest.find(':', slash == std::string_view::npos ? 0 : slash);
  n.tag = colon == std::string_view::npos ? "latest" : std::string(rest.substr(colon + 1));
  const std::vector<std::string_view> parts = split(rest.substr(0, colon), '/');
  bool ok = true;
  if (n.hugging_face || parts.size() == 2) {
    n.hugging_face = true;
    ok = parts.size() == 2;
    n.host = kHfHost;
    if (ok) n.ns = parts[0], n.name = parts[1];
  } else if (parts.size() == 1) {
    n.host = kDefaultRegistry;
    n.ns = "library";
    n.name = parts[0];
  } else {
    ok = parts.size() == 3 && valid_part(parts[0], true);
    if (ok) n.host = parts[0], n.ns = parts[1], n.name = parts[2];
  }
  if (!ok || !valid_part(n.ns) || !valid_part(n.name) || !valid_part(n.tag)) {
    fail("'{}' is not a model name (NAME[:TAG], REGISTRY/NAMESPACE/NAME[:TAG], hf.co/OWNER/REPO[:QUANT] or "
         "OWNER/REPO[:FILE])",
         text);
  }
  return n;
}

bool looks_like_model_name(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.front() == '/' || text.find("//") != std::string_view::npos) return false;
  for (std::string_view ext : {".gguf", ".bin", ".safetensors", ".json"}) {
    if (text.size() >= ext.size() && text.substr(text.size() - ext.size()) == ext) return false;
  }
  try {
    (void)parse_model_name(text);
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::vector<size_t> gguf_files_for_tag(const std::vector<std::string>& paths, const std::string& tag) {
  const auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  const std::string want = lower(tag == "latest" ? "Q4_K_M" : tag);
  std::vector<size_t> match;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (lower(fs::path(paths[i]).filename().string()).find(want) != std::string::npos) match.push_back(i);
  }
  if (match.empty() && tag == "latest" && paths.size() == 1) match.push_back(0);
  return match;
}

Manifest parse_manifest(const std::string& text, const std::string& what) {
  Manifest m;
  m.json = text;
  try {
    const json j = json::parse(text);
    const auto check_digest = [&](const std::string& d) {
      if (!is_sha256_digest(d)) fail("{}: digest '{}' is not sha256:<64 hex digits>; refused", what, d);
      return d;
    };
    if (j.contains("config") && j["config"].is_object()) {
      m.config_digest = check_digest(j["config"].at("digest").get<std::string>());
      m.config_size = j["config"].at("size").get<uint64_t>();
    }
    const json& layers = j.at("layers");
    if (!layers.is_array() || layers.empty() || layers.size() > 10000) fail("{}: no layers", what);
    for (const json& l : layers) {
      Layer layer;
      layer.media_type = l.at("mediaType").get<std::string>();
      layer.digest = check_digest(l.at("digest").get<std::string>());
      layer.size = l.at("size").get<uint64_t>();
      if (l.contains("annotations") && l["annotations"].contains("org.owl.path")) {
        layer.path = l["annotations"]["org.owl.path"].get<std::string>();
        if (!is_valid_repo_path(layer.path)) fail("{}: file path '{}' could leave its directory; refused", what, layer.path);
      }
      m.layers.push_back(std::move(layer));
    }
  } catch (const json::exception& e) {
    fail("{}: malformed manifest ({})", what, e.what());
  }
  return m;
}

std::string hf_manifest_json(const std::vector<Layer>& files, const std::string& source, const std::string& revision) {
  json layers = json::array();
  for (const Layer& f : files) {
    layers.push_back({{"mediaType", f.media_type}, {"digest", f.digest}, {"size", f.size},
                      {"annotations", {{"org.owl.path", f.path}}}});
  }
  return json{{"schemaVersion", 2},
               {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
               {"layers", layers},
               {"annotations", {{"org.owl.source", source}, {"org.owl.revision", revision}}}}
      .dump(2);
}

ModelStore::ModelStore(fs::path root) : root_(std::move(root)) {}

ModelStore ModelStore::open_default() {
  if (const char* home = std::getenv("OWL_HOME"); home != nullptr && *home != '\0') return ModelStore(home);
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') return ModelStore(fs::path(xdg) / "owl");
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') fail("store: neither OWL_HOME nor HOME is set");
  return ModelStore(fs::path(home) / ".local" / "share" / "owl");
}

fs::path ModelStore::blob_path(std::string_view digest) const {
  if (!is_sha256_digest(digest)) fail("store: '{}' is not a sha256 digest", digest);
  return root_ / "blobs" / ("sha256-" + std::string(digest.substr(7)));
}

fs::path ModelStore::partial_path(std::string_view digest) const {
  fs::path p = blob_path(digest);
  p += "-partial";
  return p;
}

bool ModelStore::has_blob(const Layer& layer) const {
  std::error_code ec;
  const fs::path p = blob_path(layer.digest);
  return fs::is_regular_file(p, ec) && fs::file_size(p, ec) == layer.size;
}

fs::path ModelStore::manifest_path(const ModelName& n) const { return root_ / "manifests" / n.host / n.ns / n.name / n.tag; }
fs::path ModelStore::snapshot_path(const ModelName& n) const { return root_ / "snapshots" / n.host / n.ns / n.name / n.tag; }

std::optional<Manifest> ModelStore::manifest(const ModelName& name) const {
  const fs::path p = manifest_path(name);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_manifest(text, p.string());
}

void ModelStore::make_snapshot(const ModelName& name, const Manifest& m) const {
  // Only a Hugging Face repository without a GGUF file is a directory model.
  const bool directory = std::all_of(m.layers.begin(), m.layers.end(), [](const Layer& l) {
    return l.media_type == kHfFileLayer && !l.path.ends_with(".gguf");
  });
  if (!directory) return;
  fs::create_directories(snapshot_path(name).parent_path());
  atomic_write_directory(snapshot_path(name), [&](const fs::path& tmp) {
    for (const Layer& l : m.layers) {
      const fs::path link = tmp / l.path;
      fs::create_directories(link.parent_path());
      fs::create_symlink(blob_path(l.digest), link);
    }
  });
}

void ModelStore::put_manifest(const ModelName& name, const std::string& text) {
  const Manifest m = parse_manifest(text, name.str());
  for (const Layer& l : m.layers) {
    if (!has_blob(l)) fail("store: {} names blob {}, which is not in the store", name.str(), l.digest);
  }
  make_snapshot(name, m);
  fs::create_directories(manifest_path(name).parent_path());
  atomic_write(manifest_path(name), text);
}

std::vector<ListEntry> ModelStore::list() const {
  std::vector<ListEntry> out;
  std::error_code ec;
  const fs::path base = root_ / "manifests";
  if (!fs::is_directory(base, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(base, ec)) {
    if (!e.is_regular_file() || e.path().filename().string().ends_with(".tmp")) continue;
    const std::vector<std::string> parts = [&] {
      std::vector<std::string> v;
      for (const auto& p : fs::relative(e.path(), base)) v.push_back(p.string());
      return v;
    }();
    if (parts.size() != 4) continue;
    ListEntry entry;
    entry.name.host = parts[0];
    entry.name.ns = parts[1];
    entry.name.name = parts[2];
    entry.name.tag = parts[3];
    entry.name.hugging_face = parts[0] == kHfHost;
    try {
      const Manifest m = *manifest(entry.name);
      entry.size = m.config_size;
      for (const Layer& l : m.layers) entry.size += l.size;
      Hasher h;
      h.update(m.json.data(), m.json.size());
      entry.id = h.final_hex().substr(0, 12);
    } catch (const Error&) {
      continue;  // a damaged manifest is not listed (owl rm still removes it by name)
    }
    entry.modified = e.last_write_time();
    out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(), [](const ListEntry& a, const ListEntry& b) { return a.name.str() < b.name.str(); });
  return out;
}

void ModelStore::remove(const ModelName& name) {
  const fs::path p = manifest_path(name);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) fail("store: no model named {}", name.str());
  fs::remove(p);
  fs::remove_all(snapshot_path(name), ec);
  // Blobs only this manifest named go too; while any manifest cannot be read, none is collected
  // (what it names is unknown).
  std::set<std::string> used;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "manifests", ec)) {
    if (!e.is_regular_file() || e.path().filename().string().ends_with(".tmp")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      const Manifest m = parse_manifest(text, e.path().string());
      for (const Layer& l : m.layers) used.insert(blob_path(l.digest).filename().string());
      if (!m.config_digest.empty()) used.insert(blob_path(m.config_digest).filename().string());
    } catch (const Error&) {
      return;
    }
  }
  for (const auto& b : fs::directory_iterator(root_ / "blobs", ec)) {
    const std::string file = b.path().filename().string();
    // Downloads in progress (their partial files and range lists) are not blobs yet.
    if (file.find("-partial") == std::string::npos && !used.contains(file)) fs::remove(b.path(), ec);
  }
}

void ModelStore::copy(const ModelName& from, const ModelName& to) {
  const std::optional<Manifest> m = manifest(from);
  if (!m) fail("store: no model named {}", from.str());
  put_manifest(to, m->json);
}

std::optional<fs::path> ModelStore::model_path(const ModelName& name) const {
  const std::optional<Manifest> m = manifest(name);
  if (!m) return std::nullopt;
  return model_path(name, *m);
}

fs::path ModelStore::model_path(const ModelName& name, const Manifest& m) const {
  for (const Layer& l : m.layers) {
    if (l.media_type == kOllamaModelLayer || (l.path.ends_with(".gguf"))) return blob_path(l.digest);
  }
  std::error_code ec;
  if (fs::is_directory(snapshot_path(name), ec)) return snapshot_path(name);
  fail("store: {} holds no model file", name.str());
}

}  // namespace owl::store
