// Forced tool calls: for every format, the grammar accepts calls written as the format writes them
// (arguments valid for the tool's schema), refuses invalid arguments, unknown tools and a second
// call when parallel calls are off, and what it accepts parses back into the same call.

#include "engine/tool_grammar.h"

#include <gtest/gtest.h>

#include <memory>

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/recognizer.h"

namespace owl {
namespace {

using ordered = nlohmann::ordered_json;
using chat::ToolCallFormat;

const ordered kTools = ordered::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city"], "additionalProperties": false}}},
  {"type": "function", "function": {"name": "ping"}}])");

bool accepts(const std::string& gbnf, const std::string& text) {
  grammar::Recognizer r(std::make_shared<const grammar::Grammar>(grammar::parse_gbnf(gbnf)));
  const auto s = r.advance(r.start(), text);
  return s != grammar::Recognizer::kDead && r.accepting(s);
}

TEST(ToolGrammar, EachFormatForcesValidCallsThatParseBack) {
  struct Case {
    ToolCallFormat format;
    std::string one;  // a call of get_weather
    std::string two;  // that call, then ping
    std::string bad;  // days out of range
  };
  const Case cases[] = {
      {ToolCallFormat::hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}\n</tool_call>",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 9}}\n</tool_call>"},
      {ToolCallFormat::llama3, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\", \"days\": 3}}", "",
       "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\", \"days\": 0}}"},
      {ToolCallFormat::mistral, "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}]",
       "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}, {\"name\": \"ping\", \"arguments\": {}}]",
       "[{\"name\": \"get_weather\", \"arguments\": {\"town\": \"Oslo\"}}]"},
      {ToolCallFormat::functionary_v31, "<function=get_weather>{\"city\": \"Oslo\", \"days\": 3}</function>",
       "<function=get_weather>{\"city\": \"Oslo\"}</function>\n<function=ping>{}</function>",
       "<function=get_weather>{\"days\": 3}</function>"},
      {ToolCallFormat::functionary_v32, "get_weather\n{\"city\": \"Oslo\", \"days\": 3}",
       "get_weather\n{\"city\": \"Oslo\"}\n>>>ping\n{}", "get_weather\n{\"city\": 5}"},
      {ToolCallFormat::generic, "{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}]}",
       "{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}, {\"name\": \"ping\", \"arguments\": {}}]}",
       "{\"tool_calls\": [{\"name\": \"shout\", \"arguments\": {}}]}"},
  };
  for (const Case& c : cases) {
    const std::string name(chat::tool_call_format_name(c.format));
    const std::string parallel = tool_call_gbnf(c.format, kTools, "", true);
    const std::string single = tool_call_gbnf(c.format, kTools, "", false);
    EXPECT_TRUE(accepts(parallel, c.one)) << name;
    EXPECT_TRUE(accepts(single, c.one)) << name;
    EXPECT_FALSE(accepts(parallel, c.bad)) << name;
    chat::ParsedReply r = chat::parse_tool_calls(c.format, c.one);
    ASSERT_EQ(r.calls.size(), 1u) << name;
    EXPECT_EQ(r.calls[0].name, "get_weather");
    EXPECT_EQ(ordered::parse(r.calls[0].arguments), (ordered{{"city", "Oslo"}, {"days", 3}})) << name;
    if (!c.two.empty()) {
      EXPECT_TRUE(accepts(parallel, c.two)) << name;
      EXPECT_FALSE(accepts(single, c.two)) << name;
      r = chat::parse_tool_calls(c.format, c.two);
      ASSERT_EQ(r.calls.size(), 2u) << name;
      EXPECT_EQ(r.calls[1].name, "ping");
    }
    // Only the named tool.
    EXPECT_FALSE(accepts(tool_call_gbnf(c.format, kTools, "ping", true), c.one)) << name;
  }
  EXPECT_THROW(tool_call_gbnf(ToolCallFormat::hermes, kTools, "launch", true), Error);
  const ordered bad = ordered::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "minProperties": 1}}}])");
  try {
    tool_call_gbnf(ToolCallFormat::hermes, bad, "", true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'minProperties' is not supported"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace owl
