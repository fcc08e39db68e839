// Downloads over several connections, against FakeHub: a file fetched in byte ranges at once, the
// ranges an interrupted pull left being all the next one fetches, two pulls of one model at the same
// time, and a gated repository that needs its token.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "base/error.h"
#include "fake_hub.h"
#include "missing_ranges.h"
#include "run_owl.h"
#include "store/model_store.h"
#include "store/pull.h"

namespace {

namespace fs = std::filesystem;
using owl::store::ModelStore;
using owl::store::parse_model_name;


struct DownloadTest : ::testing::Test {
  FakeHub hub;
  fs::path home = scratch_path("download-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  ModelStore store{home};
  const std::string key = "blob:" + sha256_of(kStoriesModel);
  const uint64_t size = fs::file_size(kStoriesModel);

  DownloadTest() { hub.add_registry_model("library/owl-stories:latest", kStoriesModel); }
  // Four connections for anything over 128 KiB (the model is 1.2 MB).
  owl::store::PullOptions options(int attempts = 4) {
    owl::store::PullOptions o;
    o.registry = hub.url();
    o.hf_endpoint = hub.url();
    o.connections = 4;
    o.segment_bytes = 64 << 10;
    o.attempts = attempts;
    return o;
  }
  std::string stored_sha256() { return sha256_of(store.model_path(parse_model_name("owl-stories"))->string()); }
};

// "bytes=A-B" as [A, B + 1).
std::pair<uint64_t, uint64_t> parse_range(const std::string& header) {
  const size_t dash = header.find('-');
  return {std::stoull(header.substr(6, dash - 6)), std::stoull(header.substr(dash + 1)) + 1};
}

TEST_F(DownloadTest, ALargeFileComesInRangesOverSeveralConnections) {
  owl::store::pull(store, "owl-stories", options());
  EXPECT_EQ(stored_sha256(), sha256_of(kStoriesModel));
  const FakeHub::Blob& b = hub.blob(key);
  ASSERT_EQ(b.ranges.size(), 4u);
  // Four ranges that tile the file, each fetched once.
  Ranges got;
  for (const std::string& r : b.ranges) got.push_back(parse_range(r));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got.front().first, 0u);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_EQ(got[i].first, got[i - 1].second);
  EXPECT_EQ(got.back().second, size);
  EXPECT_EQ(b.bytes_sent, size);
  EXPECT_FALSE(fs::exists(store.partial_path(sha256_of(kStoriesModel))));
  EXPECT_FALSE(fs::exists(store.partial_path(sha256_of(kStoriesModel)).string() + ".json"));
}

TEST_F(DownloadTest, TheRangesAnInterruptedPullLeftAreAllTheNextOneFetches) {
  hub.blob(key).drop_at = 700000;  // inside the third of four ranges
  try {
    owl::store::pull(store, "owl-stories", options(1));
    ADD_FAILURE() << "the pull went through";
  } catch (const owl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("run owl pull again to resume"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(store.manifest(parse_model_name("owl-stories")).has_value());
  EXPECT_FALSE(fs::exists(store.blob_path(sha256_of(kStoriesModel))));
  const Ranges missing = missing_ranges(store.partial_path(sha256_of(kStoriesModel)));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing.front().first, 700000u);  // the other three ranges arrived whole
  const uint64_t sent_before = hub.blob(key).bytes_sent;
  owl::store::pull(store, "owl-stories", options());
  EXPECT_EQ(stored_sha256(), sha256_of(kStoriesModel));
  EXPECT_EQ(hub.blob(key).bytes_sent - sent_before, missing.front().second - missing.front().first);
}

TEST_F(DownloadTest, AServerWithoutRangesGivesTheWholeFileOverOneConnection) {
  hub.blob(key).honour_ranges = false;
  owl::store::pull(store, "owl-stories", options());
  EXPECT_EQ(stored_sha256(), sha256_of(kStoriesModel));
  const FakeHub::Blob& b = hub.blob(key);
  ASSERT_GE(b.ranges.size(), 2u);
  EXPECT_FALSE(b.ranges.front().empty());  // ranges were asked for first,
  EXPECT_EQ(b.ranges.back(), "");          // then the whole file, once
  EXPECT_EQ(b.requests, 5);                // four ranged requests answered 200, then one whole
}

TEST_F(DownloadTest, TwoPullsOfOneModelAtOnceBothSucceedAndFetchItOnce) {
  ModelStore same(home);
  std::thread other([&] { owl::store::pull(same, "owl-stories", options()); });
  owl::store::pull(store, "owl-stories", options());
  other.join();
  EXPECT_EQ(stored_sha256(), sha256_of(kStoriesModel));
  EXPECT_EQ(hub.blob(key).bytes_sent, size);  // the second waited for the first, then found the blob
}

TEST_F(DownloadTest, AGatedRepositoryNeedsItsToken) {
  hub.add_repo("owl/gated", {{"owl-stories-F16.gguf", kStoriesModel}});
  hub.require_token("owl/gated", "hf_secret");
  const std::string env = "OWL_HOME=" + home.string() + " HF_ENDPOINT=" + hub.url();
  const OwlResult denied = run_owl_env(env, "pull hf.co/owl/gated");
  EXPECT_EQ(denied.status, 1);
  EXPECT_NE(denied.err.find("access denied (HTTP 401"), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find("HF_TOKEN or --token"), std::string::npos) << denied.err;
  EXPECT_TRUE(store.list().empty());
  EXPECT_EQ(run_owl_env(env, "pull hf.co/owl/gated --token wrong").status, 1);
  const OwlResult with_env = run_owl_env(env + " HF_TOKEN=hf_secret", "pull hf.co/owl/gated");
  ASSERT_EQ(with_env.status, 0) << with_env.err;
  EXPECT_EQ(sha256_of(store.model_path(parse_model_name("hf.co/owl/gated"))->string()), sha256_of(kStoriesModel));
  ASSERT_EQ(run_owl_env(env, "rm hf.co/owl/gated").status, 0);
  const OwlResult with_flag = run_owl_env(env, "pull hf.co/owl/gated --token hf_secret");
  EXPECT_EQ(with_flag.status, 0) << with_flag.err;
}

TEST_F(DownloadTest, AHubTokenIsNotSentWhereAFileIsRedirected) {
  hub.add_repo("owl/gated-cdn", {{"owl-stories-F16.gguf", kStoriesModel}});
  hub.require_token("owl/gated-cdn", "hf_secret");
  hub.redirect_files_to_cdn();
  owl::store::PullOptions o = options();
  o.hf_token = "hf_secret";
  const auto name = owl::store::pull(store, "hf.co/owl/gated-cdn", o);
  EXPECT_EQ(sha256_of(store.model_path(name)->string()), sha256_of(kStoriesModel));
  const std::vector<std::string> seen = hub.cdn_authorizations();
  EXPECT_EQ(seen.size(), 4u);  // each range followed its redirect
  for (const std::string& a : seen) EXPECT_EQ(a, "") << "the token went to the file store";
  EXPECT_EQ(hub.blob("file:owl/gated-cdn/owl-stories-F16.gguf").ranges.size(), 4u);
}

}  // namespace
