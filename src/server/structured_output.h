// Structured output fields of API requests: what grammar a request's sampler must follow.
#pragma once

#include <string>

#include "engine/loaded_model.h"
#include "sampling/sampler.h"
#include "server/json_body.h"

namespace owl::server {

// GBNF text for the request's sampler, empty when none was asked for. OpenAI: response_format
// {"type": "text" | "json_object" | "json_schema", "json_schema": {"name", "schema", "strict"}}, and
// llama-server's "grammar" (GBNF) and "json_schema" (a schema) fields. 400 naming the field for an
// invalid schema or grammar.
std::string openai_grammar(const Fields& f);
// Ollama: "format": "json" or a JSON schema.
std::string ollama_grammar(const Fields& f);
// Compiles gbnf (when not empty) for the model into sampling.grammar; 400 naming field on errors.
void attach_grammar(SamplingParams& sampling, const std::string& gbnf, const LoadedModel& model, const char* field);

}  // namespace owl::server
