// The grammar that makes a reply one or more calls of the given tools, in the model's own format,
// with arguments valid against each tool's parameter schema: what tool_choice "required" or a
// named function asks for.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chat/tool_calls.h"

namespace owl {

// tools: OpenAI's list ({"type": "function", "function": {"name", "parameters"}}). only: a tool name
// (empty: any of them). parallel: several calls may follow each other. Throws owl::Error naming
// the tool when its parameters are not a schema owl can enforce, or when `only` is not a tool.
// Markers that are control tokens ([TOOL_CALLS], <|python_tag|>) cannot be forced; the JSON that
// follows them is, and the parser reads it without them.
std::string tool_call_gbnf(chat::ToolCallFormat format, const nlohmann::ordered_json& tools, const std::string& only,
                           bool parallel);

}  // namespace owl
