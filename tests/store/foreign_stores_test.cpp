// Models other tools already have, read in place: an Ollama store and a Hugging Face cache laid out
// here as those tools lay them out (Ollama: manifests/HOST/NS/NAME/TAG naming blobs/sha256-HEX; the Hub
// cache: models--OWNER--REPO with refs/main and snapshots/REV/ whose files link to ../../blobs/) are
// listed by owl list, marked with their store, and run by name as the files they hold; nothing is copied.
#include <gtest/gtest.h>

#include <filesystem>

#include "fake_hub.h"
#include "fixtures.h"
#include "logits_of.h"
#include "run_owl.h"
#include "store/foreign_stores.h"

namespace {

namespace fs = std::filesystem;


// An Ollama store holding kStoriesModel as library/tiny:latest.
fs::path ollama_store(const fs::path& root) {
  const std::string digest = sha256_of(kStoriesModel), config = R"({"model_format":"gguf"})";
  fs::create_directories(root / "blobs");
  fs::copy_file(kStoriesModel, root / "blobs" / ("sha256-" + digest.substr(7)));
  write_file(root / "blobs" / ("sha256-" + FakeHub::digest_of(config).substr(7)), config);
  const nlohmann::json m = {{"schemaVersion", 2},
                            {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                            {"config", {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                                        {"digest", FakeHub::digest_of(config)}, {"size", config.size()}}},
                            {"layers", {{{"mediaType", "application/vnd.ollama.image.model"}, {"digest", digest},
                                         {"size", fs::file_size(kStoriesModel)}}}}};
  fs::create_directories(root / "manifests" / "registry.ollama.ai" / "library" / "tiny");
  write_file(root / "manifests" / "registry.ollama.ai" / "library" / "tiny" / "latest", m.dump());
  return root;
}

// A Hugging Face cache entry: files in blobs/ by their hash, linked from the snapshot by relative links.
void hf_cache_repo(const fs::path& hub, const std::string& owner, const std::string& repo,
                   const std::map<std::string, std::string>& files) {
  const fs::path dir = hub / ("models--" + owner + "--" + repo);
  const std::string rev = FakeHub::kRevision;
  fs::create_directories(dir / "refs");
  write_file(dir / "refs" / "main", rev);
  fs::create_directories(dir / "blobs");
  fs::create_directories(dir / "snapshots" / rev);
  for (const auto& [path, from] : files) {
    const std::string blob = sha256_of(from).substr(7);
    if (!fs::exists(dir / "blobs" / blob)) fs::copy_file(from, dir / "blobs" / blob);
    fs::create_symlink(fs::path("..") / ".." / "blobs" / blob, dir / "snapshots" / rev / path);
  }
}

TEST(ForeignStores, OllamaStoreAndHubCacheAreListedAndRunInPlace) {
  const fs::path base = scratch_path("foreign");
  const fs::path ollama = ollama_store(base / "ollama");
  const fs::path hf_home = base / "hf";
  hf_cache_repo(hf_home / "hub", "owl", "stories-GGUF", {{"owl-stories-F16.gguf", kStoriesModel}});
  const std::string env = "OWL_HOME=" + (base / "owl").string() + " OLLAMA_MODELS=" + ollama.string() +
                          " HF_HOME=" + hf_home.string() + " HF_HUB_CACHE=";
  const OwlResult list = run_owl_env(env, "list --json");
  ASSERT_EQ(list.status, 0) << list.err;
  const auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j.size(), 2u) << list.out;
  EXPECT_EQ(j[0]["name"], "tiny:latest");
  EXPECT_EQ(j[0]["store"], "ollama");
  EXPECT_EQ(j[1]["name"], "hf.co/owl/stories-GGUF:owl-stories-F16.gguf");
  EXPECT_EQ(j[1]["store"], "hf-cache");
  const OwlResult direct = run_owl("run " + kStoriesModel + " -p 'The fox' -n 16 --temp 0 --no-prompt");
  for (const char* name : {"tiny", "owl/stories-GGUF", "hf.co/owl/stories-GGUF:F16"}) {
    const OwlResult r = run_owl_env(env, std::string("run ") + name + " -p 'The fox' -n 16 --temp 0 --no-prompt");
    ASSERT_EQ(r.status, 0) << name << ": " << r.err;
    EXPECT_EQ(r.out, direct.out) << name;
  }
  EXPECT_FALSE(fs::exists(base / "owl" / "blobs"));  // read in place, nothing copied
}

TEST(ForeignStores, AHubCacheSafetensorsSnapshotLoadsAsADirectory) {
  OWL_REQUIRE_FIXTURE(src, "hf-archs/llama-sharded");
  const fs::path hub = scratch_path("foreign-st") / "hub";
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(src)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".json") || name.ends_with(".safetensors")) files[name] = e.path().string();
  }
  hf_cache_repo(hub, "owl-test", "llama-sharded", files);
  ::setenv("HF_HUB_CACHE", hub.c_str(), 1);
  const auto model = owl::store::find_hf_cache_model(owl::store::parse_model_name("owl-test/llama-sharded"));
  const auto found = model ? std::optional(model->path) : std::nullopt;
  ::unsetenv("HF_HUB_CACHE");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->filename(), FakeHub::kRevision);  // the snapshot directory itself
  // The snapshot gives the fixture's logits, bit for bit.
  EXPECT_EQ(logits_of(found->string()), logits_of(src.string()));
}

}  // namespace
