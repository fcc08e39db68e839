// The GBNF parser and the recognizer: languages checked string by string, errors with their
// positions, UTF-8 split anywhere, and the recognizer's tables rebuilt without changing answers.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/recognizer.h"

namespace owl::grammar {
namespace {

struct Lang {
  explicit Lang(const std::string& gbnf) : rec(std::make_shared<const Grammar>(parse_gbnf(gbnf))) {}
  Recognizer::StateId walk(const std::string& text) { return rec.advance(rec.start(), text); }
  bool matches(const std::string& text) {
    const auto s = walk(text);
    return s != Recognizer::kDead && rec.accepting(s);
  }
  bool prefix(const std::string& text) { return walk(text) != Recognizer::kDead; }
  Recognizer rec;
};

std::string error_of(const std::string& gbnf) {
  try {
    parse_gbnf(gbnf);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Gbnf, LiteralsAlternativesAndGroups) {
  Lang g(R"(root ::= "ab" ( "c" | "de" ) tail
tail ::= "!" | "")");
  EXPECT_TRUE(g.matches("abc"));
  EXPECT_TRUE(g.matches("abde!"));
  EXPECT_FALSE(g.matches("ab"));
  EXPECT_TRUE(g.prefix("ab"));
  EXPECT_FALSE(g.prefix("abx"));
  EXPECT_FALSE(g.matches("abc!!"));
}

TEST(Gbnf, Repetitions) {
  Lang g(R"(root ::= "a"* "b"+ "c"? "d"{2} "e"{1,3} "f"{2,})");
  EXPECT_TRUE(g.matches("bddeff"));
  EXPECT_TRUE(g.matches("aaabbbcddeeefff"));
  EXPECT_FALSE(g.matches("ddeff"));     // b+ needs one
  EXPECT_FALSE(g.matches("bdeff"));     // d{2}
  EXPECT_FALSE(g.matches("bddeeeeff"));  // e{1,3}
  EXPECT_FALSE(g.matches("bddef"));     // f{2,}
  Lang counted(R"(root ::= ("xy"){0,2} "z")");
  EXPECT_TRUE(counted.matches("z"));
  EXPECT_TRUE(counted.matches("xyxyz"));
  EXPECT_FALSE(counted.matches("xyxyxyz"));
  EXPECT_FALSE(counted.matches("xz"));
}

TEST(Gbnf, CharacterClassesEscapesAndAny) {
  Lang g(R"(root ::= [a-c0-9_]+ [^\n"\\] "\x41\u00e9\t" . [\]\-])");
  EXPECT_TRUE(g.matches("a1_!A\xC3\xA9\tZ]"));
  EXPECT_TRUE(g.matches("cc9\xE2\x82\xAC" "A\xC3\xA9\t\xF0\x9F\xA6\x89-"));  // euro sign, owl emoji
  EXPECT_FALSE(g.matches("d!A\xC3\xA9\tZ]"));
  EXPECT_FALSE(g.matches("a\"A\xC3\xA9\tZ]"));
  EXPECT_FALSE(g.matches("a\nA\xC3\xA9\tZ]"));
}

TEST(Gbnf, RulesMaySpanLinesAndCarryComments) {
  Lang g(R"(# a comment
root ::=
   "{"   # opening
   item
   ( "," item )*
   "}"
item ::= [0-9]
  | "x")");
  EXPECT_TRUE(g.matches("{1,x,2}"));
  EXPECT_FALSE(g.matches("{1,}"));
}

TEST(Gbnf, Utf8SplitAnywhere) {
  // One code point class, fed byte by byte: every prefix of a valid sequence lives, others die.
  Lang g(R"(root ::= [\u00e0-\u00ff\u4e00-\u4e0f]+)");
  const std::string text = "\xC3\xA9\xE4\xB8\x80";  // U+00E9 U+4E00
  for (size_t n = 1; n <= text.size(); ++n) EXPECT_TRUE(g.prefix(text.substr(0, n))) << n;
  EXPECT_TRUE(g.matches(text));
  EXPECT_FALSE(g.matches(text.substr(0, 4)));  // ends inside a character
  EXPECT_FALSE(g.prefix("\xC3\x80" "\xE4\xB8\x90"));  // U+00C0 is outside the class
  EXPECT_FALSE(g.prefix("\xE4\xB9"));  // U+4E40.. cannot be in the class
  EXPECT_FALSE(g.prefix("\xC0\xA9"));  // an overlong form
  EXPECT_FALSE(g.prefix("\xA9"));      // a lone continuation byte
  Lang any(R"(root ::= .*)");
  EXPECT_TRUE(any.matches("\xF0\x9F\xA6\x89"));
  EXPECT_FALSE(any.prefix("\xED\xA0"));  // can only become a surrogate
  EXPECT_TRUE(any.prefix("\xED\x9F"));   // U+D7C0..U+D7FF
}

TEST(Gbnf, RecursionAndAmbiguity) {
  Lang parens(R"g(root ::= "(" root ")" root | "")g");
  EXPECT_TRUE(parens.matches("(()(()))()"));
  EXPECT_FALSE(parens.matches("(()"));
  EXPECT_FALSE(parens.prefix("())"));
  // Ambiguous: many parses of the same text collapse into one state.
  Lang ambiguous(R"(root ::= ("a" | "a" "a" | "a" "a"+)*  "b")");
  EXPECT_TRUE(ambiguous.matches(std::string(200, 'a') + "b"));
  // A repetition of something that can be empty would loop without reading: refused up front.
  EXPECT_THROW(parse_gbnf(R"(root ::= ("a"*)* "b")"), Error);
}

TEST(Gbnf, LoopsKeepAConstantStackSoStatesRepeat) {
  // x* is right-recursive; with tail calls a long string visits the same few states over and over
  // (what makes transitions and masks reusable), instead of a new, deeper stack per character.
  Lang g(R"(root ::= "\"" [a-z ]* "\"" ( "," "\"" [a-z]+ "\"" )*)");
  std::string text = "\"";
  for (int i = 0; i < 2000; ++i) text += static_cast<char>('a' + i % 26);
  text += "\"";
  for (int i = 0; i < 200; ++i) text += ",\"abc\"";
  EXPECT_TRUE(g.matches(text));
  EXPECT_LT(g.rec.n_states(), 20u);
}

TEST(Gbnf, CompactKeepsTheLanguage) {
  Lang g(R"(root ::= "[" ( [0-9]+ ( "," [0-9]+ )* )? "]")");
  auto s = g.walk("[12,3");
  s = g.rec.compact(s);
  EXPECT_EQ(g.rec.advance(s, std::string("4,5]")) != Recognizer::kDead, true);
  EXPECT_TRUE(g.rec.accepting(g.rec.advance(s, std::string("]"))));
  EXPECT_EQ(g.rec.advance(s, std::string("]]")), Recognizer::kDead);
}

TEST(Gbnf, ErrorsNameTheProblemAndWhere) {
  EXPECT_NE(error_of("root ::= item").find("rule 'item' is used at line 1, column 10 but never defined"),
            std::string::npos);
  EXPECT_NE(error_of("start ::= \"a\"").find("no rule named 'root'"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a").find("unterminated string literal at line 1"), std::string::npos);
  EXPECT_NE(error_of("root ::= [a-").find("unterminated character class"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"\\q\"").find("unknown escape '\\q'"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\"\nroot ::= \"b\"").find("rule 'root' is defined twice at line 2"),
            std::string::npos);
  EXPECT_NE(error_of("root = \"a\"").find("expected '::='"), std::string::npos);
  EXPECT_NE(error_of("root ::= * \"a\"").find("has nothing to repeat"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\"{3,1}").find("n < m"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"a\"{99999999}").find("repetition count above"), std::string::npos);
  EXPECT_NE(error_of("root ::= ( \"a\"").find("expected ')'"), std::string::npos);
  EXPECT_NE(error_of("root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\"").find("left recursion (expr -> expr)"),
            std::string::npos);
  EXPECT_NE(error_of("root ::= a\na ::= b? \"x\" | b a\nb ::= \"\" | \"y\"").find("left recursion"), std::string::npos);
  EXPECT_NE(error_of("").find("empty grammar"), std::string::npos);
}

TEST(Gbnf, PrintedGrammarParsesToTheSameLanguage) {
  const Grammar g = parse_gbnf(R"(root ::= "a\"b" [^x-z\]] ("c" | [0-9]{2,3})* .)");
  const std::string printed = g.to_gbnf();
  Lang a(R"(root ::= "a\"b" [^x-z\]] ("c" | [0-9]{2,3})* .)");
  Lang b(printed);
  for (const std::string s : {"a\"bqc12c123!", "a\"bx!", "a\"bq1!", "a\"b]c!", "a\"bqcc99\xC3\xA9"}) {
    EXPECT_EQ(a.matches(s), b.matches(s)) << s << "\n" << printed;
  }
}

}  // namespace
}  // namespace owl::grammar
