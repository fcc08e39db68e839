// A full disk, simulated with a small tmpfs as the store (in a mount namespace, unshare -rm): the
// pull is refused before a byte is downloaded, with a one-line error saying how much is needed and
// free, and leaves nothing in the store; with room made (the tmpfs grown), the same pull succeeds
// and the model runs.
#include <gtest/gtest.h>

#include <filesystem>

#include "fake_hub.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;


TEST(DiskFull, APullIsRefusedBeforeItStartsAndLeavesNothing) {
  if (std::system("unshare -rm true >/dev/null 2>&1") != 0) GTEST_SKIP() << "unshare -rm is not permitted here (no user namespaces)";
  FakeHub hub;
  hub.add_registry_model("library/owl-stories:latest", kStoriesModel);
  const fs::path home = scratch_path("disk-full-store"), out = scratch_path("disk-full-log");
  fs::create_directories(home);
  fs::create_directories(out);
  const std::string owl = "env OWL_HOME=" + home.string() + " OWL_REGISTRY=" + hub.url() + " OWL_STATE_DIR=" + out.string() +
                          " OLLAMA_MODELS=/nonexistent HF_HUB_CACHE=/nonexistent " + OWL_BINARY;
  // The store is a 600 KiB tmpfs (the model is 1.2 MB): the pull must fail; then 4 MiB: it must work.
  // Run in the log folder: a name never meets a file of that name in the working directory.
  const std::string script = "cd " + out.string() + " || exit 89\n" + "mount -t tmpfs -o size=600k tmpfs " + home.string() + " || exit 90\n" +
                             owl + " pull owl-stories >" + out.string() + "/full.out 2>" + out.string() + "/full.err\n" +
                             "echo $? >" + out.string() + "/full.status\n" +
                             "find " + home.string() + " -type f | wc -l >" + out.string() + "/files\n" +
                             "mount -o remount,size=4m tmpfs " + home.string() + " || exit 91\n" +
                             owl + " pull owl-stories >" + out.string() + "/room.out 2>" + out.string() + "/room.err || exit 92\n" +
                             owl + " run owl-stories -p Hi -n 4 --temp 0 -t 1 >" + out.string() + "/run.out 2>&1 || exit 93\n";
  write_file(out / "script.sh", script);
  const int status = std::system(("unshare -rm sh " + (out / "script.sh").string()).c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "step " << WEXITSTATUS(status) << "\n" << read_file(out / "room.err") << read_file(out / "run.out");
  EXPECT_EQ(read_file(out / "full.status"), "1\n");
  const std::string err = read_file(out / "full.err");
  EXPECT_NE(err.find("not enough disk space in " + (home / "blobs").string()), std::string::npos) << err;
  EXPECT_NE(err.find("MiB free"), std::string::npos) << err;
  EXPECT_EQ(read_file(out / "files"), "0\n") << "files left in the store after the refused pull";
  EXPECT_EQ(read_file(out / "room.out"), "owl-stories:latest\n");
  EXPECT_FALSE(read_file(out / "run.out").empty());
  EXPECT_TRUE(fs::is_empty(home)) << "the tmpfs is gone with its namespace; nothing was written beside it";
}

}  // namespace
