// owl run's structured output on owl's own story model (no fixtures): --json-schema (a file or the
// schema inline), --format json, --grammar, and their errors naming the option and the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_owl.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kRun = "run -m " + kStoriesModel + " -t 2 --no-prompt -p 'Once upon a time' ";

TEST(StructuredCli, JsonSchemaFromAFileOrInline) {
  const fs::path schema = write_scratch("hero.json", R"({"type": "object", "properties": {
      "hero": {"type": "string", "maxLength": 16}, "age": {"type": "integer", "minimum": 1, "maximum": 9},
      "kind": {"enum": ["owl", "fox", "bear"]}}, "required": ["hero", "age", "kind"]})");
  for (const std::string seed : {"1", "2", "3"}) {
    const OwlResult r = run_owl(kRun + "-n 120 --temp 1 -s " + seed + " --json-schema " + schema.string());
    ASSERT_EQ(r.status, 0) << r.err;
    const json j = json::parse(r.out);  // the text is exactly one document (and a newline)
    EXPECT_EQ(j.size(), 3u) << r.out;
    EXPECT_LE(j["hero"].get<std::string>().size(), 16u * 4);
    EXPECT_GE(j["age"].get<int>(), 1);
    EXPECT_LE(j["age"].get<int>(), 9);
    EXPECT_TRUE(j["kind"] == "owl" || j["kind"] == "fox" || j["kind"] == "bear") << r.out;
  }
  const OwlResult inline_schema = run_owl(kRun + "-n 20 --temp 0 --json-schema '{\"type\": \"boolean\"}'");
  ASSERT_EQ(inline_schema.status, 0) << inline_schema.err;
  EXPECT_TRUE(inline_schema.out == "true\n" || inline_schema.out == "false\n") << inline_schema.out;
  // --json reports a grammar-complete output as stopped.
  const OwlResult reported = run_owl(kRun + "-n 20 --temp 0 --json --json-schema '{\"enum\": [\"a\", \"b\"]}'");
  ASSERT_EQ(reported.status, 0) << reported.err;
  const json rep = json::parse(reported.out);
  EXPECT_EQ(rep["stop_reason"], "stop");
  EXPECT_TRUE(rep["text"] == "\"a\"" || rep["text"] == "\"b\"") << reported.out;
}

TEST(StructuredCli, FormatJsonAndGrammar) {
  const OwlResult r = run_owl(kRun + "-n 300 --temp 0.8 -s 4 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.front(), '{') << r.out;
  const fs::path g = write_scratch("answer.gbnf", "# yes or no, then a reason in lower case\n"
                                          "root ::= (\"yes\" | \"no\") \", because \" [a-z ]{1,30} \".\"\n");
  const OwlResult yes_no = run_owl(kRun + "-n 60 --temp 1 -s 2 --grammar " + g.string());
  ASSERT_EQ(yes_no.status, 0) << yes_no.err;
  EXPECT_TRUE(yes_no.out.starts_with("yes, because ") || yes_no.out.starts_with("no, because ")) << yes_no.out;
  EXPECT_TRUE(yes_no.out.ends_with(".\n")) << yes_no.out;
}

TEST(StructuredCli, ErrorsNameTheOptionAndTheProblem) {
  const fs::path bad_grammar = write_scratch("bad.gbnf", "root ::= \"a\" item\n");
  OwlResult r = run_owl(kRun + "--grammar " + bad_grammar.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--grammar " + bad_grammar.string() + ": grammar: rule 'item' is used at line 1, column 14 but never defined"),
            std::string::npos)
      << r.err;
  r = run_owl(kRun + "--json-schema '{\"type\": \"object\", \"minProperties\": 1}'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--json-schema: json schema: 'minProperties' is not supported"), std::string::npos) << r.err;
  r = run_owl(kRun + "--json-schema " + write_scratch("broken.json", "{\"type\": ").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
  r = run_owl(kRun + "--format yaml");
  EXPECT_NE(r.err.find("--format must be json"), std::string::npos) << r.err;
  r = run_owl(kRun + "--format json --grammar " + bad_grammar.string());
  EXPECT_NE(r.err.find("give one of --grammar, --json-schema and --format"), std::string::npos) << r.err;
  r = run_owl(kRun + "--grammar /nonexistent/g.gbnf");
  EXPECT_NE(r.err.find("--grammar /nonexistent/g.gbnf"), std::string::npos) << r.err;
}

}  // namespace
