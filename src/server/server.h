// `owl serve`: one HTTP server that speaks the OpenAI API (/v1/...), Ollama's API (/api/...) and
// llama-server's operations routes (/health, /metrics, /tokenize, /detokenize) over the models of a
// ModelPool. Safe by default: loopback only, DNS-rebinding protection, optional API key, CORS off.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/model_pool.h"

namespace httplib {
class Server;
}

namespace owl::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 11435;  // 0: any free port
  std::string api_key;  // empty: none required
  std::vector<std::string> cors_origins;  // "*" allows any origin
  size_t max_body_bytes = 8u << 20;
  int http_threads = 0;  // 0: enough for every slot and queued request plus a few
  int max_choices = 8;   // the largest n a request may ask for
  bool webui = true;     // the chat page at / (else / answers "owl is running", as Ollama's)
};

// What every route reads.
struct ServerContext {
  ModelPool& pool;
  const ServerOptions& options;
  std::chrono::system_clock::time_point started;
};

class Server {
 public:
  Server(ModelPool& pool, ServerOptions options);
  ~Server();

  // Binds (owl::Error when the address is taken or invalid); returns the port.
  int bind();
  // Serves until stop(); returns false when listening failed.
  bool listen();
  void stop();

 private:
  void install_security();
  ModelPool& pool_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<ServerContext> context_;
};

// Whether host (a Host header's name, without the port) is a loopback name or address.
bool is_loopback_host(const std::string& host);

}  // namespace owl::server
