// owl pull over HTTP (cpp-httplib, HTTPS through OpenSSL): store/pull.h.
#include "store/pull.h"

#include <fmt/ranges.h>
#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/error.h"
#include "store/digest.h"

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

// "https://host[:port][/base]" split into the client's origin and a path prefix. Plain http only to
// loopback addresses (a test server, a local mirror): elsewhere it would expose the download.
struct Url {
  std::string origin, path;
};

Url split_url(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) fail("'{}' is not a URL (http://... or https://...)", url);
  const std::string scheme = url.substr(0, scheme_end);
  const size_t path_at = url.find('/', scheme_end + 3);
  Url u{url.substr(0, path_at), path_at == std::string::npos ? "" : url.substr(path_at)};
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  const std::string host = u.origin.substr(scheme_end + 3);
  const bool loopback = host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
  if (scheme != "https" && !(scheme == "http" && loopback)) {
    fail("'{}': only https://, or http:// to a loopback address, is used", url);
  }
  return u;
}

class Http {
 public:
  Http(const std::string& base, httplib::Headers headers) : url_(split_url(base)), client_(url_.origin), headers_(std::move(headers)) {
    client_.set_follow_location(true);
    client_.set_connection_timeout(30);
    client_.set_read_timeout(120);
  }

  std::string get_text(const std::string& path, const httplib::Headers& extra = {}) {
    httplib::Headers h = headers_;
    h.insert(extra.begin(), extra.end());
    const httplib::Result r = client_.Get(url_.path + path, h);
    if (!r) fail("{}{}: {}", url_.origin, url_.path + path, httplib::to_string(r.error()));
    if (r->status == 401 || r->status == 403) fail("{}{}: access denied (HTTP {}; a gated repository needs HF_TOKEN or --token)", url_.origin, url_.path + path, r->status);
    if (r->status == 404) fail("{}{}: not found (HTTP 404)", url_.origin, url_.path + path);
    if (r->status != 200) fail("{}{}: HTTP {}", url_.origin, url_.path + path, r->status);
    if (r->body.size() > (size_t{64} << 20)) fail("{}{}: a listing of {} bytes", url_.origin, url_.path + path, r->body.size());
    return r->body;
  }

  // Appends the bytes from `offset` on to `out`; returns the HTTP status (206 resumed, 200 whole).
  int get_range(const std::string& path, uint64_t offset, std::ofstream& out, const std::function<bool(uint64_t)>& on_bytes) {
    httplib::Headers h = headers_;
    if (offset > 0) h.emplace("Range", "bytes=" + std::to_string(offset) + "-");
    int status = 0;
    bool restarted = false;
    const httplib::Result r = client_.Get(
        url_.path + path, h,
        [&](const httplib::Response& resp) {
          status = resp.status;
          if (status == 200 && offset > 0) restarted = true;  // the server ignored the range
          return status == 200 || status == 206;
        },
        [&](const char* data, size_t n) {
          if (restarted) {
            out.seekp(0);
            restarted = false;
            offset = 0;
          }
          out.write(data, static_cast<std::streamsize>(n));
          offset += n;
          return static_cast<bool>(out) && on_bytes(offset);
        });
    if (!r && status == 0) return -1;
    return r ? r->status : (status == 200 || status == 206 ? -1 : status);
  }

  std::string where(const std::string& path) const { return url_.origin + url_.path + path; }

 private:
  Url url_;
  httplib::Client client_;
  httplib::Headers headers_;
};

// Free space for `bytes` more in the store's blob folder, or owl::Error.
void check_space(const fs::path& dir, uint64_t bytes) {
  std::error_code ec;
  const fs::space_info s = fs::space(dir, ec);
  if (!ec && s.available < bytes) {
    fail("not enough disk space in {}: {:.1f} MiB needed, {:.1f} MiB free", dir.string(), bytes / 1048576.0,
         s.available / 1048576.0);
  }
}

struct Expected {
  uint64_t size = 0;
  std::string sha256;    // "sha256:<hex>" when known before the download (registry blobs, LFS files)
  std::string git_sha1;  // the Hub's id of a file kept in git
};

// Downloads into `partial`, resuming it, and checks size and digest. Returns the file's sha256 digest.
std::string download(Http& http, const std::string& path, const fs::path& partial, const Expected& want,
                     const std::string& label, const PullOptions& o) {
  std::error_code ec;
  fs::create_directories(partial.parent_path());
  uint64_t have = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
  if (have > want.size) {
    fs::remove(partial, ec);
    have = 0;
  }
  check_space(partial.parent_path(), want.size - have);
  const auto report = [&](uint64_t done) {
    if (o.progress) o.progress({"pulling " + label, done, want.size});
    return done <= want.size;  // a server sending more than it announced is cut off
  };
  std::string last_error;
  for (int attempt = 0; attempt < o.attempts && have < want.size; ++attempt) {
    std::ofstream out(partial, std::ios::binary | std::ios::in | std::ios::out | (have > 0 ? std::ios::ate : std::ios::trunc));
    if (!out) out.open(partial, std::ios::binary | std::ios::trunc);
    const int status = http.get_range(path, have, out, report);
    out.close();
    have = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
    if (status == 416 && have == want.size) break;
    if (status > 0 && status != 200 && status != 206) fail("{}: HTTP {}", http.where(path), status);
    last_error = status < 0 ? "the connection failed or dropped" : "";
  }
  if (have < want.size) {
    fail("{}: {} of {} bytes arrived ({}); run owl pull again to resume", http.where(path), have, want.size,
         last_error.empty() ? "the server ended early" : last_error);
  }
  if (o.progress) o.progress({"verifying " + label, want.size, want.size});
  std::string sha256 = file_sha256(partial.string());
  const bool size_ok = fs::file_size(partial) == want.size;
  const bool sha_ok = want.sha256.empty() || sha256 == want.sha256;
  const bool git_ok = want.git_sha1.empty() || file_git_sha1(partial.string()) == want.git_sha1;
  if (!size_ok || !sha_ok || !git_ok) {
    fs::remove(partial, ec);
    fail("{}: the downloaded bytes do not match their digest (expected {}, got {}); nothing was stored",
         http.where(path), want.sha256.empty() ? want.git_sha1 : want.sha256, sha256);
  }
  return sha256;
}

// Fetches one blob into the store (nothing to do when it is there already).
void fetch_blob(ModelStore& store, Http& http, const std::string& path, const Layer& layer, const std::string& label,
                const PullOptions& o) {
  if (store.has_blob(layer)) return;
  const fs::path partial = store.partial_path(layer.digest);
  download(http, path, partial, {layer.size, layer.digest, ""}, label, o);
  fs::rename(partial, store.blob_path(layer.digest));
}

ModelName pull_registry(ModelStore& store, const ModelName& name, const PullOptions& o) {
  const std::string base = name.host == "registry.ollama.ai" ? o.registry : "https://" + name.host;
  Http http(base, {});
  if (o.progress) o.progress({"pulling manifest", 0, 0});
  const std::string prefix = "/v2/" + name.ns + "/" + name.name;
  const std::string text = http.get_text(prefix + "/manifests/" + name.tag, {{"Accept", std::string(kManifestAccept)}});
  const Manifest m = parse_manifest(text, http.where(prefix + "/manifests/" + name.tag));
  for (const Layer& l : m.layers) fetch_blob(store, http, prefix + "/blobs/" + l.digest, l, l.digest.substr(7, 12), o);
  if (!m.config_digest.empty()) {
    fetch_blob(store, http, prefix + "/blobs/" + m.config_digest, {"config", m.config_digest, m.config_size, ""},
               m.config_digest.substr(7, 12), o);
  }
  if (o.progress) o.progress({"writing manifest", 0, 0});
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
  httplib::Headers auth;
  if (!o.hf_token.empty()) auth.emplace("Authorization", "Bearer " + o.hf_token);
  Http http(o.hf_endpoint, auth);
  const std::string repo = name.ns + "/" + name.name;
  if (o.progress) o.progress({"pulling manifest", 0, 0});
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
    // The layer path is checked as a manifest's would be, before anything is downloaded.
    (void)parse_manifest(hf_manifest_json({{l.media_type, "sha256:" + std::string(64, '0'), l.size, l.path}}, repo, revision), repo);
    const std::string url = fmt::format("/{}/resolve/{}/{}", repo, revision, f.path);
    if (!f.sha256.empty()) {
      fetch_blob(store, http, url, l, f.path, o);
    } else {  // a file kept in git: its sha256 is known once it is here
      const fs::path partial = store.root() / "blobs" / ("git-" + f.git_sha1 + "-partial");
      l.digest = download(http, url, partial, {f.size, "", f.git_sha1}, f.path, o);
      if (store.has_blob(l)) {
        fs::remove(partial);
      } else {
        fs::rename(partial, store.blob_path(l.digest));
      }
    }
    layers.push_back(std::move(l));
  }
  if (o.progress) o.progress({"writing manifest", 0, 0});
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
  if (o.progress) o.progress({"success", 0, 0});
  return pulled;
}

}  // namespace owl::store
