// The command line's error messages say what is wrong and where to look: an unknown command, an unknown
// option (pointing to that command's --help), values that are not numbers or out of range, seeds
// beyond 64 bits, -n below -1; a repeated option takes its last value; -t is accepted everywhere a
// model is read; output that cannot be written is an error; --version names the commit and kernels.
// Uses owl's own model (no fixtures).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "run_owl.h"

namespace {


void expect_error(const std::string& args, const std::string& says) {
  const OwlResult r = run_owl(args);
  EXPECT_EQ(r.status, 1) << args;
  EXPECT_EQ(count_lines(r.err), 1u) << args << ": " << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << args << ": " << r.err;
}

TEST(CliErrors, SayWhatIsWrong) {
  expect_error("frobnicate", "unknown command 'frobnicate' (owl --help lists the commands)");
  expect_error("run -m " + kStoriesModel + " --bogus", "(see owl run --help)");
  expect_error("run -m " + kStoriesModel + " -p hi --temp abc", "'abc' is not a number");
  expect_error("run -m " + kStoriesModel + " -p hi --top-k -3", "-3 is not a whole number in [0, 1073741824]");
  expect_error("run -m " + kStoriesModel + " -p hi --top-p 2", "2 is not in [0, 1]");
  expect_error("run -m " + kStoriesModel + " -p hi -n -5", "-5 is not a whole number in [-1, 1073741824]");
  expect_error("run -m " + kStoriesModel + " -p hi -s 99999999999999999999", "99999999999999999999 is not a whole number");
  expect_error("tokenize -m " + kStoriesModel, "text is required (see owl tokenize --help)");
  const std::string readme = (std::filesystem::path(OWL_SOURCE_DIR) / "README.md").string();
  expect_error("tokenize -m " + readme + " hi", "neither a model (GGUF) nor a tokenizer file owl reads");
}

TEST(CliErrors, RepeatedOptionsTakeTheLastAndEveryModelCommandTakesThreads) {
  const OwlResult r = run_owl("run -m " + kStoriesModel + " -p \"Once upon a time\" -n 50 -n 3 --temp 0 --json -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"generated_tokens\":3"), std::string::npos) << r.out;
  for (const std::string& cmd : {"info " + kStoriesModel, "tokenize " + kStoriesModel + " hello", "detokenize -m " + kStoriesModel + " 1 2"}) {
    const OwlResult t = run_owl(cmd + " -t 2");
    EXPECT_EQ(t.status, 0) << cmd << ": " << t.err;
  }
}

// Progress that rewrites a line in place belongs on a terminal: into a file, inspect --stats writes none.
TEST(CliErrors, NoCarriageReturnsIntoFiles) {
  const OwlResult r = run_owl("inspect " + kStoriesModel + " --stats -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
}

// tokenize and logits -p show what run feeds the model: no BOS when the file says add_bos_token = false.
TEST(CliErrors, TokenizeAndLogitsFollowAddBosToken) {
  const auto base = owl::gguf::File::open(kStoriesModel);
  auto w = owl::gguf::Writer::from(*base);
  w.set("tokenizer.ggml.add_bos_token", {false});
  const std::string no_bos = scratch_path("owl-stories-no-bos.gguf").string();
  w.write(no_bos);
  const OwlResult with = run_owl("tokenize " + kStoriesModel + " \"Once upon\""), without = run_owl("tokenize " + no_bos + " \"Once upon\"");
  ASSERT_EQ(with.status, 0) << with.err;
  ASSERT_EQ(without.status, 0) << without.err;
  EXPECT_EQ(with.out.rfind("1 ", 0), 0u) << with.out;  // BOS is 1
  EXPECT_EQ(with.out.substr(2), without.out);
  const OwlResult logits = run_owl("logits " + no_bos + " -p \"Once upon\" --all -t 2");
  ASSERT_EQ(logits.status, 0) << logits.err;
  const size_t n_tokens = static_cast<size_t>(std::count(without.out.begin(), without.out.end(), ' ')) + 1;
  EXPECT_EQ(nlohmann::json::parse(logits.out)["logits"].size(), n_tokens);
}

// A full disk under stdout: exit 1 with the reason, not 0 with half the output.
TEST(CliErrors, OutputThatCannotBeWrittenIsAnError) {
  for (const std::string& args : {"tokenize " + kStoriesModel + " \"Once upon a time\"", "info " + kStoriesModel,
                                 "run -m " + kStoriesModel + " -p hi -n 8 --temp 0"}) {
    const auto err = scratch_path("dev-full.err");
    const int raw = std::system((std::string(OWL_BINARY) + " " + args + " >/dev/full 2>" + err.string()).c_str());
    EXPECT_EQ(WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, 1) << args;
    EXPECT_NE(read_file(err).find("writing the output failed"), std::string::npos)
        << args << ": " << read_file(err);
  }
}

TEST(CliErrors, VersionNamesTheCommitAndTheKernels) {
  const OwlResult r = run_owl("--version");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("owl 0.1.0 (commit ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("kernels built: ref, avx2, avx512; this CPU: "), std::string::npos) << r.out;
  const auto head = scratch_path("git-head.txt");
  if (std::system(("git -C " + std::string(OWL_SOURCE_DIR) + " rev-parse --short=12 HEAD >" + head.string() + " 2>/dev/null").c_str()) == 0) {
    const std::string commit = read_file(head).substr(0, 12);
    EXPECT_NE(r.out.find("(commit " + commit), std::string::npos) << r.out << " vs " << commit;
  }
}

}  // namespace
