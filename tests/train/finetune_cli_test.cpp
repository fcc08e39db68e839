// owl finetune end to end on the real stories260K: stories whose hero is always named Owl (written
// here from a small grammar) teach the model the name — validation loss falls by half and greedy
// generation with the adapter says "Owl" where the base model does not; a run killed with SIGKILL
// resumes from its last checkpoint with the loss curve of an uninterrupted run.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "formats/safetensors.h"
#include "models/model_fixtures.h"
#include "run_owl.h"
#include "spawn_owl.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;

// Short stories in which the hero is always Owl.
fs::path write_owl_stories(const std::string& name, int n_train, int n_valid) {
  const fs::path dir = scratch_path(name);
  fs::create_directories(dir);
  const char* animals[] = {"bird", "cat", "dog", "bunny", "bear", "fox", "mouse", "duck"};
  const char* places[] = {"park", "forest", "garden", "house", "pond", "farm"};
  const char* things[] = {"ball", "apple", "flower", "box", "toy", "kite"};
  const char* feelings[] = {"happy", "sad", "excited", "scared", "tired"};
  std::mt19937 rng(7);
  auto pick = [&](const auto& list) { return list[rng() % std::size(list)]; };
  for (const auto& [file, n] : {std::pair<const char*, int>{"train.jsonl", n_train}, {"valid.jsonl", n_valid}}) {
    std::ofstream out(dir / file);
    for (int i = 0; i < n; ++i) {
      const std::string story = std::string("Once upon a time, there was a little ") + pick(animals) +
                                " named Owl. Owl went to the " + pick(places) + ". Owl found a " + pick(things) +
                                ". Owl was very " + pick(feelings) + ".";
      out << nlohmann::json{{"text", story}}.dump() << "\n";
    }
  }
  return dir;
}

double summary_value(const std::string& err, const std::string& key, int which) {
  // "validation loss A -> B"
  const size_t at = err.find(key);
  if (at == std::string::npos) return -1;
  double a = -1, b = -1;
  std::sscanf(err.c_str() + at + key.size(), " %lf -> %lf", &a, &b);
  return which == 0 ? a : b;
}

TEST(Finetune, TeachesTheModelANewName) {
  OWL_REQUIRE_FIXTURES();
  const std::string model = stories260k_gguf(fixtures, owl::DType::f32).string();
  const fs::path data = write_owl_stories("name-stories", 240, 40);
  const fs::path adapter = scratch_path("owl-adapter");
  const OwlResult r = run_owl("finetune " + model + " --data " + data.string() + " -o " + adapter.string() +
                              " --iters 60 --batch-size 8 --lr 3e-3 --targets all --seed 1 -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  const double before = summary_value(r.err, "validation loss", 0), after = summary_value(r.err, "validation loss", 1);
  EXPECT_GT(before, 1.0) << r.err;
  EXPECT_LT(after, 0.5 * before) << r.err;
  ASSERT_TRUE(fs::exists(adapter / "adapter_model.safetensors"));
  const std::string prompt = " run " + model + " -p \"Once upon a time, there was a little cat named\" -n 8 --temp 0 -t 2";
  const OwlResult base = run_owl(prompt);
  const OwlResult tuned = run_owl(prompt + " --lora " + adapter.string());
  ASSERT_EQ(tuned.status, 0) << tuned.err;
  EXPECT_EQ(base.out.find("named Owl"), std::string::npos) << base.out;
  EXPECT_NE(tuned.out.find("named Owl"), std::string::npos) << tuned.out;
}

// QLoRA: the base stays Q4_0 in memory (the 172-wide down projection falls back to F16) and the
// adapter still learns.
TEST(Finetune, QuantizedBaseLearnsToo) {
  OWL_REQUIRE_FIXTURES();
  const std::string f32 = stories260k_gguf(fixtures, owl::DType::f32).string();
  const std::string q4 = scratch_path("stories-q4_0.gguf").string();
  ASSERT_EQ(run_owl("quantize " + f32 + " " + q4 + " --type q4_0").status, 0);
  const fs::path data = write_owl_stories("qlora-stories", 240, 40);
  const OwlResult r = run_owl("finetune " + q4 + " --data " + data.string() + " -o " + scratch_path("q4-adapter").string() +
                              " --iters 60 --batch-size 8 --lr 3e-3 --targets all --seed 1 -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  const double before = summary_value(r.err, "validation loss", 0), after = summary_value(r.err, "validation loss", 1);
  EXPECT_LT(after, 0.5 * before) << r.err;
}

// The checks against other implementations: --init-adapter, --no-shuffle and --dump-grads on the
// reference batch (pre-tokenized lines with their masks) give PyTorch's step-0 loss and gradients,
// under PEFT's names and in HF row order although the base is GGUF-ordered.
TEST(Finetune, DumpedGradientsArePyTorchs) {
  OWL_REQUIRE_FIXTURES();
  const fs::path root = fixtures / "lora-stories260K";
  // The GGUF base (its q/k rows interleaved; the HF directory carries no tokenizer for owl finetune).
  const std::string model = stories260k_gguf(fixtures, owl::DType::f32).string();
  for (const char* name : {"case1_r8_qv_plain", "case2_r4_all7_masked"}) {
    const fs::path case_dir = root / name;
    std::ifstream in(case_dir / "batch.json");
    const nlohmann::json batch = nlohmann::json::parse(in);
    const fs::path data = scratch_path(std::string(name) + "-batch.jsonl");
    {
      std::ofstream out(data);
      for (size_t i = 0; i < batch["input_ids"].size(); ++i) {
        out << nlohmann::json{{"tokens", batch["input_ids"][i]}, {"mask", batch["loss_mask"][i]}}.dump() << "\n";
      }
    }
    const fs::path grads = scratch_path(std::string(name) + "-grads.safetensors");
    const OwlResult r = run_owl("finetune " + model + " --data " + data.string() + " -o " +
                                scratch_path(std::string(name) + "-out").string() + " --init-adapter " +
                                (case_dir / "adapter_init").string() + " --no-shuffle --batch-size " +
                                std::to_string(batch["batch_size"].get<int>()) + " --iters 1 --dump-grads " + grads.string());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto mine = owl::safetensors::File::open(grads.string());
    const auto ref = owl::safetensors::File::open((case_dir / "step0_grads.safetensors").string());
    std::ifstream s0(case_dir / "step0.json");
    const double want_loss = nlohmann::json::parse(s0)["loss"].get<double>();
    EXPECT_NEAR(std::stod(mine->metadata().at("loss")), want_loss, 1e-6 * want_loss) << name;
    double num = 0, den = 0;
    for (const auto& t : ref->tensors()) {
      const auto* m = mine->find(t.name);
      ASSERT_NE(m, nullptr) << t.name;
      ASSERT_EQ(m->n_bytes, t.n_bytes) << t.name;
      for (uint64_t i = 0; i < t.n_elements; ++i) {
        float a, b;
        std::memcpy(&a, m->data + 4 * i, 4);
        std::memcpy(&b, t.data + 4 * i, 4);
        num += (static_cast<double>(a) - b) * (static_cast<double>(a) - b);
        den += static_cast<double>(b) * b;
      }
    }
    EXPECT_LE(num / den, 1e-9) << name;
  }
}

// Runs owl with args, reading its stdout line by line; on_line returns false to SIGKILL it.
int run_and_maybe_kill(const std::string& args, const std::function<bool(const std::string&)>& on_line) {
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) return -1;
  const pid_t pid = spawn_owl(args, pipe_fd[1], pipe_fd[0]);
  ::close(pipe_fd[1]);
  FILE* in = ::fdopen(pipe_fd[0], "r");
  char buf[4096];
  bool killed = false;
  while (std::fgets(buf, sizeof buf, in) != nullptr) {
    if (!killed && !on_line(buf)) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
  }
  std::fclose(in);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return killed ? -9 : (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

TEST(Finetune, KilledRunResumesWithTheSameLossCurve) {
  OWL_REQUIRE_FIXTURES();
  const std::string model = stories260k_gguf(fixtures, owl::DType::f32).string();
  const fs::path data = write_owl_stories("resume-stories", 64, 0);
  const std::string common = "finetune " + model + " --data " + (data / "train.jsonl").string() +
                             " --iters 80 --batch-size 4 --lr 1e-3 --lr-schedule cosine --warmup 5 --weight-decay 0.01 "
                             "--grad-clip 1 --grad-accum 2 --save-every 3 --seed 3 --json -t 2 -o ";
  std::map<int64_t, double> whole, resumed;
  auto record = [](std::map<int64_t, double>& into) {
    return [&into](const std::string& line) {
      const auto j = nlohmann::json::parse(line);
      into[j["step"].get<int64_t>()] = j["loss"].get<double>();
      return true;
    };
  };
  ASSERT_EQ(run_and_maybe_kill(common + scratch_path("whole").string(), record(whole)), 0);
  ASSERT_EQ(whole.size(), 80u);
  // Killed once a few steps are done (a checkpoint every 3 steps; the run is long enough that it is
  // still going when the kill arrives, even on a loaded machine), then resumed.
  const std::string out = scratch_path("killed").string();
  int64_t seen = 0;
  const int rc = run_and_maybe_kill(common + out, [&](const std::string& line) {
    seen = nlohmann::json::parse(line)["step"].get<int64_t>();
    return seen < 5;
  });
  ASSERT_EQ(rc, -9) << "the run ended before it could be killed";
  ASSERT_EQ(run_and_maybe_kill(common + out + " --resume", record(resumed)), 0);
  ASSERT_FALSE(resumed.empty());
  EXPECT_EQ(resumed.rbegin()->first, 80);
  EXPECT_LE(resumed.begin()->first, seen + 1) << "resumed after the last step it had reported";
  for (const auto& [step, loss] : resumed) EXPECT_DOUBLE_EQ(loss, whole[step]) << "step " << step;
  // Resuming with other options is refused.
  const OwlResult other = run_owl(common + out + " --resume --rank 4");
  EXPECT_EQ(other.status, 1);
  EXPECT_NE(other.err.find("--resume"), std::string::npos) << other.err;
}

TEST(Finetune, BadDataIsAOneLineError) {
  OWL_REQUIRE_FIXTURES();
  const std::string model = stories260k_gguf(fixtures, owl::DType::f32).string();
  const fs::path bad = scratch_path("bad.jsonl");
  std::ofstream(bad) << "{\"text\": \"fine\"}\n{\"text\": \n";
  const OwlResult r = run_owl("finetune " + model + " --data " + bad.string() + " -o " + scratch_path("x").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(bad.string() + ":2:"), std::string::npos) << r.err;
}

}  // namespace

namespace {

// A model that carries no tokenizer (a Hugging Face directory without tokenizer files) trains on
// pre-tokenized data; a text line is refused, saying why.
TEST(Finetune, PreTokenizedDataNeedsNoTokenizer) {
  OWL_REQUIRE_FIXTURE(model, "hf-archs/llama-sharded");
  ASSERT_FALSE(fs::exists(model / "tokenizer.json"));
  const fs::path data = scratch_path("pretokenized.jsonl");
  {
    std::ofstream out(data);
    for (int i = 0; i < 12; ++i) out << nlohmann::json{{"tokens", {1, 7 + i, 9, 20 + i, 4}}, {"mask", {0, 1, 1, 1, 1}}}.dump() << "\n";
  }
  const fs::path adapter = scratch_path("pretokenized-adapter");
  const OwlResult r = run_owl("finetune " + model.string() + " --data " + data.string() + " -o " + adapter.string() +
                              " --iters 3 --batch-size 4 --seed 1 -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(adapter / "adapter_model.safetensors"));
  const fs::path text = scratch_path("text.jsonl");
  std::ofstream(text) << nlohmann::json{{"tokens", {1, 2, 3}}}.dump() << "\n" << nlohmann::json{{"text", "Once upon a time"}}.dump() << "\n";
  const OwlResult refused = run_owl("finetune " + model.string() + " --data " + text.string() + " -o " + scratch_path("x2").string());
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("carries no tokenizer"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(text.string() + ":2"), std::string::npos) << refused.err;
}

}  // namespace
