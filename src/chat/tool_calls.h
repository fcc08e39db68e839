// Tool calls in a model's reply: which format the model writes them in (chosen from its chat
// template, never from its name), and the reply split into its text and its calls, whole or as it
// streams. Control-token markers ([TOOL_CALLS], <|python_tag|>) must be in the text given here (the
// caller spells them out; plain detokenization drops them).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace owl::chat {

enum class ToolCallFormat {
  generic,         // a JSON object: {"tool_calls": [{"name", "arguments"}]}, {"tool_call": ...} or {"name", "arguments"}
  llama3,          // Llama 3.1/3.2: {"name": ..., "parameters": {...}}, optionally after <|python_tag|>
  hermes,          // Hermes 2/3, Qwen 2.5, Qwen 3: <tool_call>{"name", "arguments"}</tool_call>
  mistral,         // [TOOL_CALLS][{"name", "arguments", "id"}] (v3) or [TOOL_CALLS]name[CALL_ID]id[ARGS]{...} (v7)
  functionary_v31, // <function=name>{...}</function>
  functionary_v32, // >>>name\n{...} after the prompt's >>>; ">>>all" introduces text
};

ToolCallFormat detect_tool_call_format(std::string_view template_source);
std::string_view tool_call_format_name(ToolCallFormat format);
// The control-token texts that mark calls in this format (the caller writes them into the text).
std::vector<std::string_view> tool_call_markers(ToolCallFormat format);

struct ToolCall {
  std::string id;         // the model's (Mistral v7) or a new one
  std::string name;
  std::string arguments;  // a JSON object, as text
};

struct ParsedReply {
  std::string content;  // the text outside the calls
  std::vector<ToolCall> calls;
};

// Splits a whole reply. What does not parse as a call stays content; never throws.
ParsedReply parse_tool_calls(ToolCallFormat format, std::string_view text);

// A reply as it streams: text that is certainly content is released at once; from where a call may
// begin (a marker, or part of one at the end; for JSON formats a reply that starts with "{") the
// text is held until the end, then split by parse_tool_calls.
class ToolCallStream {
 public:
  explicit ToolCallStream(ToolCallFormat format) : format_(format) {}
  // Appends generated text; returns the content that can be released now.
  std::string feed(std::string_view text);
  // At the end: the content still held and the calls.
  ParsedReply finish();

 private:
  size_t hold_from() const;  // where held text starts in text_ (npos: nothing to hold)

  ToolCallFormat format_;
  std::string text_;        // everything so far
  size_t released_ = 0;     // bytes of text_ already released as content
};

// A new call id: 9 letters and digits (what Mistral's templates require; fine for every API).
std::string new_tool_call_id();

}  // namespace owl::chat
