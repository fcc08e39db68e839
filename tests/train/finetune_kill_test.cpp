// kill -9 at random moments never corrupts the last checkpoint: a fine-tune that writes a checkpoint
// after every step is killed again and again after random delays (during loading, training steps
// and checkpoint writes alike), resumed each time from whatever it left, until it finishes. Every
// loss any of the runs reported, and the final adapter's bytes, equal an uninterrupted run's.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "fixtures.h"
#include "models/model_fixtures.h"
#include "spawn_owl.h"
#include "test_files.h"
#include "tool_digests.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RunResult {
  bool killed = false;
  int status = -1;
  std::map<int64_t, double> losses;  // step -> loss, from the --json lines
};

// Runs owl with args (stdout to a file), SIGKILLs it after `delay` unless it has ended.
RunResult run_for(const std::string& args, std::chrono::milliseconds delay, const fs::path& log) {
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = spawn_owl(args, out);
  ::close(out);
  RunResult r;
  int status = 0;
  const auto until = Clock::now() + delay;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() >= until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.killed = WIFSIGNALED(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("step") && j.contains("loss")) r.losses[j["step"].get<int64_t>()] = j["loss"].get<double>();
  }
  return r;
}

bool has_checkpoint(const fs::path& out) {
  return fs::exists(out / "checkpoint" / "state.json") || fs::exists(out / "checkpoint.owl-old" / "state.json");
}

TEST(FinetuneKill, AtRandomMomentsTheCheckpointAlwaysResumesExactly) {
  OWL_REQUIRE_FIXTURES();
  const std::string model = stories260k_gguf(fixtures, owl::DType::f32).string();
  const fs::path data = scratch_path("kill-stories.jsonl");
  {
    std::ofstream out(data);
    for (int i = 0; i < 48; ++i) out << nlohmann::json{{"text", "Once upon a time, Owl found a box number " + std::to_string(i) + "."}}.dump() << "\n";
  }
  const std::string common = "finetune " + model + " --data " + data.string() +
                             " --iters 120 --batch-size 4 --lr 1e-3 --lr-schedule cosine --warmup 3 --grad-accum 2 "
                             "--save-every 1 --seed 5 --json -t 2 -o ";
  const fs::path whole_dir = scratch_path("kill-whole");
  const auto t0 = Clock::now();
  const RunResult whole = run_for(common + whole_dir.string(), std::chrono::minutes(5), scratch_path("kill-whole.log"));
  const auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  ASSERT_EQ(whole.status, 0);
  ASSERT_EQ(whole.losses.size(), 120u);

  const fs::path out = scratch_path("kill-run");
  std::mt19937 rng(2026);
  // Each run lives for a random sixth of the whole run at most: loading, steps and checkpoint
  // writes are all hit, and several kills land before the run gets to its end.
  std::uniform_int_distribution<int64_t> moment(0, duration.count() / 6);
  int kills = 0, resumes = 0;
  bool finished = false;
  for (int attempt = 0; attempt < 80 && !finished; ++attempt) {
    const bool resume = has_checkpoint(out);
    resumes += resume ? 1 : 0;
    // The last attempts are not killed, so that the run always finishes.
    const auto delay = attempt < 60 ? std::chrono::milliseconds(moment(rng)) : std::chrono::milliseconds(300000);
    const RunResult r = run_for(common + out.string() + (resume ? " --resume" : ""), delay, scratch_path("kill-run.log"));
    for (const auto& [step, loss] : r.losses) EXPECT_DOUBLE_EQ(loss, whole.losses.at(step)) << "attempt " << attempt << ", step " << step;
    if (r.killed) {
      ++kills;
      continue;
    }
    ASSERT_EQ(r.status, 0) << "attempt " << attempt << (resume ? " (resumed)" : "") << " failed: a damaged checkpoint?";
    finished = true;
  }
  ASSERT_TRUE(finished);
  EXPECT_GE(kills, 5) << "too few kills landed for the test to mean anything";
  EXPECT_GE(resumes, 3);
  EXPECT_EQ(sha256_of((out / "adapter_model.safetensors").string()), sha256_of((whole_dir / "adapter_model.safetensors").string()));
  std::printf("[ kill -9 ] %d kills, %d resumes over a %lld ms run\n", kills, resumes, static_cast<long long>(duration.count()));
}

}  // namespace
