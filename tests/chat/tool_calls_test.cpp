// Tool calls read back from replies: each format detected from its official template, and the
// calls those very templates write (an assistant turn with tool_calls, rendered) parsed back into
// the same names and arguments; hand-recorded replies of each format; streaming that never leaks
// call markup into the content.

#include "chat/tool_calls.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "chat/conversation.h"
#include "chat/template.h"
#include "fixtures.h"

namespace owl::chat {
namespace {

using ordered = nlohmann::ordered_json;

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The text a template writes for one assistant turn holding two calls (arguments given as objects,
// or as JSON strings for templates that concatenate them).
std::string rendered_calls(const std::string& source, bool arguments_as_text, bool two_calls) {
  const ordered args1 = {{"location", "Paris"}, {"unit", "celsius"}};
  const ordered args2 = {{"query", "owls \"at night\""}};
  auto call = [&](const char* id, const char* name, const ordered& a) {
    return ordered{{"id", id}, {"type", "function"},
                   {"function", {{"name", name}, {"arguments", arguments_as_text ? ordered(a.dump()) : a}}}};
  };
  const ordered user = {{"role", "user"}, {"content", "Weather in Paris, and search owls"}};
  ordered assistant = {{"role", "assistant"}, {"content", ""},
                             {"tool_calls", ordered::array({call("abcdefghi", "get_weather", args1)})}};
  if (two_calls) assistant["tool_calls"].push_back(call("jklmnopqr", "search", args2));
  auto tool = [](const char* name) {
    return ordered{{"type", "function"},
                   {"function", {{"name", name}, {"description", "a tool"}, {"parameters", {{"type", "object"}, {"properties", ordered::object()}}}}}};
  };
  const ordered tools = ordered::array({tool("get_weather"), tool("search")});
  const Template t(source, "test");
  ConversationOptions before;
  before.tools = tools;
  before.bos_token = "<s>";
  before.eos_token = "</s>";
  ConversationOptions after = before;
  after.add_generation_prompt = false;
  const std::string prompt = render_conversation(t, ordered::array({user}), before);
  std::string full = render_conversation(t, ordered::array({user, assistant}), after);
  size_t common = 0;
  while (common < prompt.size() && common < full.size() && prompt[common] == full[common]) ++common;
  std::string reply = full.substr(common);
  // The turn's end marker is not part of the reply the model generates.
  for (const char* end : {"<|im_end|>", "<|eot_id|>", "<|eom_id|>", "</s>", "<|end|>"}) {
    if (const size_t at = reply.find(end); at != std::string::npos) reply.resize(at);
  }
  return reply;
}

TEST(ToolCalls, TheOfficialTemplatesCallsReadBack) {
  OWL_REQUIRE_FIXTURE(dir, "llamacpp-templates");
  const std::pair<const char*, ToolCallFormat> cases[] = {
      {"Qwen-Qwen2.5-7B-Instruct.jinja", ToolCallFormat::hermes},
      {"Qwen-Qwen3-0.6B.jinja", ToolCallFormat::hermes},
      {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", ToolCallFormat::hermes},
      {"meta-llama-Llama-3.1-8B-Instruct.jinja", ToolCallFormat::llama3},
      {"meta-llama-Llama-3.2-3B-Instruct.jinja", ToolCallFormat::llama3},
      {"mistralai-Mistral-Nemo-Instruct-2407.jinja", ToolCallFormat::mistral},
      {"Mistral-Small-3.2-24B-Instruct-2506.jinja", ToolCallFormat::mistral},
      {"meetkai-functionary-medium-v3.1.jinja", ToolCallFormat::functionary_v31},
      {"meetkai-functionary-medium-v3.2.jinja", ToolCallFormat::functionary_v32},
  };
  for (const auto& [file, format] : cases) {
    const std::string source = read_text(dir / file);
    EXPECT_EQ(detect_tool_call_format(source), format) << file;
    // Llama 3.1's template writes one call per turn.
    const size_t expected = format == ToolCallFormat::llama3 ? 1 : 2;
    std::string reply;
    try {
      reply = rendered_calls(source, false, expected == 2);
    } catch (const std::exception&) {
      try {
        reply = rendered_calls(source, true, expected == 2);  // the template concatenates arguments as text
      } catch (const std::exception& e) {
        ADD_FAILURE() << file << ": " << e.what();
        continue;
      }
    }
    const ParsedReply r = parse_tool_calls(format, reply);
    ASSERT_EQ(r.calls.size(), expected) << file << ":\n" << reply;
    EXPECT_EQ(r.calls[0].name, "get_weather") << file;
    EXPECT_EQ(ordered::parse(r.calls[0].arguments), (ordered{{"location", "Paris"}, {"unit", "celsius"}})) << file;
    if (expected == 2) {
      EXPECT_EQ(r.calls[1].name, "search") << file;
      EXPECT_EQ(ordered::parse(r.calls[1].arguments)["query"], "owls \"at night\"") << file;
    }
    EXPECT_EQ(r.content, "") << file << ":\n" << reply;
    for (const ToolCall& c : r.calls) EXPECT_FALSE(c.id.empty());
  }
}

TEST(ToolCalls, RecordedRepliesOfEachFormat) {
  ParsedReply r = parse_tool_calls(ToolCallFormat::hermes,
                                   "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, "Let me check.");
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Oslo"})");
  r = parse_tool_calls(ToolCallFormat::llama3, "<|python_tag|>{\"name\": \"f\", \"parameters\": {\"x\": 1}}; {\"name\": \"g\", \"parameters\": {}}");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[1].name, "g");
  r = parse_tool_calls(ToolCallFormat::mistral, "[TOOL_CALLS]f[CALL_ID]a1b2c3d4e[ARGS]{\"x\": [1, \"]\"]}[TOOL_CALLS]g[ARGS]{}");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].id, "a1b2c3d4e");
  EXPECT_EQ(r.calls[0].arguments, R"({"x":[1,"]"]})");
  r = parse_tool_calls(ToolCallFormat::mistral, "[{\"name\": \"f\", \"arguments\": {\"y\": true}}]");  // forced, no marker
  ASSERT_EQ(r.calls.size(), 1u);
  r = parse_tool_calls(ToolCallFormat::functionary_v32, "all\nSure, checking.\n>>>get_weather\n{\"city\": \"Rome\"}");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, "Sure, checking.");
  r = parse_tool_calls(ToolCallFormat::generic, R"({"tool_calls": [{"name": "f", "arguments": "{\"a\": 2}"}]})");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"a":2})");
  r = parse_tool_calls(ToolCallFormat::generic, R"({"response": "no call needed"})");
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, "no call needed");
  // What does not parse stays text: nothing is lost.
  for (const auto& [format, text] : std::vector<std::pair<ToolCallFormat, std::string>>{
           {ToolCallFormat::hermes, "<tool_call>{\"name\": \"f\", \"arguments\": {"},
           {ToolCallFormat::llama3, "{\"weather\": \"fine\"}"},
           {ToolCallFormat::mistral, "[TOOL_CALLS]oops"},
           {ToolCallFormat::generic, "plain words"}}) {
    r = parse_tool_calls(format, text);
    EXPECT_TRUE(r.calls.empty()) << text;
    EXPECT_EQ(r.content, text);
  }
}

TEST(ToolCalls, StreamingReleasesTextButNeverCallMarkup) {
  const std::string reply = "I will look it up. <tool_call>\n{\"name\": \"f\", \"arguments\": {\"q\": \"<tool\"}}\n</tool_call>";
  for (size_t step : {1, 2, 5, 13}) {
    ToolCallStream s(ToolCallFormat::hermes);
    std::string released;
    for (size_t i = 0; i < reply.size(); i += step) released += s.feed(reply.substr(i, step));
    const ParsedReply end = s.finish();
    EXPECT_EQ(released + end.content, "I will look it up. ") << step;
    EXPECT_EQ(released.find('<'), std::string::npos) << step;
    ASSERT_EQ(end.calls.size(), 1u);
  }
  // Text that only looks like the start of a marker is released once it is known not to be one.
  ToolCallStream s(ToolCallFormat::hermes);
  EXPECT_EQ(s.feed("a <tool"), "a ");
  EXPECT_EQ(s.feed("box> b"), "<toolbox> b");
  EXPECT_TRUE(s.finish().calls.empty());
  // A JSON-call format holds a reply that starts with "{", and releases one that does not.
  ToolCallStream llama(ToolCallFormat::llama3);
  EXPECT_EQ(llama.feed("  {\"name\": \"f\", "), "");
  EXPECT_EQ(llama.feed("\"parameters\": {}}"), "");
  EXPECT_EQ(llama.finish().calls.size(), 1u);
  ToolCallStream prose(ToolCallFormat::llama3);
  EXPECT_EQ(prose.feed("Hello"), "Hello");
}

}  // namespace
}  // namespace owl::chat
