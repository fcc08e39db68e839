#include "server/structured_output.h"

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/json_schema.h"
#include "server/http_error.h"

namespace owl::server {

namespace {

// The converter's or parser's owl::Error as a 400 naming the field; the text is checked by parsing
// it now, before any model is loaded.
std::string checked(const char* field, const std::function<std::string()>& make) {
  try {
    std::string gbnf = make();
    grammar::parse_gbnf(gbnf);
    return gbnf;
  } catch (const Error& e) {
    bad_request(e.what(), field);
  }
}

std::string schema_grammar(const Json& schema, const char* field) {
  if (!schema.is_object() && !schema.is_boolean()) bad_request(std::string("'") + field + "' must be a JSON schema object", field);
  return checked(field, [&] { return grammar::json_schema_to_gbnf(schema); });
}

}  // namespace

std::string openai_grammar(const Fields& f) {
  std::string gbnf;
  int given = 0;
  if (const Json* rf = f.object("response_format")) {
    const Fields r(*rf, "response_format.");
    const std::string type = r.string("type").value_or("text");
    if (type == "json_object") {
      gbnf = grammar::json_object_gbnf();
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
    gbnf = checked("grammar", [&] { return *text; });
    ++given;
  }
  if (given > 1) bad_request("give one of 'response_format', 'json_schema' and 'grammar'", "response_format");
  return gbnf;
}

std::string ollama_grammar(const Fields& f) {
  const Json* format = f.raw("format");
  if (format == nullptr) return "";
  if (format->is_string()) {
    if (format->get<std::string>() == "json") return grammar::json_object_gbnf();
    if (format->get<std::string>().empty()) return "";
    bad_request("'format' must be \"json\" or a JSON schema", "format");
  }
  return schema_grammar(*format, "format");
}

void attach_grammar(SamplingParams& sampling, const std::string& gbnf, const LoadedModel& model, const char* field) {
  if (gbnf.empty()) return;
  try {
    sampling.grammar = model.compile_grammar(gbnf);
  } catch (const Error& e) {
    bad_request(e.what(), field);
  }
}

}  // namespace owl::server
