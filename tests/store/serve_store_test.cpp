// owl serve over the store, in process on a loopback port, with FakeHub as the registry: Ollama's
// /api/pull streams its progress as NDJSON and the pulled model is then listed (/api/tags,
// /v1/models), answers a chat and can be copied and deleted (/api/copy, /api/delete); bad names
// and unknown models get 4xx answers or an error line, and the server keeps serving.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "fake_hub.h"
#include "store_server.h"
#include "store/catalog.h"
#include "store/pull.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;


struct ServeStoreTest : ::testing::Test {
  FakeHub hub;
  fs::path home = scratch_path("serve-store-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  bool environment_set = [this] {
    ::setenv("OWL_REGISTRY", hub.url().c_str(), 1);
    ::setenv("OLLAMA_MODELS", (home / "no-ollama").c_str(), 1);  // this machine's other stores stay out
    ::setenv("HF_HUB_CACHE", (home / "no-hf").c_str(), 1);
    hub.add_registry_model("library/owl-stories:latest", kStoriesModel);
    return true;
  }();
  StoreServer server{[this](owl::server::ModelPool& pool) { pool.serve_store(owl::store::ModelStore(home)); }, 256, 2};

  httplib::Client client() const { return server.client(); }
  std::vector<std::string> tags() {
    const auto r = client().Get("/api/tags");
    const Json body = Json::parse(r->body);
    std::vector<std::string> names;
    for (const Json& m : body.at("models")) names.push_back(m.at("name").get<std::string>());
    return names;
  }
};

std::vector<Json> ndjson(const std::string& body) {
  std::vector<Json> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
  return out;
}

TEST_F(ServeStoreTest, PullStreamsProgressThenTheModelServesUnderItsName) {
  EXPECT_TRUE(tags().empty());
  const auto r = client().Post("/api/pull", Json{{"model", "owl-stories"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
  const std::vector<Json> lines = ndjson(r->body);
  ASSERT_GE(lines.size(), 5u) << r->body;
  EXPECT_EQ(lines.front(), (Json{{"status", "pulling manifest"}}));
  const std::string digest = sha256_of(kStoriesModel);
  const std::string pulling = "pulling " + digest.substr(7, 12);
  uint64_t last = 0;
  bool model_done = false;
  for (const Json& l : lines) {
    if (l.at("status") != pulling) continue;
    EXPECT_EQ(l.at("digest"), digest);
    EXPECT_EQ(l.at("total"), fs::file_size(kStoriesModel));
    EXPECT_GE(l.at("completed").get<uint64_t>(), last);  // never backwards
    last = l.at("completed").get<uint64_t>();
    model_done = model_done || last == fs::file_size(kStoriesModel);
  }
  EXPECT_TRUE(model_done) << r->body;
  EXPECT_NE(r->body.find(R"({"status":"verifying sha256 digest")"), std::string::npos);
  EXPECT_NE(r->body.find(R"({"status":"writing manifest"})"), std::string::npos);
  EXPECT_EQ(lines.back(), (Json{{"status", "success"}}));

  EXPECT_EQ(tags(), std::vector<std::string>{"owl-stories:latest"});
  const auto models = client().Get("/v1/models");
  EXPECT_EQ(Json::parse(models->body).at("data").at(0).at("id"), "owl-stories:latest");
  const Json chat = {{"model", "owl-stories"}, {"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
                     {"stream", false}, {"options", {{"temperature", 0}, {"num_predict", 8}}}};
  const auto answer = client().Post("/api/chat", chat.dump(), "application/json");
  ASSERT_EQ(answer->status, 200) << answer->body;
  EXPECT_FALSE(Json::parse(answer->body).at("message").at("content").get<std::string>().empty());
  const auto show = client().Post("/api/show", Json{{"model", "owl-stories:latest"}}.dump(), "application/json");
  ASSERT_EQ(show->status, 200) << show->body;
  EXPECT_EQ(Json::parse(show->body).at("details").at("family"), "llama");

  // Copy, then delete both: the blob goes with the last name.
  const auto copy = client().Post("/api/copy", Json{{"source", "owl-stories"}, {"destination", "mine:v1"}}.dump(), "application/json");
  EXPECT_EQ(copy->status, 200) << copy->body;
  EXPECT_EQ(tags(), (std::vector<std::string>{"mine:v1", "owl-stories:latest"}));
  const auto del = client().Delete("/api/delete", Json{{"model", "owl-stories:latest"}}.dump(), "application/json");
  EXPECT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(tags(), std::vector<std::string>{"mine:v1"});
  EXPECT_EQ(client().Delete("/api/delete", Json{{"name", "mine:v1"}}.dump(), "application/json")->status, 200);
  EXPECT_TRUE(tags().empty());
  EXPECT_TRUE(fs::is_empty(home / "blobs"));
  EXPECT_EQ(client().Post("/api/chat", chat.dump(), "application/json")->status, 404);
}

TEST_F(ServeStoreTest, BadRequestsGetClearAnswersAndTheServerKeepsServing) {
  const auto post = [&](const std::string& path, const Json& body) { return client().Post(path, body.dump(), "application/json"); };
  EXPECT_EQ(post("/api/pull", Json::object())->status, 400);
  EXPECT_EQ(post("/api/pull", {{"model", "../../etc/passwd"}})->status, 400);
  // An unknown model: an error line in the stream, a 500 without one (as Ollama answers).
  const auto streamed = post("/api/pull", {{"model", "no-such-model"}});
  ASSERT_EQ(streamed->status, 200);
  const std::vector<Json> lines = ndjson(streamed->body);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().value("error", "").find("not found"), std::string::npos) << streamed->body;
  const auto whole = post("/api/pull", {{"model", "no-such-model"}, {"stream", false}});
  EXPECT_EQ(whole->status, 500);
  EXPECT_TRUE(Json::parse(whole->body).contains("error"));
  EXPECT_EQ(client().Delete("/api/delete", Json{{"model", "no-such-model"}}.dump(), "application/json")->status, 404);
  EXPECT_EQ(post("/api/copy", {{"source", "no-such-model"}, {"destination", "x"}})->status, 404);
  EXPECT_EQ(post("/api/copy", {{"source", "owl-stories"}})->status, 400);
  // A pull without streaming still works afterwards.
  const auto ok = post("/api/pull", {{"model", "owl-stories"}, {"stream", false}});
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(Json::parse(ok->body), (Json{{"status", "success"}}));
  EXPECT_EQ(tags(), std::vector<std::string>{"owl-stories:latest"});
}

}  // namespace

namespace {

// owl serve NAME: one stored model served by its name (every spelling of it), not the whole store.
TEST(ServeStoredName, AnswersToItsNameAndRefusesStoreRoutes) {
  FakeHub hub;
  hub.add_registry_model("library/owl-stories:latest", kStoriesModel);
  const fs::path home = scratch_path("serve-stored-name");
  ::setenv("OLLAMA_MODELS", (home / "no-ollama").c_str(), 1);
  ::setenv("HF_HUB_CACHE", (home / "no-hf").c_str(), 1);
  owl::store::ModelStore store(home);
  owl::store::PullOptions o;
  o.registry = hub.url();
  owl::store::pull(store, "owl-stories", o);
  StoreServer server([&](owl::server::ModelPool& pool) {
    pool.add_stored(*owl::store::find_stored_model(store, owl::store::parse_model_name("owl-stories")));
  });
  httplib::Client c = server.client();
  const Json tags = Json::parse(c.Get("/api/tags")->body);
  ASSERT_EQ(tags.at("models").size(), 1u);
  EXPECT_EQ(tags.at("models").at(0).at("name"), "owl-stories:latest");
  EXPECT_EQ(tags.at("models").at(0).at("digest").get<std::string>().size(), 64u);  // the manifest's sha256
  for (const char* name : {"owl-stories", "owl-stories:latest"}) {
    const Json generate = {{"model", name}, {"prompt", "Once"}, {"raw", true}, {"stream", false}, {"options", {{"num_predict", 2}}}};
    EXPECT_EQ(c.Post("/api/generate", generate.dump(), "application/json")->status, 200) << name;
  }
  EXPECT_EQ(c.Post("/api/pull", Json{{"model", "owl-stories"}}.dump(), "application/json")->status, 400);
}

}  // namespace
