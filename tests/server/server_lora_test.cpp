// owl serve --lora with per-request adapter scales (llama-server's "lora": [{"id", "scale"}]), in
// process on a real loopback socket with owl's own model and an adapter written here: a request's
// scale 0 gives the base model's text, its default the adapter's, requests with different scales
// batched together each get their own, cached prefixes are never shared across scales, GET
// /lora-adapters lists the adapter, and a bad id is a 400.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "models/lora_adapter.h"
#include "models/model.h"
#include "run_owl.h"
#include "server/server.h"

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;


// A random rank-4 adapter on every projection, large enough to change greedy text.
std::string write_random_adapter() {
  const std::string dir = scratch_path("server-lora-adapter").string();
  const auto model = owl::Model::load(kStoriesModel);
  owl::LoraAdapter a;
  a.alpha = 8.0f;
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (int64_t layer = 0; layer < model->spec().n_layer; ++layer) {
    for (owl::LoraTarget t : owl::kAllLoraTargets) {
      const owl::Weight& w = owl::lora_base_weight(*model, layer, t);
      owl::LoraModule m{layer, t, 4, w.cols, w.rows, {}, {}};
      m.a.resize(static_cast<size_t>(4 * w.cols));
      m.b.resize(static_cast<size_t>(w.rows * 4));
      for (float& v : m.a) v = normal(rng);
      for (float& v : m.b) v = normal(rng);
      a.modules.push_back(std::move(m));
    }
  }
  owl::write_peft_adapter(a, *model, dir);
  return dir;
}

class LoraServer {
 public:
  explicit LoraServer(const std::string& adapter) {
    owl::server::ModelPoolOptions po;
    po.scheduler.n_parallel = 3;
    po.scheduler.n_ctx = 128;
    po.scheduler.threads = 2;
    po.loras = {{adapter, 1.0f}};
    pool_ = std::make_unique<owl::server::ModelPool>(po);
    pool_->add_file(kStoriesModel);
    owl::server::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    server_ = std::make_unique<owl::server::Server>(*pool_, so);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->listen(); });
  }
  ~LoraServer() {
    server_->stop();
    thread_.join();
  }
  // The text of a greedy completion, or "" with the status when it failed.
  std::pair<int, std::string> complete(const std::string& prompt, const Json& lora) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    Json body = {{"prompt", prompt}, {"max_tokens", 12}, {"temperature", 0}};
    if (!lora.is_null()) body["lora"] = lora;
    const auto r = c.Post("/v1/completions", body.dump(), "application/json");
    if (!r) return {-1, ""};
    if (r->status != 200) return {r->status, r->body};
    return {200, Json::parse(r->body)["choices"][0]["text"].get<std::string>()};
  }
  Json get(const std::string& path) const {
    httplib::Client c("127.0.0.1", port_);
    const auto r = c.Get(path);
    return r && r->status == 200 ? Json::parse(r->body) : Json();
  }

 private:
  std::unique_ptr<owl::server::ModelPool> pool_;
  std::unique_ptr<owl::server::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

// owl run's greedy continuation, with or without the adapter: what the server must reproduce.
std::string cli_text(const std::string& prompt, const std::string& lora_args) {
  const OwlResult r = run_owl("run -m " + kStoriesModel + " -p \"" + prompt + "\" -n 12 --temp 0 --no-prompt -t 2 " + lora_args);
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out.ends_with('\n') ? r.out.substr(0, r.out.size() - 1) : r.out;  // owl run ends the text with a newline
}

TEST(ServerLora, PerRequestScalesMatchTheCommandLine) {
  const std::string adapter = write_random_adapter();
  const std::string prompt = "Once upon a time, there was a little fox named";
  const std::string base = cli_text(prompt, ""), tuned = cli_text(prompt, "--lora " + adapter);
  const std::string half = cli_text(prompt, "--lora " + adapter + " --lora-scale 0.5");
  ASSERT_NE(base, tuned) << "the adapter does not change the text: the test would prove nothing";
  LoraServer server(adapter);

  const Json listed = server.get("/lora-adapters");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["id"], 0);
  EXPECT_EQ(listed[0]["path"], adapter);

  EXPECT_EQ(server.complete(prompt, nullptr), std::pair(200, tuned));  // the load-time scale
  EXPECT_EQ(server.complete(prompt, Json::array({{{"id", 0}, {"scale", 0.0}}})), std::pair(200, base));
  EXPECT_EQ(server.complete(prompt, Json::array()), std::pair(200, base));  // adapters not listed are off
  EXPECT_EQ(server.complete(prompt, Json::array({{{"id", 0}, {"scale", 0.5}}})), std::pair(200, half));
  EXPECT_EQ(server.complete(prompt, nullptr), std::pair(200, tuned));  // no prefix computed at scale 0 reused

  // Three scales at once: each request in the same batches gets its own text.
  for (int round = 0; round < 2; ++round) {
    auto a = std::async(std::launch::async, [&] { return server.complete(prompt, nullptr); });
    auto b = std::async(std::launch::async, [&] { return server.complete(prompt, Json::array({{{"id", 0}, {"scale", 0}}})); });
    auto c = std::async(std::launch::async, [&] { return server.complete(prompt, Json::array({{{"id", 0}, {"scale", 0.5}}})); });
    EXPECT_EQ(a.get(), std::pair(200, tuned));
    EXPECT_EQ(b.get(), std::pair(200, base));
    EXPECT_EQ(c.get(), std::pair(200, half));
  }

  for (const Json& bad : {Json::array({{{"id", 1}, {"scale", 1}}}), Json::array({{{"id", 0}, {"scale", "x"}}}),
                          Json::array({{{"id", 0}}, {{"id", 0}}}), Json::array({5}), Json("x")}) {
    EXPECT_EQ(server.complete(prompt, bad).first, 400) << bad.dump();
  }
  EXPECT_EQ(server.complete(prompt, nullptr), std::pair(200, tuned));  // still serving
}

}  // namespace
