// owl pull, list, rm, cp and running by name, against FakeHub (a registry and a Hub on a loopback
// port): a clean pull of each kind gives files whose sha256 (by sha256sum) matches, and a stored name
// runs as the file it came from; a dropped connection is resumed with a Range request; a corrupted
// byte is refused and nothing is stored; a manifest digest or a Hub file path that tries to leave the
// store is refused;
// two names share one blob and rm keeps what the other name uses; model names are parsed strictly.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/error.h"
#include "fake_hub.h"
#include "fixtures.h"
#include "logits_of.h"
#include "missing_ranges.h"
#include "run_owl.h"
#include "store/model_store.h"
#include "store/pull.h"

namespace {

namespace fs = std::filesystem;
using owl::store::ModelStore;


struct StoreTest : ::testing::Test {
  FakeHub hub;
  fs::path home = scratch_path("store-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  ModelStore store{home};
  owl::store::PullOptions options() {
    owl::store::PullOptions o;
    o.registry = hub.url();
    o.hf_endpoint = hub.url();
    return o;
  }
  // The owl command with this store and this hub.
  OwlResult owl(const std::string& args) {
    // (Ollama's store and the Hugging Face cache of this machine, if it has them, stay out of the way.)
    return run_owl_env("OWL_HOME=" + home.string() + " OWL_REGISTRY=" + hub.url() + " HF_ENDPOINT=" + hub.url() +
                           " OLLAMA_MODELS=" + (home / "no-ollama").string() + " HF_HUB_CACHE=" + (home / "no-hf").string(),
                       args);
  }
};

TEST(ModelNames, AreParsedStrictly) {
  using owl::store::parse_model_name;
  EXPECT_EQ(parse_model_name("llama3.2").str(), "llama3.2:latest");
  EXPECT_EQ(parse_model_name("llama3.2:1b").ns, "library");
  EXPECT_EQ(parse_model_name("registry.example.com:5000/team/model:v2").host, "registry.example.com:5000");
  const auto hf = parse_model_name("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M");
  EXPECT_TRUE(hf.hugging_face);
  EXPECT_EQ(hf.ns, "bartowski");
  EXPECT_EQ(hf.tag, "Q4_K_M");
  EXPECT_TRUE(parse_model_name("Qwen/Qwen2.5-0.5B").hugging_face);
  for (const char* bad : {"", "../x", "a/../b", "x:", "a/b/c/d", "na me", "hf.co/only", "x:..", "a//b"}) {
    EXPECT_THROW((void)parse_model_name(bad), owl::Error) << bad;
  }
  EXPECT_FALSE(owl::store::looks_like_model_name("model.gguf"));
  EXPECT_FALSE(owl::store::looks_like_model_name("./llama3"));
  EXPECT_TRUE(owl::store::looks_like_model_name("llama3:8b"));
}

TEST_F(StoreTest, RegistryPullRunsAsTheFileItCameFrom) {
  hub.add_registry_model("library/owl-stories:latest", kStoriesModel);
  const OwlResult pull = owl("pull owl-stories");
  ASSERT_EQ(pull.status, 0) << pull.err;
  EXPECT_EQ(pull.out, "owl-stories:latest\n");
  EXPECT_NE(pull.err.find("success"), std::string::npos) << pull.err;
  const auto path = store.model_path(owl::store::parse_model_name("owl-stories"));
  ASSERT_TRUE(path.has_value());
  EXPECT_EQ(sha256_of(path->string()), sha256_of(kStoriesModel));
  // The same greedy text by name as by path.
  const OwlResult by_name = owl("run owl-stories -p 'Once upon a time' -n 24 --temp 0 --no-prompt");
  const OwlResult by_path = owl("run " + kStoriesModel + " -p 'Once upon a time' -n 24 --temp 0 --no-prompt");
  ASSERT_EQ(by_name.status, 0) << by_name.err;
  EXPECT_EQ(by_name.out, by_path.out);
  const OwlResult list = owl("list --json");
  ASSERT_EQ(list.status, 0) << list.err;
  const auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "owl-stories:latest");
  const uint64_t template_and_config = std::string("{{ .Prompt }}").size() + std::string(R"({"model_format":"gguf"})").size();
  EXPECT_EQ(j[0]["size"].get<uint64_t>(), fs::file_size(kStoriesModel) + template_and_config);
  // A second pull downloads nothing.
  const int before = hub.blob("blob:" + sha256_of(kStoriesModel)).requests;
  ASSERT_EQ(owl("pull owl-stories").status, 0);
  EXPECT_EQ(hub.blob("blob:" + sha256_of(kStoriesModel)).requests, before);
}

TEST_F(StoreTest, ADroppedConnectionIsResumedWithARange) {
  hub.add_registry_model("library/owl-stories:latest", kStoriesModel);
  const std::string key = "blob:" + sha256_of(kStoriesModel);
  hub.blob(key).drop_at = 500000;
  owl::store::pull(store, "owl-stories", options());
  EXPECT_EQ(hub.blob(key).requests, 2);  // the first dropped at byte 500000, the second resumed there
  EXPECT_EQ(sha256_of(store.model_path(owl::store::parse_model_name("owl-stories"))->string()), sha256_of(kStoriesModel));
  // Interrupted for good (every attempt dropped): the partial file stays, nothing else; the next pull resumes it.
  ModelStore other(home.string() + "-2");
  hub.blob(key).drop_at = 300000;
  owl::store::PullOptions once = options();
  once.attempts = 1;
  EXPECT_THROW(owl::store::pull(other, "owl-stories", once), owl::Error);
  EXPECT_FALSE(other.manifest(owl::store::parse_model_name("owl-stories")).has_value());
  EXPECT_EQ(missing_ranges(other.partial_path(sha256_of(kStoriesModel))), (Ranges{{300000, fs::file_size(kStoriesModel)}}));
  owl::store::pull(other, "owl-stories", options());
  EXPECT_EQ(sha256_of(other.model_path(owl::store::parse_model_name("owl-stories"))->string()), sha256_of(kStoriesModel));
  EXPECT_FALSE(fs::exists(other.partial_path(sha256_of(kStoriesModel))));
}

TEST_F(StoreTest, ACorruptedByteIsRefusedAndNothingIsStored) {
  hub.add_registry_model("library/owl-stories:latest", kStoriesModel);
  hub.blob("blob:" + sha256_of(kStoriesModel)).corrupt_at = 123456;
  try {
    owl::store::pull(store, "owl-stories", options());
    ADD_FAILURE() << "a corrupted download was accepted";
  } catch (const owl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("do not match their digest"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(store.manifest(owl::store::parse_model_name("owl-stories")).has_value());
  EXPECT_FALSE(fs::exists(store.blob_path(sha256_of(kStoriesModel))));
  EXPECT_FALSE(fs::exists(store.partial_path(sha256_of(kStoriesModel))));
}

TEST_F(StoreTest, ATraversalDigestIsRefused) {
  for (const char* digest : {"sha256:../../../../tmp/owned", "sha256:AB", "sha512:00", "../blobs/x"}) {
    hub.set_manifest("library/evil:latest", nlohmann::json{{"schemaVersion", 2}, {"layers", {{{"mediaType", "application/vnd.ollama.image.model"}, {"digest", digest}, {"size", 10}}}}}.dump());
    try {
      owl::store::pull(store, "evil", options());
      ADD_FAILURE() << digest;
    } catch (const owl::Error& e) {
      EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
    }
  }
  // A Hub listing whose file path climbs out of the repository.
  hub.add_repo("evil/repo", {{"../../../escaped.gguf", kStoriesModel}});
  try {
    owl::store::pull(store, "hf.co/evil/repo:escaped.gguf", options());
    ADD_FAILURE() << "a climbing path was accepted";
  } catch (const owl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(home / "blobs"));
  EXPECT_TRUE(store.list().empty());
}

TEST_F(StoreTest, NamesShareBlobsAndRmKeepsWhatAnotherUses) {
  hub.add_registry_model("library/owl-stories:latest", kStoriesModel);
  owl::store::pull(store, "owl-stories", options());
  ASSERT_EQ(owl("cp owl-stories my-model:v1").status, 0);
  const fs::path blob = store.blob_path(sha256_of(kStoriesModel));
  EXPECT_EQ(*store.model_path(owl::store::parse_model_name("my-model:v1")), blob);
  ASSERT_EQ(owl("rm owl-stories").status, 0);
  EXPECT_TRUE(fs::exists(blob));  // my-model:v1 still uses it
  EXPECT_EQ(owl("run my-model:v1 -p Hi -n 2 --temp 0").status, 0);
  ASSERT_EQ(owl("rm my-model:v1").status, 0);
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_TRUE(fs::is_empty(home / "blobs"));
  const OwlResult gone = owl("run my-model:v1 -p Hi -n 2");
  EXPECT_EQ(gone.status, 1);
  EXPECT_NE(gone.err.find("owl pull my-model:v1"), std::string::npos) << gone.err;
  EXPECT_EQ(owl("rm nothing-here").status, 1);
}

TEST_F(StoreTest, HuggingFaceGgufPullPicksTheQuantization) {
  const fs::path q8 = scratch_path("owl-stories-Q8_0.gguf");
  ASSERT_EQ(run_owl("quantize " + kStoriesModel + " " + q8.string() + " --type Q8_0").status, 0);
  hub.add_repo("owl/owl-stories-GGUF", {{"owl-stories-F16.gguf", kStoriesModel}, {"owl-stories-Q8_0.gguf", q8.string()},
                                         {"README.md", (fs::path(kStoriesModel).parent_path() / "README.md").string()}});
  const OwlResult pull = owl("pull hf.co/owl/owl-stories-GGUF:q8_0");
  ASSERT_EQ(pull.status, 0) << pull.err;
  EXPECT_EQ(pull.out, "hf.co/owl/owl-stories-GGUF:q8_0\n");
  EXPECT_EQ(sha256_of(store.model_path(owl::store::parse_model_name("hf.co/owl/owl-stories-GGUF:q8_0"))->string()),
            sha256_of(q8.string()));
  // Two files match no tag: a clear error naming them.
  const OwlResult ambiguous = owl("pull hf.co/owl/owl-stories-GGUF:gguf");
  EXPECT_EQ(ambiguous.status, 1);
  EXPECT_NE(ambiguous.err.find("owl-stories-F16.gguf"), std::string::npos) << ambiguous.err;
  EXPECT_EQ(owl("pull hf.co/owl/no-such-repo").status, 1);
}

TEST_F(StoreTest, HuggingFaceSafetensorsPullIsADirectoryThatLoads) {
  OWL_REQUIRE_FIXTURE(src, "hf-archs/llama-sharded");
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(src)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".json") || name.ends_with(".safetensors")) files[name] = e.path().string();
  }
  hub.add_repo("owl-test/llama-sharded", files);
  const std::string config = "file:owl-test/llama-sharded/config.json";
  hub.blob(config).corrupt_at = 5;  // a file kept in git is checked against its git id too
  EXPECT_THROW(owl::store::pull(store, "owl-test/llama-sharded", options()), owl::Error);
  hub.blob(config).corrupt_at = -1;
  const auto name = owl::store::pull(store, "owl-test/llama-sharded", options());
  const fs::path dir = *store.model_path(name);
  ASSERT_TRUE(fs::is_directory(dir));
  for (const auto& [file, from] : files) EXPECT_EQ(sha256_of((dir / file).string()), sha256_of(from)) << file;
  // The pulled directory gives the fixture's logits, bit for bit.
  EXPECT_EQ(logits_of(dir.string()), logits_of(src.string()));
}

}  // namespace
