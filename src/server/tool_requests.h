// Tool calling on both APIs: a request's tools and tool_choice, the conversation as templates read
// it, and a reply's calls in each API's shape.
#pragma once

#include <string>
#include <vector>

#include "chat/tool_calls.h"
#include "engine/job.h"
#include "engine/loaded_model.h"
#include "sampling/sampler.h"
#include "server/json_body.h"

namespace owl::server {

struct ToolRequest {
  Json tools = nullptr;       // the request's list, or null
  bool parse_calls = false;   // tools given and not tool_choice "none": replies are read for calls
  bool force = false;         // tool_choice "required" or a named function: the grammar forces a call
  std::string only;           // the named function
  bool parallel = true;       // parallel_tool_calls
  chat::ToolCallFormat format = chat::ToolCallFormat::generic;  // the model's (set by prepare_tools)
};

// OpenAI: tools, tool_choice ("auto", "none", "required", {"type": "function", "function":
// {"name"}}), parallel_tool_calls. 400 naming the field.
ToolRequest openai_tool_request(const Fields& f);
// Ollama: tools (the model decides, as tool_choice "auto").
ToolRequest ollama_tool_request(const Fields& f);
// The model's call format, and the forcing grammar in sampling when the request asks for a call
// (400 when it also asks for structured output, or a tool's parameters cannot be enforced).
void prepare_tools(ToolRequest& tools, SamplingParams& sampling, bool has_other_grammar, const LoadedModel& model);

// The messages as the model's template expects them: an assistant turn's tool-call arguments as
// objects where the template serializes them itself (as text where it concatenates them), and no
// null content beside tool calls (several templates test it as a string).
Json messages_for_template(const Json& messages, const LoadedModel& model);

// One token's text with the format's control-token markers ([TOOL_CALLS], <|python_tag|>)
// written out: plain detokenization drops them, and the call parser needs them.
std::string marked_text(const Tokenizer& tokenizer, const JobEvent& event, chat::ToolCallFormat format);

// A whole reply (its token events) split into text and calls.
chat::ParsedReply parse_reply(const Tokenizer& tokenizer, const std::vector<JobEvent>& tokens, chat::ToolCallFormat format);

// [{"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}]
Json openai_tool_calls(const std::vector<chat::ToolCall>& calls);
// [{"function": {"name", "arguments": {...}}}]
Json ollama_tool_calls(const std::vector<chat::ToolCall>& calls);

}  // namespace owl::server
