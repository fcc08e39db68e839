#include "server/tool_requests.h"

#include "base/error.h"
#include "engine/tool_grammar.h"
#include "server/http_error.h"

namespace owl::server {

namespace {

void check_tools(const Json& tools) {
  for (const Json& t : tools) {
    const Json* f = t.is_object() && t.contains("function") ? &t["function"] : nullptr;
    if (f == nullptr || !f->is_object() || !f->contains("name") || !(*f)["name"].is_string()) {
      bad_request("every tool needs {\"type\": \"function\", \"function\": {\"name\": ...}}", "tools");
    }
  }
}

}  // namespace

ToolRequest openai_tool_request(const Fields& f) {
  ToolRequest r;
  if (const Json* tools = f.array("tools"); tools != nullptr && !tools->empty()) {
    check_tools(*tools);
    r.tools = *tools;
  }
  r.parallel = f.boolean("parallel_tool_calls").value_or(true);
  const Json* choice = f.raw("tool_choice");
  std::string mode = "auto";
  if (choice != nullptr && choice->is_string()) {
    mode = choice->get<std::string>();
    if (mode != "auto" && mode != "none" && mode != "required") {
      bad_request("'tool_choice' must be auto, none, required or {\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice");
    }
  } else if (choice != nullptr) {
    const Fields c(*choice, "tool_choice.");
    const Json* fn = c.object("function");
    const auto name = fn != nullptr ? Fields(*fn, "tool_choice.function.").string("name") : std::nullopt;
    if (!name) bad_request("'tool_choice.function.name' is required", "tool_choice");
    mode = "required";
    r.only = *name;
  }
  if (r.tools.is_null()) {
    if (mode == "required") bad_request("'tool_choice' asks for a call but there are no 'tools'", "tool_choice");
    return r;
  }
  r.parse_calls = mode != "none";
  r.force = mode == "required";
  return r;
}

ToolRequest ollama_tool_request(const Fields& f) {
  ToolRequest r;
  if (const Json* tools = f.array("tools"); tools != nullptr && !tools->empty()) {
    check_tools(*tools);
    r.tools = *tools;
    r.parse_calls = true;
  }
  return r;
}

void prepare_tools(ToolRequest& tools, SamplingParams& sampling, bool has_other_grammar, const LoadedModel& model) {
  tools.format = chat::detect_tool_call_format(model.chat_template().source);
  if (!tools.force) return;
  if (has_other_grammar) bad_request("a forced tool call cannot be combined with response_format or a grammar", "tool_choice");
  try {
    sampling.grammar = model.compile_grammar(tool_call_gbnf(tools.format, tools.tools, tools.only, tools.parallel));
  } catch (const Error& e) {
    bad_request(e.what(), "tool_choice");
  }
}

Json messages_for_template(const Json& messages, const LoadedModel& model) {
  const std::string& source = model.chat_template().source;
  // Templates that serialize arguments themselves (| tojson, | items) want an object; those that
  // concatenate them (Functionary v3.2) want the text.
  const bool wants_object = source.find("arguments | tojson") != std::string::npos ||
                            source.find("arguments|tojson") != std::string::npos ||
                            source.find("arguments | items") != std::string::npos ||
                            source.find("arguments|items") != std::string::npos ||
                            source.find("arguments.items()") != std::string::npos;
  Json out = messages;
  for (Json& m : out) {
    if (!m.is_object() || !m.contains("tool_calls") || !m["tool_calls"].is_array()) continue;
    if (!m.contains("content") || m["content"].is_null()) m["content"] = "";
    for (Json& call : m["tool_calls"]) {
      if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
      Json& args = call["function"]["arguments"];
      if (wants_object && args.is_string()) {
        Json parsed = Json::parse(args.get<std::string>(), nullptr, false);
        if (!parsed.is_discarded()) args = std::move(parsed);
      } else if (!wants_object && args.is_object()) {
        args = args.dump();
      }
    }
  }
  return out;
}

std::string marked_text(const Tokenizer& tokenizer, const JobEvent& event, chat::ToolCallFormat format) {
  if (event.token >= 0 && tokenizer.token_type(event.token) == TokenType::control) {
    const std::string_view piece = tokenizer.piece(event.token);
    for (std::string_view marker : chat::tool_call_markers(format)) {
      if (piece == marker) return std::string(piece) + event.text;
    }
  }
  return event.text;
}

chat::ParsedReply parse_reply(const Tokenizer& tokenizer, const std::vector<JobEvent>& tokens, chat::ToolCallFormat format) {
  std::string text;
  for (const JobEvent& ev : tokens) text += marked_text(tokenizer, ev, format);
  return chat::parse_tool_calls(format, text);
}

Json openai_tool_calls(const std::vector<chat::ToolCall>& calls) {
  Json out = Json::array();
  for (const chat::ToolCall& c : calls) {
    out.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  }
  return out;
}

Json ollama_tool_calls(const std::vector<chat::ToolCall>& calls) {
  Json out = Json::array();
  for (const chat::ToolCall& c : calls) {
    Json args = Json::parse(c.arguments, nullptr, false);
    if (args.is_discarded()) args = Json::object();
    out.push_back({{"function", {{"name", c.name}, {"arguments", std::move(args)}}}});
  }
  return out;
}

}  // namespace owl::server
