// owl convert and the commands on model directories, end to end: GGUF -> HF -> MLX -> GGUF with
// stories260K generates the same greedy text at every step (MLX 8-bit holds exact float32
// weights), progress goes to stderr as plain lines off a terminal, and bad requests are one line.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "models/model_fixtures.h"
#include "run_owl.h"
#include "test_files.h"

namespace {

TEST(ConvertCli, EveryFormatGeneratesTheSameText) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const std::string gguf = stories260k_gguf(fixtures, owl::DType::f32).string();
  const std::string hf = scratch_path("cli-hf").string(), mlx = scratch_path("cli-mlx8").string();
  const std::string back = scratch_path("cli-back.gguf").string();
  auto run = [](const std::string& model) {
    const OwlResult r = run_owl("run -m " + model + " -p \"Once upon a time\" -n 24 --temp 0");
    EXPECT_EQ(r.status, 0) << model << ": " << r.err;
    return r.out;
  };
  const std::string want = run(gguf);
  ASSERT_FALSE(want.empty());

  OwlResult r = run_owl("convert " + gguf + " " + hf);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("convert: 100%"), std::string::npos) << r.err;  // plain progress lines off a terminal
  EXPECT_NE(r.err.find("with the tokenizer"), std::string::npos) << r.err;
  EXPECT_EQ(run(hf), want);

  r = run_owl("convert " + hf + " " + mlx + " --bits 8 --group-size 32 --type f16");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run(mlx), want);

  r = run_owl("convert " + mlx + " " + back);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run(back), want);

  r = run_owl("info " + mlx);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("MLX directory"), std::string::npos) << r.out;
  r = run_owl("inspect " + hf + " --json");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"format\": \"hf\""), std::string::npos) << r.out;
}

TEST(ConvertCli, RefusalsAreOneLine) {
  OWL_REQUIRE_FIXTURE(dir, "hf-archs/llama");
  const std::string gguf = (fixtures / "archs" / "llama.gguf").string();
  for (const std::string& args : {"convert " + gguf + " " + gguf, "convert " + dir.string() + " " + dir.string() + "/x.gguf",
                                  "convert " + gguf + " " + scratch_path("o").string() + " --bits 7",
                                  "convert " + gguf + " " + scratch_path("o.gguf").string() + " --bits 4 --to gguf",
                                  "convert " + gguf + " " + scratch_path("o2").string() + " --to hf --type q4_0",
                                  "convert /nonexistent/model " + scratch_path("o3.gguf").string()}) {
    const OwlResult r = run_owl(args);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
  }
}

}  // namespace
