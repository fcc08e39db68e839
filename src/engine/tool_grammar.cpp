#include "engine/tool_grammar.h"

#include <fmt/format.h>

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/json_schema.h"

namespace owl {

namespace {

using Json = nlohmann::ordered_json;

struct Tool {
  std::string name;
  Json parameters;
};

std::vector<Tool> selected_tools(const Json& tools, const std::string& only) {
  std::vector<Tool> out;
  for (const Json& t : tools) {
    const Json& f = t.contains("function") ? t["function"] : t;
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) fail("tools: every tool needs a function name");
    const std::string name = f["name"].get<std::string>();
    if (!only.empty() && name != only) continue;
    Json params = f.contains("parameters") && !f["parameters"].is_null() ? f["parameters"] : Json{{"type", "object"}};
    out.push_back({name, std::move(params)});
  }
  if (out.empty() && only.empty()) fail("tools: no tool to call");
  if (out.empty()) fail("tool_choice names '{}', which is not among the tools", only);
  return out;
}


std::string rules_of(const Json& schema, const std::string& rule, const std::string& tool) {
  try {
    return grammar::json_schema_rules(schema, rule);
  } catch (const Error& e) {
    fail("tool '{}': {}", tool, e.what());
  }
}

}  // namespace

std::string tool_call_gbnf(chat::ToolCallFormat format, const Json& tools, const std::string& only, bool parallel) {
  const std::vector<Tool> selected = selected_tools(tools, only);
  std::string rules;
  // Calls after the first, when parallel calls are allowed.
  auto more = [parallel](const std::string& next) { return parallel ? " ( " + next + " )*" : std::string(); };
  if (format == chat::ToolCallFormat::functionary_v31 || format == chat::ToolCallFormat::functionary_v32) {
    // The name is outside the JSON: one alternative per tool, each with its own argument rules.
    std::vector<std::string> alts;
    for (size_t i = 0; i < selected.size(); ++i) {
      const std::string args = fmt::format("args-{}", i);
      rules += rules_of(selected[i].parameters, args, selected[i].name);
      alts.push_back(format == chat::ToolCallFormat::functionary_v31
                         ? grammar::gbnf_literal("<function=" + selected[i].name + ">") + " " + args + " " + grammar::gbnf_literal("</function>")
                         : grammar::gbnf_literal(selected[i].name + "\n") + " " + args);
    }
    std::string call = "call ::= " + alts[0];
    for (size_t i = 1; i < alts.size(); ++i) call += " | " + alts[i];
    const std::string root = format == chat::ToolCallFormat::functionary_v31
                                 ? "root ::= call" + more("\"\\n\"? call")
                                 : "root ::= call" + more("\"\\n\"? \">>>\" call");  // the prompt wrote the first >>>
    return root + "\n" + call + "\n" + rules + grammar::json_base_rules();
  }
  // The others write each call as a JSON object with the name inside.
  const std::string args_key = format == chat::ToolCallFormat::llama3 ? "parameters" : "arguments";
  Json any = Json::array();
  for (const Tool& t : selected) {
    any.push_back({{"type", "object"},
                   {"properties", {{"name", {{"const", t.name}}}, {args_key, t.parameters}}},
                   {"required", {"name", args_key}},
                   {"additionalProperties", false}});
  }
  std::string call_rules;
  try {
    call_rules = grammar::json_schema_rules(Json{{"anyOf", any}}, "call");
  } catch (const Error& e) {
    fail("tools: {}", e.what());
  }
  std::string root;
  switch (format) {
    case chat::ToolCallFormat::hermes:
      root = "root ::= \"<tool_call>\\n\" call \"\\n</tool_call>\"" + more("\"\\n<tool_call>\\n\" call \"\\n</tool_call>\"");
      break;
    case chat::ToolCallFormat::mistral:
      root = "root ::= \"[\" call" + more("\", \" call") + " \"]\"";
      break;
    case chat::ToolCallFormat::llama3:
      root = "root ::= call";
      break;
    default:
      root = "root ::= \"{\\\"tool_calls\\\": [\" call" + more("\", \" call") + " \"]}\"";
      break;
  }
  return root + "\n" + call_rules + grammar::json_base_rules();
}

}  // namespace owl
