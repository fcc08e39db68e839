// store/http_client.h over cpp-httplib.
#include "store/http_client.h"

#include <httplib.h>

#include "base/error.h"

namespace owl::store {

namespace {

constexpr size_t kMaxText = size_t{64} << 20;

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

}  // namespace

struct HttpClient::Impl {
  Impl(std::string base, HttpHeaders h) : base_url(std::move(base)), url(split_url(base_url)), client(url.origin), headers(std::move(h)) {
    configure(client);
  }
  static void configure(httplib::Client& c) {
    c.set_follow_location(false);  // redirects are followed below, the token kept to its own server
    c.set_connection_timeout(30);
    c.set_read_timeout(120);
  }

  // Runs get(client, path, headers) and follows up to 5 redirects itself: within this server with
  // every header, to another origin (the Hub's file storage, a signed URL) without the headers
  // given for this server — its token is not sent elsewhere, as huggingface_hub does. `get` returns
  // the status and the Location of a redirect.
  struct Answer {
    httplib::Result result;
    int status = 0;
    std::string location;
  };
  template <class Get>
  Answer follow(const std::string& path, const HttpHeaders& extra, const std::string& shown, Get&& get) {
    httplib::Client* c = &client;
    std::unique_ptr<httplib::Client> elsewhere;
    std::string at = url.path + path;
    bool home = true;
    for (int hop = 0;; ++hop) {
      httplib::Headers h;
      if (home) h = with(extra);
      else for (const auto& [k, v] : extra) h.emplace(k, v);
      Answer a = get(*c, at, h);
      if (a.status < 300 || a.status >= 400 || a.location.empty()) return a;
      if (hop == 5) fail("{}: more than 5 redirects", shown);
      if (a.location.front() == '/') {
        at = a.location;
      } else {
        const Url next = split_url(a.location);  // https only (or loopback), as for the server itself
        at = next.path.empty() ? "/" : a.location.substr(next.origin.size());
        if (next.origin != url.origin) {
          elsewhere = std::make_unique<httplib::Client>(next.origin);
          configure(*elsewhere);
          c = elsewhere.get();
          home = false;
        } else {
          c = &client;
          home = true;
        }
      }
    }
  }
  httplib::Headers with(const HttpHeaders& extra) const {
    httplib::Headers h;
    for (const auto& [k, v] : headers) h.emplace(k, v);
    for (const auto& [k, v] : extra) h.emplace(k, v);
    return h;
  }
  std::string base_url;
  Url url;
  httplib::Client client;
  HttpHeaders headers;
};

HttpClient::HttpClient(const std::string& base_url, HttpHeaders headers)
    : impl_(std::make_unique<Impl>(base_url, std::move(headers))) {}
HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient> HttpClient::another() const { return std::make_unique<HttpClient>(impl_->base_url, impl_->headers); }

std::string HttpClient::where(const std::string& path) const { return impl_->url.origin + impl_->url.path + path; }

std::string HttpClient::get_text(const std::string& path, const HttpHeaders& extra) {
  const Impl::Answer a = impl_->follow(path, extra, where(path), [](httplib::Client& c, const std::string& at, const httplib::Headers& h) {
    httplib::Result result = c.Get(at, h);
    const int status = result ? result->status : 0;
    std::string location = result ? result->get_header_value("Location") : "";
    return Impl::Answer{std::move(result), status, std::move(location)};
  });
  const httplib::Result& r = a.result;
  if (!r) fail("{}: {}", where(path), httplib::to_string(r.error()));
  if (r->status == 401 || r->status == 403) {
    fail("{}: access denied (HTTP {}; a gated repository needs HF_TOKEN or --token, with its terms accepted)", where(path),
         r->status);
  }
  if (r->status == 404) fail("{}: not found (HTTP 404)", where(path));
  if (r->status != 200) fail("{}: HTTP {}", where(path), r->status);
  if (r->body.size() > kMaxText) fail("{}: a listing of {} bytes", where(path), r->body.size());
  return r->body;
}

HttpClient::Streamed HttpClient::get_bytes(const std::string& path, uint64_t begin, uint64_t end,
                                           const std::function<bool(int, const char*, size_t)>& on_data) {
  HttpHeaders range;
  if (begin > 0 || end > 0) {
    range.emplace_back("Range", "bytes=" + std::to_string(begin) + "-" + (end > 0 ? std::to_string(end - 1) : ""));
  }
  Streamed s;
  bool stopped = false;
  const Impl::Answer a = impl_->follow(path, range, where(path), [&](httplib::Client& c, const std::string& at, const httplib::Headers& h) {
    int status = 0;
    std::string location;
    httplib::Result result = c.Get(
        at, h,
        [&](const httplib::Response& resp) {
          status = s.status = resp.status;
          if (resp.status >= 300 && resp.status < 400) location = resp.get_header_value("Location");
          return resp.status == 200 || resp.status == 206;
        },
        [&](const char* data, size_t n) {
          if (!on_data(s.status, data, n)) stopped = true;
          return !stopped;
        });
    return Impl::Answer{std::move(result), status, location};
  });
  const httplib::Result& r = a.result;
  if (!r && !stopped && (s.status == 0 || s.status == 200 || s.status == 206)) s.dropped = true;
  if (r) s.status = r->status;
  return s;
}

}  // namespace owl::store
