// examples/generate_and_chat.cpp, built against the public API, run as a user would run it: its
// completion must equal `owl run`'s greedy text, and its chat must hold both turns.
#include <gtest/gtest.h>

#include "models/model_fixtures.h"
#include "run_owl.h"

namespace {

TEST(Examples, GenerateAndChatMatchesOwlRun) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const std::string model = stories260k_gguf(fixtures, owl::DType::f32).string();
  const auto out = scratch_path("example.out");
  const int raw = std::system((std::string(OWL_EXAMPLE_BINARY) + " " + model + " >" + out.string() + " 2>&1").c_str());
  ASSERT_EQ(raw, 0) << read_file(out);
  const std::string text = read_file(out);

  const OwlResult ref = run_owl("run -m " + model + " -p 'Once upon a time' -n 64 --temp 0 -t 2 -c 256");
  ASSERT_EQ(ref.status, 0) << ref.err;
  // owl run prints the prompt, the completion and a newline; the example prints the same first.
  ASSERT_FALSE(ref.out.empty());
  EXPECT_EQ(text.substr(0, ref.out.size()), ref.out);
  EXPECT_NE(text.find("> Tell me about a cat.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("> And then?\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[5 messages]"), std::string::npos) << text;  // system, two users, two replies
}

}  // namespace
