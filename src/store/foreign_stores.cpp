// Where Ollama's store is, and the Hugging Face cache read in place (store/foreign_stores.h).
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

namespace {

ModelName hf_name(const std::string& ns, const std::string& repo, const std::string& tag) {
  ModelName n;
  n.hugging_face = true;
  n.host = "hf.co";
  n.ns = ns;
  n.name = repo;
  n.tag = tag;
  return n;
}

// The cache entry a model of a snapshot is listed and found as (its size: the GGUF file, or every
// file of a safetensors snapshot).
ForeignModel cached(const ModelName& n, const fs::path& snap, const fs::path& model) {
  std::error_code ec;
  const bool whole = model == snap;
  return {n, "hf-cache", model, whole ? tree_size(snap) : fs::file_size(model, ec), fs::last_write_time(snap, ec)};
}

}  // namespace

std::vector<ForeignModel> hf_cache_models() {
  std::vector<ForeignModel> out;
  const auto cache = hf_cache_dir();
  std::error_code ec;
  if (!cache || !is_dir(*cache)) return out;
  for (const auto& e : fs::directory_iterator(*cache, ec)) {
    const std::string dir = e.path().filename().string();
    if (!dir.starts_with("models--")) continue;
    const size_t sep = dir.find("--", 8);
    if (sep == std::string::npos) continue;
    const std::string ns = dir.substr(8, sep - 8), repo = dir.substr(sep + 2);
    const auto snap = main_snapshot(e.path());
    if (!snap) continue;
    const std::vector<fs::path> ggufs = gguf_files(*snap);
    if (ggufs.empty()) {
      if (auto p = model_in_snapshot(*snap, "latest")) out.push_back(cached(hf_name(ns, repo, "latest"), *snap, *p));
      continue;
    }
    for (const fs::path& g : ggufs) {
      const std::string tag = g.lexically_relative(*snap).string();
      if (tag.find('/') != std::string::npos) continue;  // a tag is one path part
      out.push_back(cached(hf_name(ns, repo, tag), *snap, g));
    }
  }
  return out;
}

std::optional<ForeignModel> find_hf_cache_model(const ModelName& name) {
  const auto cache = hf_cache_dir();
  if (!name.hugging_face || !cache) return std::nullopt;
  const auto snap = main_snapshot(*cache / ("models--" + name.ns + "--" + name.name));
  if (!snap) return std::nullopt;
  const auto model = model_in_snapshot(*snap, name.tag);
  return model ? std::optional(cached(name, *snap, *model)) : std::nullopt;
}

}  // namespace owl::store
