// owl chat as a user runs it: in a pseudo-terminal (two turns, /clear, /bye) and with input piped
// in (one reply per line), on the stories260K model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "models/model_fixtures.h"
#include "pty_session.h"
#include "test_files.h"

namespace {

TEST(ChatCli, TwoTurnsClearAndByeInATerminal) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto model = stories260k_gguf(fixtures, owl::DType::f32);
  ::setenv("OWL_STATE_DIR", scratch_path("state").c_str(), 1);
  Pty chat({OWL_BINARY, "chat", model.string(), "--temp", "0", "-n", "16", "-t", "1"});
  ASSERT_TRUE(chat.ok());
  ASSERT_NE(chat.read_until("> ").find("> "), std::string::npos) << "no prompt";
  chat.type("Once upon a time\n");
  const std::string first = chat.read_until("> ");
  EXPECT_GT(first.size(), std::string("Once upon a time\r\n> ").size()) << first;
  chat.type("/clear\n");
  EXPECT_NE(chat.read_until("> ").find("conversation cleared"), std::string::npos);
  chat.type("Once upon a time\n");
  const std::string again = chat.read_until("> ");
  EXPECT_EQ(again, first) << "after /clear the same message must get the same greedy reply";
  chat.type("The cat\n");
  EXPECT_NE(chat.read_until("> ").find("> "), std::string::npos);
  chat.type("/bye\n");
  EXPECT_EQ(chat.wait_exit(), 0) << chat.seen();
}

TEST(ChatCli, PipedInputGetsOneReplyPerLine) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto model = stories260k_gguf(fixtures, owl::DType::f32);
  const auto in = scratch_path("chat-in.txt");
  const auto out = scratch_path("chat-out.txt");
  write_file(in, "Hello\nOnce upon a time\n/save " + scratch_path("saved.json").string() + "\n");
  const std::string cmd = std::string(OWL_BINARY) + " chat " + model.string() + " --temp 0 -n 12 -t 1 <" +
                          in.string() + " >" + out.string() + " 2>/dev/null";
  ::setenv("OWL_STATE_DIR", scratch_path("state").c_str(), 1);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string text = read_file(out);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n') >= 2, true) << text;
  const auto saved = nlohmann::json::parse(read_file(scratch_path("saved.json")));
  ASSERT_EQ(saved["messages"].size(), 4u);
  EXPECT_EQ(saved["messages"][0]["content"], "Hello");
  EXPECT_EQ(saved["messages"][1]["role"], "assistant");
}

}  // namespace
