// owl serve's HTTP layer in process, on a real loopback socket: hundreds of hostile requests get
// a 4xx and the server keeps serving with flat memory; a client that disconnects frees its slot;
// a bounded soak of 64 concurrent clients sees no failed request.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <random>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/model_fixtures.h"
#include "server/http_error.h"
#include "server/server.h"
#include "tools/check/fit.h"

namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

class LiveServer {
 public:
  explicit LiveServer(const std::string& model, int parallel = 4, bool webui = true) {
    owl::server::ModelPoolOptions po;
    po.scheduler.n_parallel = parallel;
    po.scheduler.n_ctx = 256;
    po.scheduler.threads = 2;
    po.scheduler.max_queue = 64;
    pool_ = std::make_unique<owl::server::ModelPool>(po);
    pool_->add_file(model);
    owl::server::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.http_threads = 96;
    so.max_body_bytes = 1 << 20;
    so.webui = webui;
    server_ = std::make_unique<owl::server::Server>(*pool_, so);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->listen(); });
  }
  ~LiveServer() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  owl::server::ModelPool& pool() { return *pool_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }

 private:
  std::unique_ptr<owl::server::ModelPool> pool_;
  std::unique_ptr<owl::server::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

const Json kChat = {{"model", "stories260K-q8_0"},
                    {"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
                    {"max_tokens", 4},
                    {"temperature", 0}};

// Bodies that must each be refused with a 4xx.
std::vector<std::pair<std::string, std::string>> hostile_requests() {
  std::vector<std::pair<std::string, std::string>> out;  // (path, body)
  const std::string good = kChat.dump();
  for (size_t cut = 0; cut + 1 < good.size(); cut += 3) out.emplace_back("/v1/chat/completions", good.substr(0, cut));
  const Json wrong_values[] = {"x", -1, -1e300, 1e300, 3.5, Json::array({1}), Json::object({{"a", 1}}), true,
                               int64_t{1} << 40, -(int64_t{1} << 40)};
  const char* fields[] = {"messages", "max_tokens", "temperature", "top_p", "n", "seed", "stop", "logit_bias",
                          "top_logprobs", "presence_penalty", "frequency_penalty", "stream", "model"};
  for (const char* f : fields) {
    for (const Json& v : wrong_values) {
      Json j = kChat;
      j[f] = v;
      const bool valid = (std::string(f) == "seed" && v.is_number_integer()) ||
                         (std::string(f) == "max_tokens" && v.is_number_integer() && v.get<int64_t>() > 0 &&
                          v.get<int64_t>() < (1 << 30)) ||
                         (std::string(f) == "stop" && v.is_string()) || (std::string(f) == "stream" && v.is_boolean()) ||
                         (std::string(f) == "n" && v == Json(true)) ||
                         (std::string(f).ends_with("_penalty") && v == Json(-1));
      if (valid || (std::string(f) == "temperature" && v == Json(true))) continue;
      out.emplace_back("/v1/chat/completions", j.dump());
    }
  }
  // Ollama options of the wrong type or out of range.
  for (const char* opt : {"temperature", "num_predict", "top_k", "top_p", "seed", "stop", "repeat_last_n"}) {
    for (const Json& v : {Json("x"), Json(-1e300), Json::array({Json::object()}), Json(1e300)}) {
      if (std::string(opt) == "stop" && v.is_string()) continue;
      out.emplace_back("/api/generate",
                       Json{{"model", "stories260K-q8_0"}, {"prompt", "hi"}, {"stream", false}, {"options", {{opt, v}}}}.dump());
    }
  }
  std::string deep(5000, '[');
  out.emplace_back("/v1/chat/completions", deep);
  out.emplace_back("/v1/chat/completions", "{\"model\": " + std::string(200, '[') + std::string(200, ']') + "}");
  out.emplace_back("/v1/chat/completions", std::string("\xff\xfe\x00garbage", 10));
  out.emplace_back("/v1/chat/completions", "[]");
  out.emplace_back("/v1/chat/completions", "null");
  out.emplace_back("/v1/chat/completions", Json{{"model", "stories260K-q8_0"}, {"messages", Json::array()}}.dump());
  out.emplace_back("/v1/chat/completions", Json{{"model", "stories260K-q8_0"}, {"messages", {{{"role", 5}}}}}.dump());
  out.emplace_back("/v1/completions", Json{{"model", "stories260K-q8_0"}, {"prompt", {1, -5, 3}}}.dump());
  out.emplace_back("/v1/completions", Json{{"model", "stories260K-q8_0"}, {"prompt", {1, 99999999}}}.dump());
  out.emplace_back("/v1/completions", Json{{"model", "stories260K-q8_0"}, {"prompt", std::vector<int>(300, 5)}}.dump());
  out.emplace_back("/v1/embeddings", Json{{"model", "stories260K-q8_0"}, {"input", Json::array()}}.dump());
  out.emplace_back("/v1/embeddings", Json{{"model", "stories260K-q8_0"}, {"input", {{1, 2}, "x", 5}}}.dump());
  out.emplace_back("/v1/embeddings", Json{{"model", "stories260K-q8_0"}, {"input", "x"}, {"encoding_format", "hex"}}.dump());
  out.emplace_back("/api/generate", Json{{"model", "stories260K-q8_0"}, {"prompt", "x"}, {"keep_alive", "5 parsecs"}}.dump());
  out.emplace_back("/api/generate", Json{{"model", "stories260K-q8_0"}, {"prompt", "x"}, {"context", {-1}}}.dump());
  out.emplace_back("/api/chat", Json{{"model", "stories260K-q8_0"}, {"messages", "x"}}.dump());
  out.emplace_back("/api/embed", Json{{"model", "stories260K-q8_0"}, {"input", 7}}.dump());
  out.emplace_back("/tokenize", Json{{"content", 7}}.dump());
  out.emplace_back("/detokenize", Json{{"tokens", {1, "x"}}}.dump());
  out.emplace_back("/v1/chat/completions", std::string(2 << 20, ' '));  // over the 1 MiB body limit
  out.emplace_back("/v1/nothing-here", "{}");
  return out;
}

std::string fixture_model(const std::filesystem::path& fixtures) {
  const auto src = stories260k_gguf(fixtures, owl::DType::q8_0);
  return src.string();
}

TEST(ServerHostile, EveryMalformedRequestIsA4xxAndTheServerKeepsServing) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  LiveServer srv(fixture_model(fixtures));
  httplib::Client c = srv.client();
  const auto requests = hostile_requests();
  ASSERT_GT(requests.size(), 200u);
  uint64_t rss_after_first = 0;
  for (int round = 0; round < 3; ++round) {
    for (const auto& [path, body] : requests) {
      const auto res = c.Post(path, body, "application/json");
      ASSERT_TRUE(res) << path << " " << body.substr(0, 80) << ": no answer (" << httplib::to_string(res.error()) << ")";
      EXPECT_GE(res->status, 400) << path << " " << body.substr(0, 120) << " -> " << res->body;
      EXPECT_LT(res->status, 500) << path << " " << body.substr(0, 120) << " -> " << res->body;
      if (res->status != 413 && res->status != 404) {
        const Json err = Json::parse(res->body, nullptr, false);
        EXPECT_TRUE(err.is_object() && err.contains("error")) << res->body;
      }
    }
    const auto ok = c.Post("/v1/chat/completions", kChat.dump(), "application/json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << ok->body;
    if (round == 0) rss_after_first = owl::check::process_rss_bytes();
  }
  // The same requests twice more: memory stays where the first round left it.
  const uint64_t rss = owl::check::process_rss_bytes();
  EXPECT_LT(rss, rss_after_first + (16u << 20)) << "RSS grew from " << rss_after_first << " to " << rss;
  // No refused request kept the model held: its keep-alive runs.
  const auto resident = srv.pool().resident();
  ASSERT_EQ(resident.size(), 1u);
  EXPECT_TRUE(srv.pool().expires_at(*resident[0]).has_value());
}

TEST(ServerHostile, ADisconnectedStreamFreesItsSlot) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  LiveServer srv(fixture_model(fixtures), 1);
  httplib::Client c = srv.client();
  Json req = kChat;
  req["max_tokens"] = 100000;  // until the context is full
  req["stream"] = true;
  int chunks = 0;
  httplib::Request r;
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.body = req.dump();
  r.set_header("Content-Type", "application/json");
  r.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };  // hang up after 3
  const auto res = c.send(r);
  EXPECT_FALSE(res);
  // The slot is free again: a second request on the only slot completes.
  const auto after = srv.client().Post("/v1/chat/completions", kChat.dump(), "application/json");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  const auto models = srv.pool().resident();
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]->scheduler->metrics().running, 0);
}

TEST(ServerWebUi, ThePageIsServedWithItsPolicyUnlessTurnedOff) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  {
    LiveServer srv(fixture_model(fixtures));
    const auto page = srv.client().Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_NE(page->body.find("<html"), std::string::npos);
    EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
    const auto script = srv.client().Get("/ui/app.js");
    ASSERT_TRUE(script);
    EXPECT_EQ(script->status, 200);
    EXPECT_GT(script->body.size(), 1000u);
  }
  LiveServer plain(fixture_model(fixtures), 1, false);
  const auto root = plain.client().Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->body, "owl is running");
  const auto script = plain.client().Get("/ui/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 404);
}

TEST(ServerShutdown, StoppingCancelsRunningStreamsAndRefusesNewRequests) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  owl::server::ModelPoolOptions po;
  po.scheduler.n_ctx = 8192;  // seconds of generation: still running when the stop comes
  po.scheduler.threads = 1;
  owl::server::ModelPool pool(po);
  pool.add_file(fixture_model(fixtures));
  auto r = pool.acquire(pool.available()[0].name);
  owl::CompletionRequest req;
  req.prompt = r->model->encode_prompt("Once upon a time");
  req.stop_at_end = false;  // would run until the context is full
  auto job = r->scheduler->submit(req);
  owl::JobEvent ev;
  ASSERT_TRUE(job->next(ev, 60s));
  pool.shutdown();
  while (job->next(ev, 60s) && ev.kind != owl::JobEvent::Kind::done) {
  }
  EXPECT_EQ(ev.kind, owl::JobEvent::Kind::done);
  EXPECT_EQ(ev.finish, owl::FinishReason::cancelled);
  pool.release(r);
  EXPECT_THROW(pool.acquire(pool.available()[0].name), owl::server::HttpError);
}

TEST(ServerModels, AFolderOfModelsLoadsOnUseAndKeepsAtMostMaxModels) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto folder = scratch_path("served-models");
  std::filesystem::create_directories(folder);
  std::filesystem::copy_file(stories260k_gguf(fixtures, owl::DType::q8_0), folder / "first.gguf",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(stories260k_gguf(fixtures, owl::DType::f32), folder / "second.gguf",
                             std::filesystem::copy_options::overwrite_existing);
  write_file(folder / "broken.gguf", "not a GGUF file");  // skipped with a warning
  owl::server::ModelPoolOptions po;
  po.scheduler.n_ctx = 128;
  po.scheduler.threads = 1;
  po.max_models = 1;
  owl::server::ModelPool pool(po);
  pool.add_dir(folder.string());
  ASSERT_EQ(pool.available().size(), 2u);
  EXPECT_THROW(pool.add_file((folder / "broken.gguf").string()), owl::Error);
  EXPECT_TRUE(pool.resident().empty());  // nothing loads before it is asked for
  auto a = pool.acquire("first");
  pool.release(a);
  a.reset();
  auto b = pool.acquire("second:latest");
  EXPECT_EQ(b->entry.name, "second");
  pool.release(b);
  b.reset();
  ASSERT_EQ(pool.resident().size(), 1u);
  EXPECT_EQ(pool.resident()[0]->entry.name, "second");
  EXPECT_THROW(pool.acquire("third"), owl::server::HttpError);
  // Overlapping requests: the model stays while either runs; the latest one's keep_alive (0) then
  // unloads it as soon as it is idle.
  auto forever = pool.acquire("second", std::chrono::seconds(-1));
  auto now = pool.acquire("second", std::chrono::seconds(0));
  pool.release(forever);
  EXPECT_FALSE(pool.expires_at(*now).has_value());  // still in use
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(pool.resident().size(), 1u);
  pool.release(now);
  forever.reset();
  now.reset();
  for (int i = 0; i < 40 && !pool.resident().empty(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(pool.resident().empty());
  pool.unload("first");  // not resident: nothing is loaded to be unloaded
  EXPECT_TRUE(pool.resident().empty());
}

TEST(ServerModels, AModelThatWouldNotFitIsNeverLoaded) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  owl::server::ModelPoolOptions po;
  po.scheduler.n_ctx = 1 << 24;  // 256 slots of 16M positions: petabytes of KV cache
  po.scheduler.n_parallel = 256;
  owl::server::ModelPool pool(po);
  pool.add_file(stories260k_gguf(fixtures, owl::DType::q8_0).string());
  try {
    pool.acquire(pool.available()[0].name);
    FAIL() << "loaded a model predicted not to fit";
  } catch (const owl::server::HttpError& e) {
    EXPECT_EQ(e.status(), 500);
    EXPECT_NE(std::string(e.what()).find("needs about"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(pool.resident().empty());
}

TEST(ServerSoak, SixtyFourConcurrentClientsAndNoFailedRequest) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  LiveServer srv(fixture_model(fixtures));
  constexpr int kClients = 64;
  constexpr int kRequestsEach = 4;
  std::atomic<int> ok{0}, failed{0};
  std::mutex log_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client c = srv.client();
      for (int r = 0; r < kRequestsEach && std::chrono::steady_clock::now() < deadline; ++r) {
        Json req = kChat;
        req["seed"] = i * 10 + r;
        req["temperature"] = 0.7;
        const bool stream = (i + r) % 2 == 1;
        req["stream"] = stream;
        const auto res = c.Post(i % 3 == 0 ? "/api/chat" : "/v1/chat/completions", req.dump(), "application/json");
        const bool good = res && res->status == 200 &&
                          (stream ? res->body.find("\"done\":true") != std::string::npos ||
                                        res->body.find("[DONE]") != std::string::npos
                                  : !res->body.empty());
        (good ? ok : failed)++;
        if (!good) {
          std::lock_guard lock(log_mutex);
          if (failures.size() < 5) {
            failures.push_back(fmt::format("client {} request {} stream {}: ", i, r, stream) +
                               (res ? fmt::format("{} {}", res->status, res->body.substr(0, 200)) : httplib::to_string(res.error())));
          }
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0) << fmt::format("{}", fmt::join(failures, "\n"));
  EXPECT_EQ(ok.load(), kClients * kRequestsEach);
}

}  // namespace
