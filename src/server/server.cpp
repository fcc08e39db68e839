// The HTTP server: security checks before any route (Host, API key, CORS), the routes, and JSON
// errors for whatever httplib answers by itself (404, 413).
#include "server/server.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

#include "server/respond.h"
#include "server/routes.h"

namespace owl::server {

bool is_loopback_host(const std::string& host) {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  if (h == "localhost" || h.ends_with(".localhost") || h == "::1") return true;
  in_addr a{};
  if (inet_pton(AF_INET, h.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

namespace {
// The name of a Host header, without its port.
std::string host_name(const std::string& header) {
  if (!header.empty() && header.front() == '[') {
    const size_t end = header.find(']');
    return end == std::string::npos ? header : header.substr(0, end + 1);
  }
  const size_t colon = header.rfind(':');
  return colon == std::string::npos ? header : header.substr(0, colon);
}

// Equal strings in time that does not depend on where they differ.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

Dialect dialect_of(const std::string& path) { return path.starts_with("/api/") ? Dialect::ollama : Dialect::openai; }

// cpp-httplib 0.11 listens with a backlog of 5, so a burst of clients overflows the accept queue
// and some of them see their connection dropped; Linux lets a second listen() raise it.
class HttpServer : public httplib::Server {
 public:
  void widen_backlog() { ::listen(svr_sock_, SOMAXCONN); }
};
}  // namespace

Server::Server(ModelPool& pool, ServerOptions options)
    : pool_(pool), options_(std::move(options)), http_(std::make_unique<HttpServer>()) {
  context_ = std::make_unique<ServerContext>(ServerContext{pool_, options_, std::chrono::system_clock::now()});
  int threads = options_.http_threads;
  if (threads <= 0) threads = 96;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(30);
  http_->set_write_timeout(30);
  http_->set_keep_alive_timeout(5);
  install_security();
  add_openai_routes(*http_, *context_);
  add_ollama_routes(*http_, *context_);
  add_ops_routes(*http_, *context_);
  add_store_routes(*http_, *context_);
  add_webui_routes(*http_, *context_);
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string what = res.status == 404   ? fmt::format("no route {} {}", req.method, req.path)
                             : res.status == 413 ? "the request body is too large"
                                                 : fmt::format("HTTP {}", res.status);
    send_error(res, HttpError(res.status, what), dialect_of(req.path));
  });
  http_->set_exception_handler([](const httplib::Request& req, httplib::Response& res, const std::exception_ptr&) {
    send_error(res, HttpError(500, "internal error"), dialect_of(req.path));
  });
}

Server::~Server() = default;

void Server::install_security() {
  const bool loopback = is_loopback_host(options_.host);
  http_->set_pre_routing_handler([this, loopback](const httplib::Request& req, httplib::Response& res) {
    const Dialect dialect = dialect_of(req.path);
    // CORS: only the listed origins are told they may read replies.
    const std::string origin = req.get_header_value("Origin");
    const bool allowed = !origin.empty() && std::any_of(options_.cors_origins.begin(), options_.cors_origins.end(),
                                                        [&](const std::string& o) { return o == "*" || o == origin; });
    if (allowed) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
    }
    if (req.method == "OPTIONS") {
      if (allowed) {
        res.set_header("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.set_header("Access-Control-Max-Age", "600");
      }
      res.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    }
    // DNS rebinding: a page from another site that resolves its own name to 127.0.0.1 sends its
    // own Host header; a loopback server only answers to loopback names.
    if (loopback && !is_loopback_host(host_name(req.get_header_value("Host")))) {
      send_error(res, HttpError(403, "this server answers only to localhost names (Host header refused)"), dialect);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!options_.api_key.empty() && req.path != "/health" && !(options_.webui && is_webui_path(req.path))) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string expected = "Bearer " + options_.api_key;
      if (!same_secret(auth, expected)) {
        send_error(res, HttpError(401, "a valid API key is required (Authorization: Bearer KEY)", "", "invalid_api_key"),
                   dialect);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

int Server::bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
    if (port <= 0) fail("cannot listen on {}: no free port", options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    fail("cannot listen on {}:{} (address in use or invalid)", options_.host, port);
  }
  static_cast<HttpServer&>(*http_).widen_backlog();
  return port;
}

bool Server::listen() { return http_->listen_after_bind(); }

void Server::stop() { http_->stop(); }

}  // namespace owl::server
