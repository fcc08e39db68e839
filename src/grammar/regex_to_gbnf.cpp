// JSON Schema `pattern` -> a GBNF expression over a JSON string's body. Patterns are ECMA-262
// regular expressions (what JSON Schema specifies): \d and \w are ASCII, \s is Unicode white space,
// and . is anything but a line terminator. The expression matches the *encoded* text: a quote or
// backslash the regex allows is written as \" or \\, other control characters are never produced.
// Where an engine could be more or less Unicode-aware (\D, \W, \S), the grammar allows an ASCII
// subset, so every output matches under either reading.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/json_schema.h"
#include "grammar/utf8_decode.h"

namespace owl::grammar {

namespace {

using Ranges = std::vector<CodeRange>;

std::string class_text(Ranges ranges, bool negated) { return gbnf_class(CharSet{std::move(ranges), negated}); }

bool in(const Ranges& ranges, uint32_t cp) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const CodeRange& r) { return cp >= r.lo && cp <= r.hi; });
}

// Characters a JSON string writes escaped: the quote, the backslash and the controls.
const Ranges kEscaped = {{0x00, 0x1F}, {'"', '"'}, {'\\', '\\'}};

// A set of code points (the regex's view) as JSON-string text.
std::string set_gbnf(const Ranges& ranges, bool negated) {
  std::vector<std::string> alts;
  if (negated) {
    Ranges excluded = ranges;
    excluded.insert(excluded.end(), kEscaped.begin(), kEscaped.end());
    alts.push_back(class_text(excluded, true));
  } else {
    // The allowed ranges less the escaped characters, cut into pieces around them.
    Ranges plain;
    for (CodeRange r : ranges) {
      for (uint32_t cp = r.lo; cp <= r.hi && cp < 0x20; ++cp) r.lo = cp + 1;
      if (r.lo > r.hi) continue;
      uint32_t lo = r.lo;
      for (uint32_t special : {uint32_t{'"'}, uint32_t{'\\'}}) {
        if (special >= lo && special <= r.hi) {
          if (special > lo) plain.push_back({lo, special - 1});
          lo = special + 1;
        }
      }
      if (lo <= r.hi) plain.push_back({lo, r.hi});
    }
    if (!plain.empty()) alts.push_back(class_text(plain, false));
  }
  const auto allowed = [&](uint32_t cp) { return in(ranges, cp) != negated; };
  if (allowed('"')) alts.emplace_back("\"\\\\\\\"\"");  // the two characters \"
  if (allowed('\\')) alts.emplace_back("\"\\\\\\\\\"");  // \\ (two backslashes)
  if (allowed('\n')) alts.emplace_back("\"\\\\n\"");
  if (allowed('\t')) alts.emplace_back("\"\\\\t\"");
  if (allowed('\r')) alts.emplace_back("\"\\\\r\"");
  if (alts.empty()) fail("json schema: pattern has a character class that matches nothing");
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// The shorthand classes, as sets Python's re agrees with (ASCII where it is Unicode-aware).
Ranges digit() { return {{'0', '9'}}; }
Ranges word() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
Ranges space() {
  return {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029},
          {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
}
// What . matches: everything but the line terminators.
const Ranges kLineTerminators = {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}};
Ranges non_digit_ascii() { return {{0x20, 0x2F}, {0x3A, 0x7E}}; }
Ranges non_word_ascii() { return {{0x20, 0x2F}, {0x3A, 0x40}, {0x5B, 0x5E}, {0x60, 0x60}, {0x7B, 0x7E}}; }
Ranges non_space_ascii() { return {{0x21, 0x7E}}; }

class RegexParser {
 public:
  explicit RegexParser(const std::string& pattern) : p_(pattern) {}

  std::string run() {
    bool anchored_start = false, anchored_end = false;
    if (!p_.empty() && p_[0] == '^') {
      anchored_start = true;
      ++pos_;
    }
    std::string body = alternation();
    if (pos_ < p_.size() && p_[pos_] == '$' && pos_ + 1 == p_.size()) {
      anchored_end = true;
      ++pos_;
    }
    if (pos_ != p_.size()) error(fmt::format("unexpected '{}'", p_[pos_]));
    const std::string any = "(" + set_gbnf({{0, 0x10FFFF}}, false) + ")*";  // unanchored ends: anything
    return (anchored_start ? "" : any + " ") + "(" + body + ")" + (anchored_end ? "" : " " + any);
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail("json schema: pattern '{}': {} at offset {}", p_, what, pos_);
  }
  bool more() const { return pos_ < p_.size(); }
  char peek() const { return more() ? p_[pos_] : '\0'; }

  std::string alternation() {
    std::string out = sequence();
    while (peek() == '|') {
      ++pos_;
      out += " | " + sequence();
    }
    return out;
  }

  std::string sequence() {
    std::string out;
    while (more() && peek() != '|' && peek() != ')') {
      if (peek() == '$' && pos_ + 1 == p_.size()) break;
      std::string a = atom();
      a = quantified(a);
      out += (out.empty() ? "" : " ") + a;
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string quantified(const std::string& a) {
    const char q = peek();
    std::string out;
    if (q == '*' || q == '+' || q == '?') {
      ++pos_;
      out = "(" + a + ")" + q;
    } else if (q == '{' && pos_ + 1 < p_.size() && std::isdigit(static_cast<unsigned char>(p_[pos_ + 1]))) {
      const size_t close = p_.find('}', pos_);
      if (close == std::string::npos) error("unterminated '{'");
      const std::string body = p_.substr(pos_ + 1, close - pos_ - 1);
      for (char c : body) {
        if (!std::isdigit(static_cast<unsigned char>(c)) && c != ',') error("bad repetition");
      }
      pos_ = close + 1;
      out = "(" + a + "){" + body + "}";
    } else {
      return a;
    }
    if (peek() == '?') ++pos_;  // lazy: the same language
    if (peek() == '+' || peek() == '*' || peek() == '?') error("nested quantifier");
    return out;
  }

  uint32_t next_code_point() {
    uint32_t cp = 0;
    const size_t n = decode_utf8(std::string_view(p_).substr(pos_), cp);
    if (n == 0) error("invalid UTF-8");
    pos_ += n;
    return cp;
  }

  // An escape after the backslash: a shorthand class (ranges set, returns true) or one character.
  bool escape(Ranges& ranges, bool& negated, uint32_t& cp) {
    if (!more()) error("trailing backslash");
    const char e = p_[pos_++];
    negated = false;
    switch (e) {
      case 'd': ranges = digit(); return true;
      case 'w': ranges = word(); return true;
      case 's': ranges = space(); return true;
      case 'D': ranges = non_digit_ascii(); return true;
      case 'W': ranges = non_word_ascii(); return true;
      case 'S': ranges = non_space_ascii(); return true;
      case 'n': cp = '\n'; return false;
      case 't': cp = '\t'; return false;
      case 'r': cp = '\r'; return false;
      case 'f': cp = '\f'; return false;
      case 'v': cp = '\v'; return false;
      default: break;
    }
    if (std::isalnum(static_cast<unsigned char>(e))) {
      --pos_;
      error(fmt::format("unsupported escape '\\{}'", e));
    }
    cp = static_cast<uint8_t>(e);
    return false;
  }

  std::string atom() {
    const char c = peek();
    if (c == '(') {
      ++pos_;
      if (peek() == '?') {
        if (pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
          pos_ += 2;
        } else {
          error("look-around and named groups are not supported");
        }
      }
      std::string inner = alternation();
      if (peek() != ')') error("expected ')'");
      ++pos_;
      return "(" + inner + ")";
    }
    if (c == '[') return char_class();
    if (c == '.') {
      ++pos_;
      return set_gbnf(kLineTerminators, true);
    }
    if (c == '^' || c == '$') error("anchors are supported only at the start and the end");
    if (c == '*' || c == '+' || c == '?' || c == '{') error("nothing to repeat");
    Ranges ranges;
    bool negated = false;
    uint32_t cp = 0;
    if (c == '\\') {
      ++pos_;
      if (escape(ranges, negated, cp)) return set_gbnf(ranges, negated);
    } else {
      cp = next_code_point();
    }
    return set_gbnf({{cp, cp}}, false);
  }

  std::string char_class() {
    ++pos_;  // '['
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    Ranges ranges;
    bool first = true;
    while (more() && (peek() != ']' || first)) {
      first = false;
      uint32_t lo = 0;
      if (peek() == '\\') {
        ++pos_;
        Ranges shorthand;
        bool shorthand_negated = false;
        if (escape(shorthand, shorthand_negated, lo)) {
          ranges.insert(ranges.end(), shorthand.begin(), shorthand.end());
          continue;
        }
      } else if (peek() == '[' && pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
        error("POSIX classes are not supported");
      } else {
        lo = next_code_point();
      }
      uint32_t hi = lo;
      if (peek() == '-' && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
        ++pos_;
        if (peek() == '\\') {
          ++pos_;
          Ranges unused;
          bool unused_negated = false;
          if (escape(unused, unused_negated, hi)) error("a class shorthand cannot end a range");
        } else {
          hi = next_code_point();
        }
        if (hi < lo) error("reversed range in a class");
      }
      ranges.push_back({lo, hi});
    }
    if (!more()) error("unterminated '['");
    ++pos_;
    return set_gbnf(ranges, negated);
  }

  const std::string& p_;
  size_t pos_ = 0;
};

}  // namespace

std::string regex_to_gbnf(const std::string& pattern) { return RegexParser(pattern).run(); }

}  // namespace owl::grammar
