// The store's HTTP client (cpp-httplib; HTTPS through OpenSSL): a base URL, headers sent with every
// request (a Hub token), listings fetched whole and files streamed by byte range. Plain http:// is
// accepted only for loopback addresses (a test server, a local mirror): elsewhere it would expose
// the download. Each HttpClient is one connection; make another for a second one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace owl::store {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  // owl::Error for what is not an https:// URL (or http:// to loopback).
  HttpClient(const std::string& base_url, HttpHeaders headers);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  // Another connection to the same server with the same headers.
  std::unique_ptr<HttpClient> another() const;

  // A listing or manifest (at most 64 MiB): owl::Error for a failed connection or any status but
  // 200, with 401/403 explained (a gated repository needs a token) and 404 as "not found".
  std::string get_text(const std::string& path, const HttpHeaders& extra = {});

  struct Streamed {
    int status = 0;              // the HTTP status; 0 when no response arrived
    bool dropped = false;        // the connection failed or ended before the body did
  };
  // Streams the body of `path` from byte `begin` to byte `end` (exclusive; 0 = to the end of the
  // file; the whole file asks no range) to on_data, which returns false to stop. A server that
  // ignores the range answers 200 with the whole file: the caller sees that status.
  Streamed get_bytes(const std::string& path, uint64_t begin, uint64_t end,
                     const std::function<bool(int status, const char* data, size_t n)>& on_data);

  // The full URL of path, for messages.
  std::string where(const std::string& path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace owl::store
