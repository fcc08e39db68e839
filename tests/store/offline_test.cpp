// The offline guarantee: no command but pull (and serve, on its own socket) opens a network
// connection. owl run, chat, check, show, convert and finetune run on a stored model twice — as usual,
// and in a network namespace where connecting is impossible (unshare -rn: not even loopback is up)
// — and must behave the same (same output, same files), while the registry and Hub they are
// pointed at count no request from any of them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fake_hub.h"
#include "run_owl.h"
#include "store/pull.h"

namespace {

namespace fs = std::filesystem;


bool can_unshare(const std::string& flags) { return std::system(("unshare " + flags + " true >/dev/null 2>&1").c_str()) == 0; }

// What owl check says that does not depend on this moment's memory.
nlohmann::json check_verdicts(const std::string& out) {
  const nlohmann::json j = nlohmann::json::parse(out);
  return {j.at("license"), j.at("ecosystem"), j.at("openness"), j.at("use")};
}

TEST(Offline, CommandsBehaveTheSameWithoutANetwork) {
  if (!can_unshare("-rn")) GTEST_SKIP() << "unshare -rn is not permitted here (no user namespaces)";
  FakeHub hub;
  hub.add_registry_model("library/owl-stories:latest", kStoriesModel);
  const fs::path home = scratch_path("offline-store");
  owl::store::ModelStore store(home);
  owl::store::PullOptions po;
  po.registry = hub.url();
  owl::store::pull(store, "owl-stories", po);
  const int requests_after_pull = hub.requests();

  const std::string env = "OWL_HOME=" + home.string() + " OWL_REGISTRY=" + hub.url() + " HF_ENDPOINT=" + hub.url() +
                          " HF_TOKEN=hf_x OLLAMA_MODELS=" + (home / "none").string() + " HF_HUB_CACHE=" + (home / "none").string();
  const fs::path data = scratch_path("offline-data.jsonl");
  {
    std::ofstream out(data);
    for (int i = 0; i < 16; ++i) out << nlohmann::json{{"text", "Once upon a time, Owl found a ball number " + std::to_string(i) + "."}}.dump() << "\n";
  }
  const fs::path turn = scratch_path("offline-turn.txt");
  write_file(turn, "Once upon a time\n");

  for (const char* wrapper : {"", "unshare -rn"}) {
    SCOPED_TRACE(*wrapper ? wrapper : "with a network");
    static OwlResult first_run, first_chat, first_show;
    static nlohmann::json first_check;
    static std::string first_weights, first_adapter;
    const bool online = *wrapper == '\0';
    const std::string tag = online ? "online" : "offline";

    const OwlResult run = run_owl_wrapped(env, wrapper, "run owl-stories -p 'Once upon a time' -n 16 --temp 0 -t 1");
    ASSERT_EQ(run.status, 0) << run.err;
    const OwlResult chat = run_owl_wrapped(env, wrapper, "chat owl-stories --temp 0 -n 12 -t 1", turn.string());
    ASSERT_EQ(chat.status, 0) << chat.err;
    const OwlResult check = run_owl_wrapped(env, wrapper, "check owl-stories --json");
    ASSERT_LE(check.status, 2) << check.err;
    const OwlResult show = run_owl_wrapped(env, wrapper, "show owl-stories --license");
    ASSERT_EQ(show.status, 0) << show.err;
    const fs::path hf = scratch_path("offline-hf-" + tag);
    const OwlResult convert = run_owl_wrapped(env, wrapper, "convert owl-stories " + hf.string());
    ASSERT_EQ(convert.status, 0) << convert.err;
    const fs::path adapter = scratch_path("offline-adapter-" + tag);
    const OwlResult tune = run_owl_wrapped(env, wrapper, "finetune owl-stories --data " + data.string() + " -o " + adapter.string() +
                                                             " --iters 2 --batch-size 4 --seed 1 -t 1");
    ASSERT_EQ(tune.status, 0) << tune.err;
    const std::string weights = sha256_of((hf / "model.safetensors").string());
    const std::string lora = sha256_of((adapter / "adapter_model.safetensors").string());
    if (online) {
      first_run = run, first_chat = chat, first_show = show;
      first_check = check_verdicts(check.out);
      first_weights = weights, first_adapter = lora;
      EXPECT_EQ(hub.requests(), requests_after_pull) << "a command other than pull contacted the registry or the Hub";
      continue;
    }
    EXPECT_EQ(run.out, first_run.out);
    EXPECT_EQ(chat.out, first_chat.out);
    EXPECT_EQ(show.out, first_show.out);
    EXPECT_EQ(check_verdicts(check.out), first_check);
    EXPECT_EQ(weights, first_weights);
    EXPECT_EQ(lora, first_adapter);
    // The namespace really has no network: pull cannot reach the registry, and says so.
    const OwlResult pull = run_owl_wrapped(env, wrapper, "pull owl-stories:other");
    EXPECT_EQ(pull.status, 1);
    EXPECT_NE(pull.err.find(hub.url()), std::string::npos) << pull.err;
  }
}

}  // namespace
