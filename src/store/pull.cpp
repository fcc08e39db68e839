// owl pull: the registry and Hub protocols (store/pull.h) over store/http_client.h and store/download.h.
#include "store/pull.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/error.h"
#include "store/digest.h"
#include "store/download.h"
#include "store/http_client.h"

namespace owl::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kManifestAccept =
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

DownloadOptions download_options(const PullOptions& o, const std::string& label, const std::string& digest) {
  DownloadOptions d;
  d.attempts = o.attempts;
  d.connections = o.connections;
  d.segment_bytes = o.segment_bytes;
  if (o.progress) {
    d.progress = [&o, label, digest](const DownloadProgress& p) {
      const std::string status = p.waiting ? "waiting for another pull of " + label
                                 : p.verifying ? "verifying sha256 digest"
                                               : "pulling " + label;
      o.progress({status, digest, p.completed, p.total});
    };
  }
  return d;
}

// Fetches one blob into the store (nothing to do when it is there already).
void fetch_blob(ModelStore& store, HttpClient& http, const std::string& path, const Layer& layer, const std::string& label,
                const PullOptions& o) {
  if (store.has_blob(layer)) return;
  download_file(http, {path, layer.size, layer.digest, ""}, store.partial_path(layer.digest),
                [&](const std::string& sha256) { return store.blob_path(sha256); }, download_options(o, label, layer.digest));
}

ModelName pull_registry(ModelStore& store, const ModelName& name, const PullOptions& o) {
  const std::string base = name.host == "registry.ollama.ai" ? o.registry : "https://" + name.host;
  HttpClient http(base, {});
  if (o.progress) o.progress({"pulling manifest"});
  const std::string prefix = "/v2/" + name.ns + "/" + name.name;
  const std::string text = http.get_text(prefix + "/manifests/" + name.tag, {{"Accept", std::string(kManifestAccept)}});
  const Manifest m = parse_manifest(text, http.where(prefix + "/manifests/" + name.tag));
  for (const Layer& l : m.layers) fetch_blob(store, http, prefix + "/blobs/" + l.digest, l, l.digest.substr(7, 12), o);
  if (!m.config_digest.empty()) {
    fetch_blob(store, http, prefix + "/blobs/" + m.config_digest, {"config", m.config_digest, m.config_size, ""},
               m.config_digest.substr(7, 12), o);
  }
  if (o.progress) o.progress({"writing manifest"});
  store.put_manifest(name, text);
  return name;
}

struct HubFile {
  std::string path;
  uint64_t size = 0;
  std::string sha256, git_sha1;
};

// The files to fetch: the GGUF the tag names (a quantization such as Q4_K_M, or a file path), else
// the safetensors weights with the config, tokenizer and license files.
std::vector<HubFile> choose_files(const std::vector<HubFile>& all, const ModelName& name) {
  std::vector<HubFile> ggufs;
  std::vector<std::string> gguf_paths;
  for (const HubFile& f : all) {
    if (f.path == name.tag) return {f};
    if (f.path.ends_with(".gguf")) {
      ggufs.push_back(f);
      gguf_paths.push_back(f.path);
    }
  }
  if (!ggufs.empty()) {
    const std::vector<size_t> match = gguf_files_for_tag(gguf_paths, name.tag);
    if (match.size() == 1) return {ggufs[match.front()]};
    fail("{}: {} GGUF files match '{}' (the repository has {})", name.str(), match.size(),
         name.tag == "latest" ? "Q4_K_M" : name.tag, fmt::join(gguf_paths, ", "));
  }
  if (name.tag != "latest") fail("{}: the repository has no file '{}' and no GGUF files", name.str(), name.tag);
  std::vector<HubFile> chosen;
  for (const HubFile& f : all) {
    const std::string file = fs::path(f.path).filename().string();
    if (f.path.ends_with(".safetensors") || (file.ends_with(".json") && f.path.find('/') == std::string::npos) ||
        file == "tokenizer.model" || file.starts_with("LICENSE")) {
      chosen.push_back(f);
    }
  }
  const bool weights = std::any_of(chosen.begin(), chosen.end(), [](const HubFile& f) { return f.path.ends_with(".safetensors"); });
  if (!weights) fail("{}: the repository has neither GGUF nor safetensors files", name.str());
  return chosen;
}

ModelName pull_hugging_face(ModelStore& store, const ModelName& name, const PullOptions& o) {
  HttpHeaders auth;
  if (!o.hf_token.empty()) auth.emplace_back("Authorization", "Bearer " + o.hf_token);
  HttpClient http(o.hf_endpoint, auth);
  const std::string repo = name.ns + "/" + name.name;
  if (o.progress) o.progress({"pulling manifest"});
  std::string revision = "main";
  try {
    const json info = json::parse(http.get_text("/api/models/" + repo));
    if (info.contains("sha") && info["sha"].is_string()) revision = info["sha"].get<std::string>();
  } catch (const json::exception& e) {
    fail("{}: malformed repository metadata ({})", http.where("/api/models/" + repo), e.what());
  }
  if (revision.empty() || revision.find_first_of("/?#. ") != std::string::npos) fail("{}: revision '{}' refused", repo, revision);
  const std::string tree_path = "/api/models/" + repo + "/tree/" + revision + "?recursive=true";
  std::vector<HubFile> all;
  try {
    for (const json& e : json::parse(http.get_text(tree_path))) {
      if (e.value("type", "") != "file") continue;
      HubFile f{e.at("path").get<std::string>(), e.at("size").get<uint64_t>(), "", e.value("oid", "")};
      if (e.contains("lfs") && e["lfs"].is_object()) {
        f.sha256 = "sha256:" + e["lfs"].at("oid").get<std::string>();
        f.size = e["lfs"].value("size", f.size);
        f.git_sha1.clear();
        if (!is_sha256_digest(f.sha256)) fail("{}: LFS id of {} is not a sha256; refused", http.where(tree_path), f.path);
      } else if (f.git_sha1.size() != 40 || f.git_sha1.find_first_not_of("0123456789abcdef") != std::string::npos) {
        fail("{}: git id of {} is not a SHA-1; refused", http.where(tree_path), f.path);
      }
      all.push_back(std::move(f));
    }
  } catch (const json::exception& e) {
    fail("{}: malformed file listing ({})", http.where(tree_path), e.what());
  }
  std::vector<Layer> layers;
  for (const HubFile& f : choose_files(all, name)) {
    Layer l{std::string(kHfFileLayer), f.sha256, f.size, f.path};
    // The path is checked as a manifest's is, before anything is downloaded.
    if (!is_valid_repo_path(l.path)) fail("{}: file path '{}' could leave its directory; refused", repo, l.path);
    const std::string url = fmt::format("/{}/resolve/{}/{}", repo, revision, f.path);
    if (!f.sha256.empty()) {
      fetch_blob(store, http, url, l, f.path, o);
    } else {  // a file kept in git: its sha256 is known once it is here
      l.digest = download_file(http, {url, f.size, "", f.git_sha1}, store.root() / "blobs" / ("git-" + f.git_sha1 + "-partial"),
                               [&](const std::string& sha256) { return store.blob_path(sha256); },
                               download_options(o, f.path, ""));
    }
    layers.push_back(std::move(l));
  }
  if (o.progress) o.progress({"writing manifest"});
  store.put_manifest(name, hf_manifest_json(layers, "hf.co/" + repo, revision));
  return name;
}

}  // namespace

PullOptions PullOptions::from_environment() {
  PullOptions o;
  o.registry = env_or("OWL_REGISTRY", "https://registry.ollama.ai");
  o.hf_endpoint = env_or("HF_ENDPOINT", "https://huggingface.co");
  o.hf_token = env_or("HF_TOKEN", "");
  return o;
}

ModelName pull(ModelStore& store, std::string_view text, const PullOptions& o) {
  const ModelName name = parse_model_name(text);
  ModelName pulled = name.hugging_face ? pull_hugging_face(store, name, o) : pull_registry(store, name, o);
  if (o.progress) o.progress({"success"});
  return pulled;
}

}  // namespace owl::store
