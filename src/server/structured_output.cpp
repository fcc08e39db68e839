#include "server/structured_output.h"

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/json_schema.h"
#include "server/http_error.h"

namespace owl::server {

namespace {

// The converter's or parser's owl::Error as a 400 naming the field.
RequestGrammar parsed(const char* field, const std::function<std::string()>& make) {
  try {
    return std::make_shared<const grammar::Grammar>(grammar::parse_gbnf(make()));
  } catch (const Error& e) {
    bad_request(e.what(), field);
  }
}

RequestGrammar schema_grammar(const Json& schema, const char* field) {
  if (!schema.is_object() && !schema.is_boolean()) bad_request(std::string("'") + field + "' must be a JSON schema object", field);
  return parsed(field, [&] { return grammar::json_schema_to_gbnf(schema); });
}

}  // namespace

RequestGrammar openai_grammar(const Fields& f) {
  RequestGrammar gbnf;
  int given = 0;
  if (const Json* rf = f.object("response_format")) {
    const Fields r(*rf, "response_format.");
    const std::string type = r.string("type").value_or("text");
    if (type == "json_object") {
      gbnf = parsed("response_format", [] { return grammar::json_object_gbnf(); });
      ++given;
    } else if (type == "json_schema") {
      const Json* js = r.object("json_schema");
      if (js == nullptr) bad_request("'response_format.json_schema' is required for type json_schema", "response_format.json_schema");
      const Fields jf(*js, "response_format.json_schema.");
      (void)jf.boolean("strict");  // checked for its type; owl always enforces the schema
      const Json* schema = jf.raw("schema");
      if (schema == nullptr) bad_request("'response_format.json_schema.schema' is required", "response_format.json_schema.schema");
      gbnf = schema_grammar(*schema, "response_format.json_schema.schema");
      ++given;
    } else if (type != "text") {
      bad_request("'response_format.type' must be text, json_object or json_schema", "response_format.type");
    }
  }
  if (const Json* schema = f.raw("json_schema")) {
    gbnf = schema_grammar(*schema, "json_schema");
    ++given;
  }
  if (const auto text = f.string("grammar")) {
    gbnf = parsed("grammar", [&] { return *text; });
    ++given;
  }
  if (given > 1) bad_request("give one of 'response_format', 'json_schema' and 'grammar'", "response_format");
  return gbnf;
}

RequestGrammar ollama_grammar(const Fields& f) {
  const Json* format = f.raw("format");
  if (format == nullptr) return nullptr;
  if (format->is_string()) {
    if (format->get<std::string>() == "json") return parsed("format", [] { return grammar::json_object_gbnf(); });
    if (format->get<std::string>().empty()) return nullptr;
    bad_request("'format' must be \"json\" or a JSON schema", "format");
  }
  return schema_grammar(*format, "format");
}

void attach_grammar(SamplingParams& sampling, const RequestGrammar& grammar, const LoadedModel& model) {
  if (grammar) sampling.grammar = model.bind_grammar(grammar);
}

}  // namespace owl::server
