// A registry and a Hugging Face Hub on a loopback port, for the store's tests: Ollama's registry
// protocol (/v2/NS/NAME/manifests/TAG, /v2/NS/NAME/blobs/DIGEST) and the Hub's (/api/models/REPO,
// its tree listing with LFS sizes and hashes, /REPO/resolve/REV/PATH), serving files from disk with
// HTTP Range support, and faults on demand: a connection dropped at a chosen byte, a corrupted byte,
// a gated repository. It counts requests, each blob's Range headers and the bytes it sent.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test_files.h"
#include "tool_digests.h"

class FakeHub {
 public:
  struct Blob {
    std::string bytes;
    int64_t drop_at = -1;     // the first response to reach this byte of the file closes its connection there
    int64_t corrupt_at = -1;  // this byte is flipped in every response
    int requests = 0;
    bool honour_ranges = true;  // false: every answer is the whole file, 200 (a server without Range support)
    std::vector<std::string> ranges;  // each request's Range header ("" for none)
    uint64_t bytes_sent = 0;
  };

  FakeHub() {
    // Every request is counted; a repository may require a token (a gated one).
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      ++requests_;
      for (const auto& [repo, token] : tokens_) {
        const bool for_repo = req.path.find("/" + repo + "/") != std::string::npos || req.path.ends_with("/" + repo);
        if (for_repo && req.get_header_value("Authorization") != "Bearer " + token) {
          res.status = 401;
          res.set_content(R"({"error":"Access to model )" + repo + R"( is restricted."})", "application/json");
          return httplib::Server::HandlerResponse::Handled;
        }
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server_.Get(R"(/v2/([^/]+)/([^/]+)/manifests/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      const auto it = manifests_.find(req.matches[1].str() + "/" + req.matches[2].str() + ":" + req.matches[3].str());
      if (it == manifests_.end()) {
        res.status = 404;
        return;
      }
      res.set_content(it->second, "application/vnd.docker.distribution.manifest.v2+json");
    });
    server_.Get(R"(/v2/[^/]+/[^/]+/blobs/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      serve_blob("blob:" + req.matches[1].str(), req, res);
    });
    server_.Get(R"(/api/models/([^/]+)/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
      if (!repos_.contains(repo)) {
        res.status = 404;
        return;
      }
      res.set_content(nlohmann::json{{"id", repo}, {"sha", kRevision}}.dump(), "application/json");
    });
    server_.Get(R"(/api/models/([^/]+)/([^/]+)/tree/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      const auto it = repos_.find(req.matches[1].str() + "/" + req.matches[2].str());
      if (it == repos_.end() || req.matches[3].str() != kRevision) {
        res.status = 404;
        return;
      }
      res.set_content(it->second.dump(), "application/json");
    });
    server_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string key = "file:" + req.matches[1].str() + "/" + req.matches[2].str() + "/" + req.matches[4].str();
      if (cdn_port_ > 0) {  // as the Hub sends LFS files to its storage: a signed URL on another origin
        res.status = 302;
        res.set_header("Location", "http://127.0.0.1:" + std::to_string(cdn_port_) + "/cdn?key=" + key);
        return;
      }
      serve_blob(key, req, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
    if (cdn_thread_.joinable()) {
      cdn_.stop();
      cdn_thread_.join();
    }
  }

  // From now on the Hub answers file downloads with a redirect to a file store on another port,
  // which records the Authorization header of every request it gets ("" when none).
  void redirect_files_to_cdn() {
    cdn_.Get("/cdn", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mutex_);
        cdn_authorizations_.push_back(req.get_header_value("Authorization"));
      }
      serve_blob(req.get_param_value("key"), req, res);
    });
    cdn_port_ = cdn_.bind_to_any_port("127.0.0.1");
    cdn_thread_ = std::thread([this] { cdn_.listen_after_bind(); });
    while (!cdn_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::vector<std::string> cdn_authorizations() {
    std::lock_guard lock(mutex_);
    return cdn_authorizations_;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // An Ollama model: the GGUF as its model layer, a template layer, the extra layers given (by the
  // last part of their media type: "params", "system", "license"...) and a config blob.
  void add_registry_model(const std::string& ns_name_tag, const std::string& gguf_path,
                          const std::map<std::string, std::string>& extra_layers = {}) {
    const std::string model = read_file(gguf_path), tmpl = "{{ .Prompt }}", config = R"({"model_format":"gguf"})";
    nlohmann::json layers = {layer("application/vnd.ollama.image.model", model), layer("application/vnd.ollama.image.template", tmpl)};
    for (const auto& [kind, bytes] : extra_layers) layers.push_back(layer("application/vnd.ollama.image." + kind, bytes));
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                        {"config", layer("application/vnd.docker.container.image.v1+json", config)},
                        {"layers", layers}};
    set_manifest(ns_name_tag, m.dump());
  }
  void set_manifest(const std::string& ns_name_tag, const std::string& json) {
    std::lock_guard lock(mutex_);
    manifests_[ns_name_tag] = json;
  }
  static std::string digest_of(const std::string& bytes) {
    const auto p = scratch_path("digest.tmp");
    write_file(p, bytes);
    return sha256_of(p.string());
  }

  // A Hub repository holding the given files (LFS for the large ones, as the Hub stores them).
  void add_repo(const std::string& repo, const std::map<std::string, std::string>& path_to_file) {
    nlohmann::json tree = nlohmann::json::array();
    for (const auto& [path, file] : path_to_file) {
      const std::string bytes = read_file(file);
      nlohmann::json e = {{"type", "file"}, {"path", path}, {"size", bytes.size()}};
      if (path.ends_with(".safetensors") || path.ends_with(".gguf")) {
        e["oid"] = "0123456789abcdef0123456789abcdef01234567";  // the LFS pointer's id, not the file's
        e["lfs"] = {{"oid", sha256_of(file).substr(7)}, {"size", bytes.size()}, {"pointerSize", 134}};
      } else {
        e["oid"] = git_sha1_of(file);
      }
      tree.push_back(e);
      std::lock_guard lock(mutex_);
      blobs_["file:" + repo + "/" + path] = {bytes};
    }
    tree.push_back({{"type", "directory"}, {"path", "docs"}, {"oid", "x"}, {"size", 0}});
    std::lock_guard lock(mutex_);
    repos_[repo] = tree;
  }

  // Requests for the repository need "Authorization: Bearer <token>" (else 401, as the Hub answers
  // for a gated repository).
  void require_token(const std::string& repo, const std::string& token) {
    std::lock_guard lock(mutex_);
    tokens_[repo] = token;
  }
  int requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  // Faults and counters by key: "blob:sha256:..." or "file:OWNER/REPO/PATH".
  Blob& blob(const std::string& key) {
    std::lock_guard lock(mutex_);
    return blobs_.at(key);
  }

  static constexpr const char* kRevision = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

 private:
  nlohmann::json layer(const std::string& media_type, const std::string& bytes) {
    const std::string digest = digest_of(bytes);
    std::lock_guard lock(mutex_);
    blobs_["blob:" + digest] = {bytes};
    return {{"mediaType", media_type}, {"digest", digest}, {"size", bytes.size()}};
  }

  void serve_blob(const std::string& key, const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<std::string> body;
    Blob* counted = nullptr;  // std::map: the address stays while the hub lives
    {
      std::lock_guard lock(mutex_);
      const auto it = blobs_.find(key);
      if (it == blobs_.end()) {
        res.status = 404;
        return;
      }
      Blob& b = it->second;
      counted = &b;
      ++b.requests;
      b.ranges.push_back(req.get_header_value("Range"));
      body = std::make_shared<std::string>(b.bytes);
      if (b.corrupt_at >= 0 && b.corrupt_at < static_cast<int64_t>(body->size())) (*body)[b.corrupt_at] ^= 0x5a;
    }
    if (!counted->honour_ranges) {  // chunked, status set: cpp-httplib then sends all of it, as 200
      res.status = 200;
      res.set_chunked_content_provider("application/octet-stream", [this, body, counted](size_t offset, httplib::DataSink& sink) {
        const size_t end = std::min(offset + 65536, body->size());
        {
          std::lock_guard lock(mutex_);
          counted->bytes_sent += end - offset;
        }
        sink.write(body->data() + offset, end - offset);
        if (end == body->size()) sink.done();
        return true;
      });
      return;
    }
    // cpp-httplib answers a Range request itself (206 and Content-Range) from this provider.
    res.set_content_provider(body->size(), "application/octet-stream",
                             [this, body, counted](size_t offset, size_t n, httplib::DataSink& sink) {
                               size_t end = std::min(offset + std::min<size_t>(n, 65536), body->size());
                               {
                                 std::lock_guard lock(mutex_);
                                 const int64_t drop = counted->drop_at;
                                 if (drop >= 0 && static_cast<int64_t>(offset) <= drop && static_cast<int64_t>(end) > drop) {
                                   end = static_cast<size_t>(drop);
                                   if (end <= offset) {
                                     counted->drop_at = -1;
                                     return false;  // drops the connection mid-body
                                   }
                                 }
                                 counted->bytes_sent += end - offset;
                               }
                               sink.write(body->data() + offset, end - offset);
                               return true;
                             });
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::map<std::string, std::string> manifests_;
  std::map<std::string, nlohmann::json> repos_;
  std::map<std::string, Blob> blobs_;
  std::map<std::string, std::string> tokens_;
  int requests_ = 0;
  httplib::Server cdn_;
  std::thread cdn_thread_;
  int cdn_port_ = 0;
  std::vector<std::string> cdn_authorizations_;
};
