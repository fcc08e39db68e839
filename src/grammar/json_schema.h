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
// The same as a part of a larger grammar: the rule root_rule and the rules it needs (named after
// it), without JSON's base rules (json_base_rules(), to be added once).
std::string json_schema_rules(const nlohmann::ordered_json& schema, const std::string& root_rule);
// Rules every JSON grammar gets: ws, value, object, array, string, string-char, number,
// integer, boolean, null (and their helpers). Lengths of numbers and whitespace runs are bounded
// (16 digits; between tokens one space, or a newline and at most 40 blanks of indentation: twenty
// levels of pretty-printing, where llama.cpp stops at 20 blanks), so that a generation always ends.
std::string json_base_rules();

// A regular expression (the subset JSON Schema's pattern uses in practice: literals, ., classes,
// \d \w \s and their negations, groups, |, * + ? {m,n}, ^ $) as a GBNF expression over the
// characters of a JSON string's body (quotes and backslashes written escaped). Throws owl::Error
// naming what is unsupported (look-around, back-references, ...).
std::string regex_to_gbnf(const std::string& pattern);

}  // namespace owl::grammar
