// owl run's everyday flags on owl's own model (no fixtures): --stop, -f FILE, -p - and --messages -
// from stdin, --system, --chat-template-file (also for chat and serve), --json, the warning for a
// context beyond the training one, and the load time in the speed line.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_owl.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kGreedy = "run -m " + kStoriesModel + " -n 24 --temp 0 -t 2 ";

// run_owl with stdin from a file.
OwlResult run_with_stdin(const std::string& args, const fs::path& input) {
  static int counter = 0;
  const auto out = scratch_path("stdin-" + std::to_string(counter) + ".out");
  const auto err = scratch_path("stdin-" + std::to_string(counter++) + ".err");
  const std::string cmd = std::string(OWL_BINARY) + " " + args + " <" + input.string() + " >" + out.string() + " 2>" +
                          err.string();
  const int raw = std::system(cmd.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out), read_file(err)};
}

json run_json(const std::string& args) {
  const OwlResult r = run_owl(kGreedy + args + " --json");
  EXPECT_EQ(r.status, 0) << args << ": " << r.err;
  return r.status == 0 ? json::parse(r.out) : json::object();
}

TEST(RunFlags, JsonStopAndPromptSources) {
  const json plain = run_json("-p \"Once upon a time\"");
  const std::string text = plain["text"];
  EXPECT_EQ(text.rfind(", there was a young panda named Breembie.", 0), 0u) << text;
  EXPECT_EQ(plain["stop_reason"], "length");
  EXPECT_EQ(plain["generated_tokens"], 24);
  EXPECT_EQ(plain["prompt_tokens"], 5);  // BOS + 4
  EXPECT_GE(plain["load_seconds"].get<double>(), 0.0);
  EXPECT_EQ(plain["kv_type"], "f16");

  const json stopped = run_json("-p \"Once upon a time\" --stop \" named\" --stop \"zzz\"");
  EXPECT_EQ(stopped["text"], ", there was a young panda");
  EXPECT_EQ(stopped["stop_reason"], "stop");

  const fs::path prompt = write_scratch("run-prompt.txt", "Once upon a time");
  EXPECT_EQ(run_json("-f " + prompt.string())["text"], text);
  const OwlResult from_stdin = run_with_stdin(kGreedy + "-p - --json", prompt);
  ASSERT_EQ(from_stdin.status, 0) << from_stdin.err;
  EXPECT_EQ(json::parse(from_stdin.out)["text"], text);
  EXPECT_EQ(run_owl(kGreedy + "-p x -f " + prompt.string()).status, 1);  // one prompt, not two
}

TEST(RunFlags, SystemMessagesAndTemplateFile) {
  // --system makes a chat of (system, user): the same as the conversation given as JSON, from stdin too.
  const json with_system = run_json("--system \"You tell stories.\" -p \"Tell me one.\"");
  const json conversation = {{"messages",
                              {{{"role", "system"}, {"content", "You tell stories."}},
                               {{"role", "user"}, {"content", "Tell me one."}}}}};
  const fs::path conv = write_scratch("run-conversation.json", conversation.dump());
  EXPECT_EQ(run_json("--messages " + conv.string())["text"], with_system["text"]);
  const OwlResult piped = run_with_stdin(kGreedy + "--messages - --json", conv);
  ASSERT_EQ(piped.status, 0) << piped.err;
  EXPECT_EQ(json::parse(piped.out)["text"], with_system["text"]);

  // A template that ignores the messages and writes a story opening: the reply continues it exactly as
  // a completion of that text would (a reply would drop a leading space; this one starts with ",").
  const fs::path tmpl = write_scratch("run-template.jinja", "Once upon a time");
  const json templated = run_json("--messages " + conv.string() + " --chat-template-file " + tmpl.string());
  const std::string completion = run_json("-p \"Once upon a time\"")["text"];
  EXPECT_EQ(templated["text"].get<std::string>(), completion);
  EXPECT_NE(templated["text"], with_system["text"]);

  const fs::path bad = write_scratch("run-bad-template.jinja", "{% for m in messages %}{{ m.content }");
  OwlResult r = run_owl(kGreedy + "--messages " + conv.string() + " --chat-template-file " + bad.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(bad.string()), std::string::npos) << r.err;
  r = run_owl(kGreedy + "-p hi --chat-template-file /nonexistent.jinja");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent.jinja"), std::string::npos) << r.err;

  // owl chat takes the same file: a piped turn gets the templated reply.
  const fs::path turn = write_scratch("chat-turn.txt", "hello\n");
  const OwlResult chat = run_with_stdin("chat -m " + kStoriesModel + " -n 24 --temp 0 -t 2 --chat-template-file " + tmpl.string(), turn);
  ASSERT_EQ(chat.status, 0) << chat.err;
  EXPECT_EQ(chat.out, templated["text"].get<std::string>() + "\n");
}

TEST(RunFlags, ContextWarningAndLoadTime) {
  const OwlResult r = run_owl(kGreedy + "-p \"Once upon a time\" -c 1000");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("beyond the 320 tokens the model was trained on"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("load: "), std::string::npos) << r.err;
  const OwlResult quiet = run_owl(kGreedy + "-p \"Once upon a time\" -c 300");
  EXPECT_EQ(quiet.err.find("beyond"), std::string::npos) << quiet.err;
}

}  // namespace
