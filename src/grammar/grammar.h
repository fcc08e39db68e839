// A context-free grammar over Unicode code points, compiled to flat tables: what the GBNF parser
// produces and the recognizer walks. Repetitions (* + ? {m,n}) and groups are already rewritten
// into plain rules, so a rule is only a list of alternatives, each a sequence of character sets and
// rule references.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace owl::grammar {

struct CodeRange {
  uint32_t lo = 0;  // inclusive
  uint32_t hi = 0;  // inclusive
  bool operator==(const CodeRange&) const = default;
};

// A set of code points: ranges, or everything outside them when negated.
struct CharSet {
  std::vector<CodeRange> ranges;
  bool negated = false;

  bool contains(uint32_t cp) const;
  // Whether some code point in [lo, hi] is in the set.
  bool intersects(uint32_t lo, uint32_t hi) const;
  bool operator==(const CharSet&) const = default;
};

struct Element {
  enum class Kind : uint8_t { end, chars, rule };  // end closes an alternative
  Kind kind = Kind::end;
  uint32_t index = 0;  // chars: into char_sets; rule: the rule's id
};

struct Grammar {
  // Every alternative of every rule, each closed by an end element.
  std::vector<Element> elements;
  // Per rule: the index in elements where each of its alternatives starts.
  std::vector<std::vector<uint32_t>> alternatives;
  std::vector<std::string> rule_names;  // generated rules are named after the rule they came from
  std::vector<CharSet> char_sets;
  uint32_t root = 0;

  // Checks the compiled grammar: every rule referenced is defined, and no rule can reach itself
  // without consuming a character (left recursion would make the recognizer loop). Throws
  // owl::Error naming the rules.
  void validate() const;
  // The grammar written back as GBNF (generated rules included): for messages and `--print-grammar`.
  std::string to_gbnf() const;
};

// Parses llama.cpp's GBNF: `name ::= alternatives` rules (a rule may continue on following lines),
// "literals" with \n \t \r \\ \" \xHH \uHHHH \UHHHHHHHH escapes, [character classes] with ranges,
// negation [^...] and the same escapes, `.` (any code point), ( groups ), `|`, `*`, `+`, `?`,
// `{m}`, `{m,}`, `{m,n}`, and # comments. Throws owl::Error with the line and column of the first
// problem. root names the start rule.
Grammar parse_gbnf(std::string_view text, std::string_view root = "root");

// A character set as a GBNF class ([a-z], [^"\\]), every special character escaped.
std::string gbnf_class(const CharSet& set);
// text as a GBNF string literal (quoted, with every character the parser reads specially escaped).
std::string gbnf_literal(std::string_view text);

}  // namespace owl::grammar
