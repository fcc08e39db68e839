// The JSON Schema converter piece by piece, each against an independent reference: whole-number
// ranges and number bounds against arithmetic, patterns against std::regex (ECMAScript, as JSON
// Schema specifies), formats and keywords against hand-picked valid and invalid texts, and the
// errors for what it cannot honour.

#include "grammar/json_schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/recognizer.h"

namespace owl::grammar {
namespace {

using ordered = nlohmann::ordered_json;

struct SchemaLang {
  explicit SchemaLang(const std::string& gbnf) : rec(std::make_shared<const Grammar>(parse_gbnf(gbnf))) {}
  bool matches(const std::string& text) {
    const auto s = rec.advance(rec.start(), text);
    return s != Recognizer::kDead && rec.accepting(s);
  }
  Recognizer rec;
};

SchemaLang schema_lang(const std::string& schema) { return SchemaLang(json_schema_to_gbnf(ordered::parse(schema))); }

std::string schema_error_of(const std::string& schema) {
  try {
    json_schema_to_gbnf(ordered::parse(schema));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonSchema, WholeNumberRangesMatchArithmetic) {
  std::mt19937_64 rng(5);
  const std::vector<std::pair<int64_t, int64_t>> fixed = {{0, 0},     {0, 9},       {1, 10},    {-5, 5},  {-100, -7},
                                                          {7, 1234},  {99, 1001},   {-999, 999}, {10, 19}, {123, 456},
                                                          {-1, -1},   {1000, 99999}};
  auto check = [&](int64_t lo, int64_t hi, bool lo_open, bool hi_open) {
    ordered s = {{"type", "integer"}};
    if (!lo_open) s["minimum"] = lo;
    if (!hi_open) s["maximum"] = hi;
    SchemaLang g(json_schema_to_gbnf(s));
    const int64_t from = lo - 150, to = hi + 150;
    for (int64_t v = from; v <= to; ++v) {
      const bool in = (lo_open || v >= lo) && (hi_open || v <= hi);
      ASSERT_EQ(g.matches(std::to_string(v)), in) << v << " in [" << lo << ", " << hi << "] " << s.dump();
    }
    EXPECT_FALSE(g.matches("01"));
    EXPECT_FALSE(g.matches("-0"));
  };
  for (const auto& [lo, hi] : fixed) check(lo, hi, false, false);
  for (int i = 0; i < 30; ++i) {
    const int64_t a = static_cast<int64_t>(rng() % 20000) - 10000;
    const int64_t b = a + static_cast<int64_t>(rng() % 3000);
    check(a, b, false, false);
    check(a, b, i % 2 == 0, i % 2 == 1);
  }
  // Exclusive and fractional bounds of integers.
  SchemaLang g = schema_lang(R"({"type": "integer", "exclusiveMinimum": 3, "maximum": 7.5})");
  EXPECT_FALSE(g.matches("3"));
  EXPECT_TRUE(g.matches("4"));
  EXPECT_TRUE(g.matches("7"));
  EXPECT_FALSE(g.matches("8"));
}

TEST(JsonSchema, NumberBoundsMatchArithmetic) {
  std::mt19937 rng(9);
  const char* schemas[] = {R"({"type": "number", "minimum": 0, "maximum": 1})",
                           R"({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100})",
                           R"({"type": "number", "minimum": -10, "exclusiveMaximum": 10})",
                           R"({"type": "number", "exclusiveMinimum": -3, "maximum": -1})",
                           R"({"type": "number", "minimum": -50})",
                           R"({"type": "number", "exclusiveMaximum": 0})",
                           R"({"type": "number", "minimum": 5, "maximum": 5})"};
  for (const char* text : schemas) {
    const ordered s = ordered::parse(text);
    SchemaLang g(json_schema_to_gbnf(s));
    auto inside = [&](double v) {
      bool ok = true;
      if (s.contains("minimum")) ok = ok && v >= s["minimum"].get<double>();
      if (s.contains("maximum")) ok = ok && v <= s["maximum"].get<double>();
      if (s.contains("exclusiveMinimum")) ok = ok && v > s["exclusiveMinimum"].get<double>();
      if (s.contains("exclusiveMaximum")) ok = ok && v < s["exclusiveMaximum"].get<double>();
      return ok;
    };
    int accepted = 0;
    for (int i = 0; i < 4000; ++i) {
      // Numbers near the bounds: whole, with a fraction, with trailing zeros.
      const int whole = static_cast<int>(rng() % 140) - 70;
      const int frac_digits = static_cast<int>(rng() % 4);
      std::string t = std::to_string(std::abs(whole));
      if (frac_digits > 0) {
        t += ".";
        for (int d = 0; d < frac_digits; ++d) t += static_cast<char>('0' + rng() % 10);
      }
      const bool negative = whole < 0 || (whole == 0 && rng() % 2 == 0);
      if (negative) t = "-" + t;
      const double v = std::stod(t);
      const bool matched = g.matches(t);
      // The grammar may leave some valid spellings out ("-0", "5.0" at an inclusive maximum), never
      // let an out-of-bounds one in.
      if (matched) {
        ASSERT_TRUE(inside(v)) << t << " under " << text;
        ++accepted;
      } else if (inside(v) && v != 0 && t.find('.') == std::string::npos) {
        ADD_FAILURE() << t << " is within " << text << " but refused";
      }
    }
    EXPECT_GT(accepted, 0) << text;
  }
  EXPECT_NE(schema_error_of(R"({"type": "number", "minimum": 0.5})").find("not a whole number (0.5)"), std::string::npos);
  EXPECT_NE(schema_error_of(R"({"type": "number", "minimum": 3, "maximum": 2})").find("no number is within"), std::string::npos);
}

TEST(JsonSchema, PatternsMatchEcmaScriptRegex) {
  // Each pattern with a text it matches (random texts rarely match the longer ones).
  const std::pair<const char*, const char*> patterns[] = {
      {"^[A-Z]{3}-[0-9]{4}$", "ABZ-1909"}, {"^(ab|cd)+x?$", "abcdx"},  {"^\\d{2,4}\\.\\w+$", "019.a_Z"},
      {"^[^a-c]*z$", "x.9z"},             {"^a.c$", "a]c"},           {"^(?:x|yy){1,3}$", "xyyx"},
      {"^[a-c\\d_-]+$", "a-1_"},          {"^\\s?q\\S$", " q]"},     {"^$", ""},
      {"^(a(b|c)*)?d{0,2}$", "abcbdd"},   {"^[\\]\\-]+$", "]-]"},      {"abc", "xxabcyy"}};
  const std::string alphabet = "abcdxyzqABZ019_-.] ";
  std::mt19937 rng(17);
  for (const auto& [p, example] : patterns) {
    const ordered s = {{"type", "string"}, {"pattern", p}};
    SchemaLang g(json_schema_to_gbnf(s));
    const std::regex re(p, std::regex::ECMAScript);
    int matched = 0;
    for (int i = 0; i < 6000; ++i) {
      std::string text;
      const size_t n = rng() % 9;
      for (size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
      if (i == 0) text = example;
      const bool expected = std::regex_search(text, re);
      ASSERT_EQ(g.matches("\"" + text + "\""), expected) << "'" << text << "' against " << p;
      matched += expected;
    }
    EXPECT_GT(matched, 0) << p;
  }
  // What the string must escape is written escaped.
  SchemaLang quoted = schema_lang(R"({"type": "string", "pattern": "^[\"\\\\]{2}$"})");
  EXPECT_TRUE(quoted.matches(R"("\"\\")"));
  EXPECT_FALSE(quoted.matches(R"(""\")"));
  EXPECT_NE(schema_error_of(R"({"type": "string", "pattern": "^(?=a)b$"})").find("look-around"), std::string::npos);
  EXPECT_NE(schema_error_of(R"({"type": "string", "pattern": "^(a)\\1$"})").find("unsupported escape '\\1'"), std::string::npos);
}

TEST(JsonSchema, FormatsAndStrings) {
  SchemaLang date = schema_lang(R"({"type": "string", "format": "date"})");
  EXPECT_TRUE(date.matches(R"("2024-02-28")"));
  EXPECT_TRUE(date.matches(R"("1999-12-31")"));
  EXPECT_FALSE(date.matches(R"("2023-02-30")"));
  EXPECT_FALSE(date.matches(R"("2023-04-31")"));
  EXPECT_FALSE(date.matches(R"("2023-13-01")"));
  SchemaLang dt = schema_lang(R"({"type": "string", "format": "date-time"})");
  EXPECT_TRUE(dt.matches(R"("2024-05-06T07:08:09Z")"));
  EXPECT_TRUE(dt.matches(R"("2024-05-06T23:59:59.123+05:30")"));
  EXPECT_FALSE(dt.matches(R"("2024-05-06T24:00:00Z")"));
  EXPECT_FALSE(dt.matches(R"("2024-05-06 07:08:09Z")"));
  SchemaLang uuid = schema_lang(R"({"type": "string", "format": "uuid"})");
  EXPECT_TRUE(uuid.matches(R"("123e4567-e89b-12d3-a456-426614174000")"));
  EXPECT_FALSE(uuid.matches(R"("123e4567e89b12d3a456426614174000")"));
  SchemaLang email = schema_lang(R"({"type": "string", "format": "email"})");
  EXPECT_TRUE(email.matches(R"("ada.lovelace@example.org")"));
  EXPECT_FALSE(email.matches(R"("ada@")"));
  SchemaLang uri = schema_lang(R"({"type": "string", "format": "uri"})");
  EXPECT_TRUE(uri.matches(R"("https://example.com/a/b?x=1")"));
  EXPECT_FALSE(uri.matches(R"("example.com")"));
  SchemaLang len = schema_lang(R"({"type": "string", "minLength": 2, "maxLength": 3})");
  EXPECT_FALSE(len.matches(R"("a")"));
  EXPECT_TRUE(len.matches(R"("ab")"));
  EXPECT_TRUE(len.matches("\"\xC3\xA9\\n\\u00e9\""));  // three characters, one escaped
  EXPECT_FALSE(len.matches(R"("abcd")"));
  EXPECT_FALSE(len.matches(R"("\ud800")"));  // a lone surrogate is never written
  EXPECT_NE(schema_error_of(R"({"type": "string", "format": "ipv4"})").find("format 'ipv4' is not supported"), std::string::npos);
}

TEST(JsonSchema, ObjectsArraysAndCombinators) {
  SchemaLang obj = schema_lang(R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"},
      "c": {"const": "x"}}, "required": ["b"]})");
  EXPECT_TRUE(obj.matches(R"({"b": true})"));
  EXPECT_TRUE(obj.matches(R"({"a": 1, "b": false, "c": "x"})"));
  EXPECT_TRUE(obj.matches("{ \"b\" :true ,\n  \"c\":\"x\" }"));
  EXPECT_FALSE(obj.matches(R"({"a": 1})"));              // b is required
  EXPECT_FALSE(obj.matches(R"({"b": true, "d": 1})"));   // no additional properties listed
  EXPECT_FALSE(obj.matches(R"({"b": true, "b": true})"));
  SchemaLang extra = schema_lang(R"({"properties": {"id": {"type": "integer"}}, "additionalProperties": {"type": "string"}})");
  EXPECT_TRUE(extra.matches(R"({"id": 1, "i": "x", "idx": "y"})"));
  EXPECT_FALSE(extra.matches(R"({"id": 1, "id": "x"})"));  // an extra key never repeats a listed one
  EXPECT_FALSE(extra.matches(R"({"id": 1, "k": 2})"));
  SchemaLang arr = schema_lang(R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "null"}],
      "items": {"type": "integer"}, "minItems": 1, "maxItems": 4})");
  EXPECT_FALSE(arr.matches("[]"));
  EXPECT_TRUE(arr.matches(R"(["a"])"));
  EXPECT_TRUE(arr.matches(R"(["a", null, 3, 4])"));
  EXPECT_FALSE(arr.matches(R"(["a", null, 3, 4, 5])"));
  EXPECT_FALSE(arr.matches(R"([1])"));
  SchemaLang any = schema_lang(R"({"anyOf": [{"type": "integer"}, {"enum": ["x", null]}], "nullable": true})");
  EXPECT_TRUE(any.matches("12"));
  EXPECT_TRUE(any.matches("\"x\""));
  EXPECT_TRUE(any.matches("null"));
  EXPECT_FALSE(any.matches("\"y\""));
  SchemaLang all = schema_lang(R"({"allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]},
      {"properties": {"a": {"minimum": 5}, "b": {"type": "string", "maxLength": 1}}, "required": ["b"]}]})");
  EXPECT_TRUE(all.matches(R"({"a": 5, "b": "z"})"));
  EXPECT_FALSE(all.matches(R"({"a": 4, "b": "z"})"));
  EXPECT_FALSE(all.matches(R"({"a": 5})"));
  SchemaLang tree = schema_lang(R"({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
      "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
      "required": ["v"]}}})");
  EXPECT_TRUE(tree.matches(R"({"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": [{"v": 4, "kids": []}]}]})"));
  EXPECT_FALSE(tree.matches(R"({"v": 1, "kids": [{"w": 2}]})"));
  SchemaLang types = schema_lang(R"({"type": ["string", "null"], "maxLength": 1})");
  EXPECT_TRUE(types.matches("null"));
  EXPECT_TRUE(types.matches("\"a\""));
  EXPECT_FALSE(types.matches("\"ab\""));
}

TEST(JsonSchema, WhatCannotBeHonouredIsAnErrorNamingIt) {
  EXPECT_NE(schema_error_of(R"({"type": "object", "patternProperties": {"^x": {}}})").find("'patternProperties' is not supported"),
            std::string::npos);
  EXPECT_NE(schema_error_of(R"({"properties": {"a": {"type": "integer", "multipleOf": 2}}})").find("(at #/properties/a)"),
            std::string::npos);
  EXPECT_NE(schema_error_of(R"({"type": "array", "uniqueItems": true})").find("'uniqueItems'"), std::string::npos);
  EXPECT_NE(schema_error_of(R"({"$ref": "other.json#/x"})").find("points outside the schema"), std::string::npos);
  EXPECT_NE(schema_error_of(R"({"$ref": "#/$defs/missing"})").find("points to nothing"), std::string::npos);
  EXPECT_NE(schema_error_of(R"({"type": "string", "maxLength": "5"})").find("'maxLength' must be a whole number"), std::string::npos);
  EXPECT_NE(schema_error_of(R"({"type": "strin"})").find("unknown type 'strin'"), std::string::npos);
  EXPECT_NE(schema_error_of(R"({"required": ["a"]})").find("required property 'a' has no schema"), std::string::npos);
  EXPECT_NE(schema_error_of(R"({"allOf": [{"type": "string"}, {"type": "integer"}]})").find("nothing in common"),
            std::string::npos);
  EXPECT_NE(schema_error_of("false").find("nothing validates"), std::string::npos);
}

TEST(JsonSchema, EveryCollectedSchemaConverts) {
  const std::filesystem::path dir = std::filesystem::path(OWL_SOURCE_DIR) / "tests" / "grammar" / "schemas";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    const ordered schema = ordered::parse(in);
    const std::string gbnf = json_schema_to_gbnf(schema);
    EXPECT_NO_THROW(parse_gbnf(gbnf)) << entry.path();
    ++n;
  }
  EXPECT_GE(n, 50);
}

}  // namespace
}  // namespace owl::grammar
