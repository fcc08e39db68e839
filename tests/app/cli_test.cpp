// The owl command end to end: exit codes, one-line errors, and the subcommands on stories260K.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fixtures.h"
#include "models/model_fixtures.h"
#include "run_owl.h"
#include "test_files.h"

namespace {

using Result = OwlResult;
OwlResult owl_cmd(const std::string& args) { return run_owl(args); }

TEST(Cli, HelpAndVersionExitZero) {
  EXPECT_EQ(owl_cmd("--help").status, 0);
  for (const char* sub : {"run", "tokenize", "logits", "info", "convert", "quantize"}) {
    const Result r = owl_cmd(std::string(sub) + " --help");
    EXPECT_EQ(r.status, 0) << sub;
    EXPECT_NE(r.out.find(sub), std::string::npos) << r.out;
  }
  EXPECT_EQ(owl_cmd("--version").status, 0);
}

TEST(Cli, BadPathIsOneLineAndExitOne) {
  const Result r = owl_cmd("run -m /nonexistent/model.gguf -p hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
}

TEST(Cli, BadArgumentIsOneLineAndExitOne) {
  for (const char* args : {"run --no-such-flag", "frobnicate", "run -m x.gguf --temp abc", "quantize a b --type q9_9"}) {
    const Result r = owl_cmd(args);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
  }
}

TEST(Cli, NotAGgufFileIsAnError) {
  const auto junk = test_scratch_dir() / "junk.gguf";
  std::ofstream(junk) << "this is not a model";
  const Result r = owl_cmd("info " + junk.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
}

class CliStories : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto root = owl_fixtures();
    if (!root || !std::filesystem::exists(*root / "llama2c-stories260K")) {
      GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
    }
    fixtures_ = *root;
    model_ = test_scratch_dir() / "cli-stories.gguf";
    const auto dir = fixtures_ / "llama2c-stories260K";
    const Result r = owl_cmd("convert --from llama2c " + (dir / "stories260K.bin").string() + " --tokenizer " +
                             (dir / "tok512.bin").string() + " -o " + model_.string());
    ASSERT_EQ(r.status, 0) << r.err;
  }
  std::filesystem::path fixtures_;
  std::filesystem::path model_;
};

TEST_F(CliStories, RunStreamsTheExpectedGreedyText) {
  const Result r = owl_cmd("run -m " + model_.string() + " -p Zoo -n 57 --temp 0 -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "Zoo was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red "
            "ball. She wanted to play with it, but she didn't want to play with\n");
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
}

TEST_F(CliStories, SameOutputWithOneAndTwoThreads) {
  const std::string base = "run " + model_.string() + " -p \"Once upon a time\" -n 80 --seed 7 --temp 0.9";
  const Result one = owl_cmd(base + " -t 1");
  const Result two = owl_cmd(base + " -t 2");
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(one.out, two.out);
  const Result greedy1 = owl_cmd("run " + model_.string() + " -p Hello -n 80 --temp 0 -t 1");
  const Result greedy2 = owl_cmd("run " + model_.string() + " -p Hello -n 80 --temp 0 -t 2");
  EXPECT_EQ(greedy1.out, greedy2.out);
}

TEST_F(CliStories, RunMessagesRendersTheConversationAndReplies) {
  const auto conv = scratch_path("conversation.json");
  write_file(conv, R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Once upon a time"}]})");
  const Result r = owl_cmd("run " + model_.string() + " --messages " + conv.string() + " -n 12 --temp 0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_GT(r.out.size(), 1u);
  EXPECT_EQ(r.out.find("Be brief"), std::string::npos) << "the prompt is not echoed: " << r.out;
  write_file(conv, R"({"messages": [5]})");
  EXPECT_EQ(owl_cmd("run " + model_.string() + " --messages " + conv.string()).status, 1);
  EXPECT_EQ(owl_cmd("run " + model_.string() + " --messages /nonexistent.json").status, 1);
}

TEST_F(CliStories, TokenizeLogitsInfo) {
  const Result tok = owl_cmd("tokenize -m " + model_.string() + " Zoo");
  ASSERT_EQ(tok.status, 0) << tok.err;
  EXPECT_EQ(tok.out, "1 410 469 347\n");
  EXPECT_EQ(owl_cmd("tokenize -m " + model_.string() + " --no-bos Zoo").out, "410 469 347\n");

  const Result last = owl_cmd("logits -m " + model_.string() + " --tokens 1,410,469");
  ASSERT_EQ(last.status, 0) << last.err;
  const auto jl = nlohmann::json::parse(last.out);
  ASSERT_EQ(jl["logits"].size(), 512u);
  const Result all = owl_cmd("logits " + model_.string() + " --tokens 1,410,469 --all");
  const auto ja = nlohmann::json::parse(all.out);
  ASSERT_EQ(ja["logits"].size(), 3u);
  EXPECT_EQ(ja["logits"][2], jl["logits"]);
  EXPECT_EQ(owl_cmd("logits -m " + model_.string() + " --tokens 1,99999").status, 1);

  const Result info = owl_cmd("info -m " + model_.string());
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("architecture:    llama"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("260032"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("context length:  512"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("vocabulary:      512"), std::string::npos) << info.out;
}

TEST_F(CliStories, DumpActivationsWritesEveryNamedIntermediate) {
  const auto dir = scratch_path("acts");
  const Result r = owl_cmd("logits " + model_.string() + " --tokens 1,410,469 --all --dump-activations " + dir.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto index = nlohmann::json::parse(read_file(dir / "index.json"));
  EXPECT_EQ(index.size(), 2u + 5u * 8u + 1u);  // inp_embd, result_norm, result_output + 8 per layer
  const std::string attn = read_file(dir / "attn_norm.4.f32");
  EXPECT_EQ(attn.size(), 3u * 64u * sizeof(float));
  // The inputs of the attention output and FFN down projections (what owl imatrix sums).
  EXPECT_EQ(read_file(dir / "kqv_out.4.f32").size(), 3u * 64u * sizeof(float));
  EXPECT_EQ(read_file(dir / "ffn_gate_par.4.f32").size(), 3u * 172u * sizeof(float));
  // result_output holds exactly the logits printed.
  const std::string raw = read_file(dir / "result_output.f32");
  std::vector<float> dumped(raw.size() / sizeof(float));
  std::memcpy(dumped.data(), raw.data(), raw.size());
  const auto printed = nlohmann::json::parse(r.out)["logits"];
  ASSERT_EQ(dumped.size(), 3u * 512u);
  for (size_t t = 0; t < 3; ++t) {
    for (size_t v = 0; v < 512; v += 97) EXPECT_EQ(dumped[t * 512 + v], printed[t][v].get<float>());
  }
}

TEST_F(CliStories, QuantizeWritesALoadableModelWithProgress) {
  const auto out = test_scratch_dir() / "cli-q4_0.gguf";
  const Result q = owl_cmd("quantize " + model_.string() + " " + out.string() + " --type q4_0 -t 2");
  ASSERT_EQ(q.status, 0) << q.err;
  EXPECT_NE(q.err.find("[47/47]"), std::string::npos) << q.err;
  const auto model = owl::Model::load(out.string());
  EXPECT_EQ(model->weights().layers[0].attn_q.type, owl::DType::q4_0);
  EXPECT_EQ(model->file().tensor("blk.0.attn_norm.weight").type, owl::DType::f32);
  EXPECT_EQ(model->file().tensor("blk.0.ffn_down.weight").type, owl::DType::f16);  // 172 columns: no q4_0 block fit
  const Result r = owl_cmd("run -m " + out.string() + " -p Zoo -n 10 --temp 0");
  EXPECT_EQ(r.status, 0) << r.err;
}

// Gemma 3's layers differ: local (sliding-window) layers at base 10000, global ones at the file's base
// with linear scaling. info shows both.
TEST(CliInfo, ShowsTheRopeOfGlobalAndLocalLayers) {
  OWL_REQUIRE_FIXTURE(model, "archs/gemma3.gguf");
  const OwlResult r = run_owl("info " + model.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("rope:            base 1000000, linear scale 0.125 (global layers); base 10000 (local layers)"),
            std::string::npos) << r.out;
  const auto llama = fixtures / "archs" / "llama.gguf";
  EXPECT_NE(run_owl("info " + llama.string()).out.find("rope:            base 10000; "), std::string::npos);
}

}  // namespace
