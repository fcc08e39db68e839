// owl show and owl ps on a stored model that carries Ollama's extra layers (template, parameters,
// system prompt, license): show prints what info and check say plus those layers (or one of them
// alone), the server's /api/show returns them in Ollama's shapes, and ps lists what a running
// server has loaded.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "fake_hub.h"
#include "run_owl.h"
#include "store_server.h"
#include "store/pull.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kParams = R"({"stop":["<|end|>","User:"],"temperature":0.7})";

struct ShowTest : ::testing::Test {
  FakeHub hub;
  fs::path home = scratch_path("show-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  owl::store::ModelStore store{home};
  std::string env = "OWL_HOME=" + home.string() + " OLLAMA_MODELS=" + (home / "none").string() + " HF_HUB_CACHE=" + (home / "none").string();

  ShowTest() {
    hub.add_registry_model("library/owl-stories:latest", kStoriesModel,
                           {{"params", kParams}, {"system", "You are Owl."}, {"license", "The owl-stories license text."}});
    owl::store::PullOptions o;
    o.registry = hub.url();
    owl::store::pull(store, "owl-stories", o);
  }
};

TEST_F(ShowTest, ShowPrintsTheModelItsCheckAndItsLayers) {
  const OwlResult all = run_owl_env(env, "show owl-stories");
  ASSERT_EQ(all.status, 0) << all.err;
  for (const char* part : {"model:           owl-stories:latest", "store:           owl (id ", "architecture:    llama",
                           "context length:", "license", "fit", "chat template:\n", "Ollama's template", "{{ .Prompt }}",
                           "parameters:\n" R"({"stop")", "system:\nYou are Owl.", "license:\nThe owl-stories license text."}) {
    EXPECT_NE(all.out.find(part), std::string::npos) << part << "\n" << all.out;
  }
  EXPECT_EQ(run_owl_env(env, "show owl-stories --parameters").out, kParams + "\n");
  EXPECT_EQ(run_owl_env(env, "show owl-stories --system").out, "You are Owl.\n");
  EXPECT_EQ(run_owl_env(env, "show owl-stories --license").out, "The owl-stories license text.\n");
  const OwlResult tmpl = run_owl_env(env, "show owl-stories --template");
  ASSERT_EQ(tmpl.status, 0) << tmpl.err;
  EXPECT_NE(all.out.find("chat template:\n" + tmpl.out), std::string::npos);
  // A path works too (no store lines); an unknown name says how to get it.
  const OwlResult file = run_owl_env(env, "show " + kStoriesModel);
  EXPECT_EQ(file.status, 0) << file.err;
  EXPECT_EQ(file.out.find("store:"), std::string::npos);
  const OwlResult missing = run_owl_env(env, "show nothing-here");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("owl pull nothing-here"), std::string::npos) << missing.err;
}

TEST_F(ShowTest, TheServerShowsTheLayersAndPsListsWhatItLoaded) {
  ::setenv("OLLAMA_MODELS", (home / "none").c_str(), 1);
  ::setenv("HF_HUB_CACHE", (home / "none").c_str(), 1);
  StoreServer server([&](owl::server::ModelPool& pool) { pool.serve_store(owl::store::ModelStore(home)); });
  httplib::Client c = server.client();
  const int port = server.port();
  const std::string host = " --host 127.0.0.1:" + std::to_string(port);

  const auto show = c.Post("/api/show", Json{{"model", "owl-stories"}}.dump(), "application/json");
  ASSERT_EQ(show->status, 200) << show->body;
  const Json s = Json::parse(show->body);
  EXPECT_NE(s.at("parameters").get<std::string>().find("temperature"), std::string::npos) << s.at("parameters");
  EXPECT_NE(s.at("parameters").get<std::string>().find(R"("User:")"), std::string::npos) << s.at("parameters");
  EXPECT_EQ(s.at("system"), "You are Owl.");
  EXPECT_EQ(s.at("license"), "The owl-stories license text.");

  const OwlResult none = run_owl_env(env, "ps" + host);
  ASSERT_EQ(none.status, 0) << none.err;
  EXPECT_EQ(none.out.find("owl-stories"), std::string::npos) << none.out;
  const auto load = c.Post("/api/generate", Json{{"model", "owl-stories"}, {"keep_alive", "10m"}}.dump(), "application/json");
  ASSERT_EQ(load->status, 200) << load->body;
  const OwlResult loaded = run_owl_env(env, "ps" + host);
  EXPECT_NE(loaded.out.find("owl-stories:latest"), std::string::npos) << loaded.out;
  EXPECT_NE(loaded.out.find("in 9 minutes"), std::string::npos) << loaded.out;
  const Json listed = Json::parse(run_owl_env(env, "ps --json" + host).out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed.at(0).at("context_length"), 128);
  server.stop();
  const OwlResult gone = run_owl_env(env, "ps" + host);
  EXPECT_EQ(gone.status, 1);
  EXPECT_NE(gone.err.find("no owl serve at http://127.0.0.1:" + std::to_string(port)), std::string::npos) << gone.err;
}

}  // namespace

namespace {

// Ollama's ADAPTER: a stored model's adapter layer (a llama.cpp GGUF LoRA) is applied when it runs.
TEST(StoredAdapter, IsAppliedWhenTheNameRuns) {
  const fs::path data = scratch_path("adapter-data.jsonl");
  {
    std::ofstream out(data);
    for (int i = 0; i < 64; ++i) out << Json{{"text", "Once upon a time, there was a little bird named Zig " + std::to_string(i % 7) + "."}}.dump() << "\n";
  }
  const fs::path adapter = scratch_path("stored-adapter");
  const OwlResult tune = run_owl("finetune " + kStoriesModel + " --data " + data.string() + " -o " + adapter.string() +
                                 " --format gguf --iters 30 --batch-size 8 --lr 1e-2 --seed 1 -t 2");
  ASSERT_EQ(tune.status, 0) << tune.err;
  FakeHub hub;
  hub.add_registry_model("library/zig:latest", kStoriesModel, {{"adapter", read_file(adapter / "adapter.gguf")}});
  const fs::path home = scratch_path("stored-adapter-store");
  owl::store::ModelStore store(home);
  owl::store::PullOptions o;
  o.registry = hub.url();
  owl::store::pull(store, "zig", o);
  const std::string args = " -p 'Once upon a time, there was a little bird named' -n 12 --temp 0 -t 1";
  const std::string env = "OWL_HOME=" + home.string() + " OLLAMA_MODELS=/nonexistent HF_HUB_CACHE=/nonexistent";
  const OwlResult by_name = run_owl_env(env, "run zig" + args);
  const OwlResult with_lora = run_owl("run " + kStoriesModel + " --lora " + (adapter / "adapter.gguf").string() + args);
  const OwlResult base = run_owl("run " + kStoriesModel + args);
  ASSERT_EQ(by_name.status, 0) << by_name.err;
  EXPECT_EQ(by_name.out, with_lora.out);
  EXPECT_NE(with_lora.out, base.out) << "the adapter changed nothing; the test would not see it missing";

  // owl serve over the store applies it too.
  ::setenv("OLLAMA_MODELS", "/nonexistent", 1);
  ::setenv("HF_HUB_CACHE", "/nonexistent", 1);
  StoreServer server([&](owl::server::ModelPool& pool) { pool.serve_store(owl::store::ModelStore(home)); });
  httplib::Client c = server.client();
  const Json request = {{"model", "zig"}, {"prompt", "Once upon a time, there was a little bird named"}, {"raw", true},
                        {"stream", false}, {"options", {{"temperature", 0}, {"num_predict", 12}}}};
  const auto served = c.Post("/api/generate", request.dump(), "application/json");
  server.stop();
  ASSERT_EQ(served->status, 200) << served->body;
  const OwlResult text_only = run_owl_env(env, "run zig --no-prompt" + args);
  EXPECT_EQ(Json::parse(served->body).at("response").get<std::string>() + "\n", text_only.out);
}

}  // namespace
