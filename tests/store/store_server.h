// owl serve in process on a free loopback port, for the store's tests: a pool (context 128, one
// thread unless asked) that `fill` gives its models — the whole store, or one stored model.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "server/server.h"

class StoreServer {
 public:
  explicit StoreServer(const std::function<void(owl::server::ModelPool&)>& fill, int64_t n_ctx = 128, int threads = 1) {
    owl::server::ModelPoolOptions po;
    po.scheduler.n_ctx = n_ctx;
    po.scheduler.threads = threads;
    pool_ = std::make_unique<owl::server::ModelPool>(po);
    fill(*pool_);
    owl::server::ServerOptions so;
    so.port = 0;
    server_ = std::make_unique<owl::server::Server>(*pool_, so);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->listen(); });
  }
  ~StoreServer() { stop(); }
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  int port() const { return port_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }
  void stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }

 private:
  std::unique_ptr<owl::server::ModelPool> pool_;
  std::unique_ptr<owl::server::Server> server_;
  int port_ = 0;
  std::thread thread_;
};
