// Ollama's store and the Hugging Face cache, read in place (store/foreign_stores.h).
#include "store/foreign_stores.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "base/error.h"

namespace owl::store {

namespace fs = std::filesystem;

namespace {

std::optional<fs::path> from_env(const char* var) {
  const char* v = std::getenv(var);
  return v != nullptr && *v != '\0' ? std::optional(fs::path(v)) : std::nullopt;
}

std::optional<fs::path> below_home(const char* relative) {
  const auto home = from_env("HOME");
  return home ? std::optional(*home / relative) : std::nullopt;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The snapshot a repository's refs/main names (a commit id, checked before it names a folder).
std::optional<fs::path> main_snapshot(const fs::path& repo_dir) {
  std::ifstream in(repo_dir / "refs" / "main");
  std::string rev;
  if (!(in >> rev) || rev.size() > 64 || rev.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  const fs::path snap = repo_dir / "snapshots" / rev;
  return is_dir(snap) ? std::optional(snap) : std::nullopt;
}

uint64_t tree_size(const fs::path& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (fs::is_regular_file(e.path(), ec)) n += fs::file_size(e.path(), ec);  // through the links to blobs/
  }
  return n;
}

std::vector<fs::path> gguf_files(const fs::path& snap) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(snap, ec)) {
    if (e.path().extension() == ".gguf" && fs::is_regular_file(e.path(), ec)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What OWNER/REPO[:TAG] means in a snapshot: the GGUF the tag names (the one file, or Q4_K_M among
// several, by default), else the directory when it holds safetensors.
std::optional<fs::path> model_in_snapshot(const fs::path& snap, const std::string& tag) {
  const std::vector<fs::path> ggufs = gguf_files(snap);
  std::vector<std::string> paths;
  for (const fs::path& g : ggufs) {
    paths.push_back(g.lexically_relative(snap).string());  // (relative() would follow the link)
    if (paths.back() == tag) return g;
  }
  const std::vector<size_t> match = gguf_files_for_tag(paths, tag);
  if (match.size() == 1) return ggufs[match.front()];
  if (!ggufs.empty() || tag != "latest") return std::nullopt;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(snap, ec)) {
    if (e.path().extension() == ".safetensors") return snap;
  }
  return std::nullopt;
}

}  // namespace

std::optional<fs::path> ollama_models_dir() {
  const auto dir = from_env("OLLAMA_MODELS");
  return dir ? dir : below_home(".ollama/models");
}

std::optional<fs::path> hf_cache_dir() {
  if (auto p = from_env("HF_HUB_CACHE")) return p;
  if (auto home = from_env("HF_HOME")) return *home / "hub";
  if (auto xdg = from_env("XDG_CACHE_HOME")) return *xdg / "huggingface" / "hub";
  return below_home(".cache/huggingface/hub");
}

std::vector<ForeignModel> foreign_models() {
  std::vector<ForeignModel> out;
  if (const auto dir = ollama_models_dir(); dir && is_dir(*dir)) {
    const ModelStore ollama(*dir);
    for (ListEntry& e : ollama.list()) {
      try {
        if (auto p = ollama.model_path(e.name)) out.push_back({e.name, "ollama", *p, e.size, e.modified});
      } catch (const Error&) {
        // a manifest without a model layer (an adapter, a projector) is not a model
      }
    }
  }
  const auto cache = hf_cache_dir();
  std::error_code ec;
  if (!cache || !is_dir(*cache)) return out;
  for (const auto& e : fs::directory_iterator(*cache, ec)) {
    const std::string dir = e.path().filename().string();
    if (!dir.starts_with("models--")) continue;
    const size_t sep = dir.find("--", 8);
    if (sep == std::string::npos) continue;
    ModelName n;
    n.hugging_face = true;
    n.host = "hf.co";
    n.ns = dir.substr(8, sep - 8);
    n.name = dir.substr(sep + 2);
    const auto snap = main_snapshot(e.path());
    if (!snap) continue;
    const std::vector<fs::path> ggufs = gguf_files(*snap);
    const auto modified = fs::last_write_time(*snap, ec);
    if (ggufs.empty()) {
      n.tag = "latest";
      if (auto p = model_in_snapshot(*snap, n.tag)) out.push_back({n, "hf-cache", *p, tree_size(*snap), modified});
      continue;
    }
    for (const fs::path& g : ggufs) {
      n.tag = g.lexically_relative(*snap).string();
      if (n.tag.find('/') != std::string::npos) continue;  // a tag is one path part
      out.push_back({n, "hf-cache", g, fs::file_size(g, ec), modified});
    }
  }
  return out;
}

std::optional<fs::path> find_foreign_model(const ModelName& name) {
  if (!name.hugging_face) {
    const auto dir = ollama_models_dir();
    if (!dir || !is_dir(*dir)) return std::nullopt;
    try {
      return ModelStore(*dir).model_path(name);
    } catch (const Error&) {
      return std::nullopt;
    }
  }
  const auto cache = hf_cache_dir();
  if (!cache) return std::nullopt;
  const auto snap = main_snapshot(*cache / ("models--" + name.ns + "--" + name.name));
  return snap ? model_in_snapshot(*snap, name.tag) : std::nullopt;
}

}  // namespace owl::store
