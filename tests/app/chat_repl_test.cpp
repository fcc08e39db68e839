// owl chat as people use it, on owl's own story model (no fixtures): in a pseudo-terminal (Ctrl-C
// stops a reply and keeps the conversation, Ctrl-C at an empty prompt and Ctrl-D leave, history
// across sessions, /set, /show, """ messages), and piped (exactly one line per message, escaped or
// JSON, error lines, the context shift).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pty_session.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;


std::vector<std::string> chat_args(std::vector<std::string> extra) {
  std::vector<std::string> args = {OWL_BINARY, "chat", "-m", kStoriesModel, "-t", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

json saved_messages(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in)["messages"];
}

TEST(ChatRepl, CtrlCStopsAReplyAndKeepsTheConversation) {
  ::setenv("OWL_STATE_DIR", scratch_path("repl-state-1").c_str(), 1);
  // A grammar that never lets the reply end, and room for thousands of tokens: only Ctrl-C stops it.
  const fs::path endless = write_scratch("endless.gbnf", "root ::= [a-z]+ \" \" root\n");
  Pty chat(chat_args({"-c", "32768", "-n", "32000", "--grammar", endless.string()}));
  ASSERT_TRUE(chat.ok());
  ASSERT_NE(chat.read_until(">>> ").find(">>> "), std::string::npos) << "no prompt";
  chat.type("Tell me a story\r");
  EXPECT_GT(chat.read_until("", 700).size(), 20u) << "the reply should be under way";
  chat.type("\x03");
  const std::string back = chat.read_until(">>> ", 3000);  // the whole reply would take many seconds
  ASSERT_NE(back.find(">>> "), std::string::npos) << "Ctrl-C must return to the prompt: " << chat.seen();
  const fs::path saved = scratch_path("interrupted.json");
  chat.type("/save " + saved.string() + "\r");
  EXPECT_NE(chat.read_until(">>> ").find("saved 2 messages"), std::string::npos) << chat.seen();
  const json messages = saved_messages(saved);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]["content"], "Tell me a story");
  EXPECT_EQ(messages[1]["role"], "assistant");
  EXPECT_GT(messages[1]["content"].get<std::string>().size(), 10u) << "the reply so far is kept";
  // The conversation goes on from there.
  chat.type("/set num_predict 6\r");
  chat.read_until(">>> ");
  chat.type("And then?\r");
  chat.read_until(">>> ");
  chat.type("/save " + saved.string() + "\r");
  chat.read_until(">>> ");
  EXPECT_EQ(saved_messages(saved).size(), 4u);
  chat.type("\x04");  // Ctrl-D at an empty prompt
  EXPECT_EQ(chat.wait_exit(), 0) << chat.seen();
}

TEST(ChatRepl, CtrlCAtAnEmptyPromptLeavesAndAbandonsATypedLineOtherwise) {
  ::setenv("OWL_STATE_DIR", scratch_path("repl-state-2").c_str(), 1);
  Pty chat(chat_args({"--temp", "0", "-n", "4"}));
  ASSERT_TRUE(chat.ok());
  chat.read_until(">>> ");
  chat.type("half a line");
  chat.read_until("half a line");
  chat.type("\x03");  // abandons the line, stays
  EXPECT_NE(chat.read_until(">>> ").find(">>> "), std::string::npos) << chat.seen();
  chat.type("\x03");  // at an empty prompt: leaves, on a fresh line
  EXPECT_EQ(chat.wait_exit(), 0) << chat.seen();
  EXPECT_TRUE(chat.seen().ends_with("\n")) << chat.seen();
}

TEST(ChatRepl, HistoryIsKeptAcrossSessions) {
  const fs::path state = scratch_path("repl-state-3");
  fs::remove_all(state);
  ::setenv("OWL_STATE_DIR", state.c_str(), 1);
  {
    Pty chat(chat_args({"--temp", "0", "-n", "4", "--system", "You tell stories."}));
    chat.read_until(">>> ");
    chat.type("/show system\r");
    EXPECT_NE(chat.read_until(">>> ").find("You tell stories."), std::string::npos) << chat.seen();
    chat.type("/bye\r");
    EXPECT_EQ(chat.wait_exit(), 0) << chat.seen();
  }
  ASSERT_TRUE(fs::exists(state / "chat_history"));
  Pty chat(chat_args({"--temp", "0", "-n", "4", "--system", "Short ones."}));
  chat.read_until(">>> ");
  chat.type("\x1b[A\x1b[A\r");  // up, up: the line before /bye in the previous session
  EXPECT_NE(chat.read_until("Short ones.\r\n>>> ").find("Short ones."), std::string::npos) << chat.seen();
  chat.type("\x04");
  EXPECT_EQ(chat.wait_exit(), 0) << chat.seen();
}

TEST(ChatRepl, SetShowAndMessagesOfSeveralLines) {
  ::setenv("OWL_STATE_DIR", scratch_path("repl-state-4").c_str(), 1);
  Pty chat(chat_args({"-n", "4"}));
  chat.read_until(">>> ");
  chat.type("/set temperature 0\r");
  EXPECT_NE(chat.read_until(">>> ").find("(temperature set to 0)"), std::string::npos) << chat.seen();
  chat.type("/set parameter seed 5\r");  // Ollama's spelling
  chat.read_until(">>> ");
  chat.type("/set top_k many\r");
  EXPECT_NE(chat.read_until(">>> ").find("'many' is not a whole number"), std::string::npos) << chat.seen();
  chat.type("/set top_p 7\r");
  EXPECT_NE(chat.read_until(">>> ").find("/set top_p: 7 is not in [0, 1]"), std::string::npos) << chat.seen();
  chat.type("/show parameters\r");
  const std::string shown = chat.read_until("context shift   on\r\n>>> ");
  EXPECT_NE(shown.find("temperature     0"), std::string::npos) << shown;
  EXPECT_NE(shown.find("seed            5"), std::string::npos) << shown;
  EXPECT_NE(shown.find("top_p           0.95"), std::string::npos) << "a refused value changes nothing: " << shown;
  chat.type("/show info\r");
  EXPECT_NE(chat.read_until(">>> ").find("architecture    llama"), std::string::npos) << chat.seen();
  chat.type("/show license\r");
  EXPECT_NE(chat.read_until(">>> ").find("license: "), std::string::npos) << chat.seen();
  chat.type("/help\r");
  EXPECT_NE(chat.read_until(">>> ").find("/set PARAMETER VALUE"), std::string::npos) << chat.seen();
  chat.type("\"\"\"First line\r");
  chat.read_until("... ");
  chat.type("second line\"\"\"\r");
  chat.read_until(">>> ");
  chat.type("héllo wörld 日本\r");  // typed in UTF-8, whatever the locale
  chat.read_until(">>> ");
  chat.type("one \\\r");
  chat.read_until("... ");
  chat.type("two\r");
  chat.read_until(">>> ");
  const fs::path saved = scratch_path("several-lines.json");
  chat.type("/save " + saved.string() + "\r");
  chat.read_until(">>> ");
  const json messages = saved_messages(saved);
  ASSERT_EQ(messages.size(), 6u);
  EXPECT_EQ(messages[0]["content"], "First line\nsecond line");
  EXPECT_EQ(messages[2]["content"], "héllo wörld 日本");
  EXPECT_EQ(messages[4]["content"], "one \ntwo");
  chat.type("/bye\r");
  EXPECT_EQ(chat.wait_exit(), 0) << chat.seen();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ChatPiped, ExactlyOneLinePerMessageEscapedOrJson) {
  ::setenv("OWL_STATE_DIR", scratch_path("piped-state").c_str(), 1);
  // A grammar whose every reply has a line break, to see it escaped.
  const fs::path two_lines = write_scratch("two-lines.gbnf", "root ::= \"Once\\nupon \\\\ a time\"\n");
  const fs::path in = write_scratch("piped-in.txt", "Hello\n\nfirst \\\ncontinued\n/show system\n/set top_k x\nBye\n");
  const auto out = scratch_path("piped-out.txt");
  const std::string cmd = std::string(OWL_BINARY) + " chat -m " + kStoriesModel + " -t 1 --temp 0 -n 16 --grammar " +
                          two_lines.string() + " <" + in.string() + " >" + out.string() + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::vector<std::string> lines = lines_of(read_file(out));
  // Hello, the empty line, the continued message, /show system, /set (refused), Bye.
  ASSERT_EQ(lines.size(), 6u) << read_file(out);
  EXPECT_EQ(lines[0], "Once\\nupon \\\\ a time");
  EXPECT_EQ(lines[1], "error: empty message");
  EXPECT_EQ(lines[2], lines[0]);
  EXPECT_EQ(lines[3], "(no system prompt)");
  EXPECT_TRUE(lines[4].starts_with("error: /set top_k: 'x' is not a whole number")) << lines[4];
  EXPECT_EQ(lines[5], lines[0]);

  const std::string json_cmd = std::string(OWL_BINARY) + " chat --json -m " + kStoriesModel + " -t 1 --temp 0 -n 16 --grammar " +
                               two_lines.string() + " <" + in.string() + " >" + out.string() + " 2>/dev/null";
  ASSERT_EQ(std::system(json_cmd.c_str()), 0);
  const std::vector<std::string> objects = lines_of(read_file(out));
  ASSERT_EQ(objects.size(), 6u) << read_file(out);
  EXPECT_EQ(json::parse(objects[0])["content"], "Once\nupon \\ a time");
  EXPECT_EQ(json::parse(objects[0])["role"], "assistant");
  EXPECT_EQ(json::parse(objects[1])["error"], "empty message");
  EXPECT_EQ(json::parse(objects[3])["result"], "(no system prompt)");
  EXPECT_TRUE(json::parse(objects[4]).contains("error"));
}

TEST(ChatPiped, TheContextShiftDropsTheOldestTurnsOrTheTurnIsRefused) {
  ::setenv("OWL_STATE_DIR", scratch_path("piped-state").c_str(), 1);
  std::string many;
  for (int i = 0; i < 10; ++i) many += "Tell me about the little owl number " + std::to_string(i) + " and the fox\n";
  const fs::path in = write_scratch("many-in.txt", many);
  const auto out = scratch_path("many-out.txt");
  const auto err = scratch_path("many-err.txt");
  const std::string base = std::string(OWL_BINARY) + " chat -m " + kStoriesModel + " -t 1 --temp 0 -n 24 -c 160 --system 'Be brief.'";
  ASSERT_EQ(std::system((base + " <" + in.string() + " >" + out.string() + " 2>" + err.string()).c_str()), 0);
  std::vector<std::string> lines = lines_of(read_file(out));
  ASSERT_EQ(lines.size(), 10u) << read_file(out);
  for (const auto& line : lines) EXPECT_FALSE(line.starts_with("error:")) << line;
  EXPECT_NE(read_file(err).find("oldest messages were dropped"), std::string::npos) << read_file(err);

  ASSERT_EQ(std::system((base + " --no-context-shift <" + in.string() + " >" + out.string() + " 2>/dev/null").c_str()), 0);
  lines = lines_of(read_file(out));
  ASSERT_EQ(lines.size(), 10u) << read_file(out);
  const auto refused = std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.starts_with("error: the context is full"); });
  EXPECT_GT(refused, 0) << read_file(out);
}

}  // namespace
