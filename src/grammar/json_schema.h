// JSON and JSON Schema as grammars: what `--json`, `--json-schema`, OpenAI's response_format and
// Ollama's format ask for. The converter writes GBNF (readable, and checked by the same parser as
// a user's grammar); a keyword it cannot honour is an error that names it and where it is, never
// silently dropped. docs/structured-output.md lists what each keyword becomes.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace owl::grammar {

// Any JSON object (JSON mode: OpenAI's json_object, Ollama's "format": "json").
std::string json_object_gbnf();

// The grammar of the JSON texts that validate against schema. Throws owl::Error naming the
// keyword and its JSON pointer for anything unsupported or contradictory. Properties come in the
// schema's order (hence an ordered JSON value).
std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema);

// A regular expression (the subset JSON Schema's pattern uses in practice: literals, ., classes,
// \d \w \s and their negations, groups, |, * + ? {m,n}, ^ $) as a GBNF expression over the
// characters of a JSON string's body (quotes and backslashes written escaped). Throws owl::Error
// naming what is unsupported (look-around, back-references, ...).
std::string regex_to_gbnf(const std::string& pattern);

}  // namespace owl::grammar
