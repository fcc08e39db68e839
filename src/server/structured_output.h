// Structured output fields of API requests: what grammar a request's sampler must follow.
#pragma once

#include <memory>
#include <string>

#include "engine/loaded_model.h"
#include "grammar/grammar.h"
#include "sampling/sampler.h"
#include "server/json_body.h"

namespace owl::server {

// The grammar a request's sampler must follow, parsed as the request is read (before any model is
// loaded); null when none was asked for. OpenAI: response_format
// {"type": "text" | "json_object" | "json_schema", "json_schema": {"name", "schema", "strict"}}, and
// llama-server's "grammar" (GBNF) and "json_schema" (a schema) fields. 400 naming the field for an
// invalid schema or grammar.
using RequestGrammar = std::shared_ptr<const grammar::Grammar>;
RequestGrammar openai_grammar(const Fields& f);
// Ollama: "format": "json" or a JSON schema.
RequestGrammar ollama_grammar(const Fields& f);
// Binds the grammar (when there is one) to the model's vocabulary into sampling.grammar.
void attach_grammar(SamplingParams& sampling, const RequestGrammar& grammar, const LoadedModel& model);

}  // namespace owl::server
