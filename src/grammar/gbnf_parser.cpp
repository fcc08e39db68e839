// GBNF text -> Grammar. A recursive-descent parser that compiles as it reads: literals become one
// character set per code point, groups and repetitions become generated rules (x* is R ::= x R |
// empty; x+ is x x*; x? is R ::= x | empty; x{m,n} is m copies then nested optionals), so the
// recognizer only ever sees sequences of sets and references.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/utf8_decode.h"

namespace owl::grammar {

namespace {

// Repetitions expand into copies: bound them so that a hostile grammar cannot ask for millions.
constexpr uint64_t kMaxRepetition = 10000;

using Sequence = std::vector<Element>;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Grammar run(std::string_view root) {
    // Names the text defines, so that generated rules ("name-1") never take one of them.
    for (pos_ = 0; pos_ < text_.size(); ++pos_) {
      if (pos_ == 0 || text_[pos_ - 1] == '\n') {
        while (peek() == ' ' || peek() == '\t') ++pos_;
        if (at_rule_start()) declared_.insert(parse_name());
      }
    }
    pos_ = 0;
    skip_space(true);
    if (at_end()) fail("grammar: empty grammar (no rules)");
    while (!at_end()) {
      parse_rule();
      skip_space(true);
    }
    const auto it = ids_.find(std::string(root));
    if (it == ids_.end() || !defined_[it->second]) fail("grammar: no rule named '{}' (the start rule)", root);
    for (size_t id = 0; id < rules_.size(); ++id) {
      if (!defined_[id]) {
        fail("grammar: rule '{}' is used at {} but never defined", names_[id], where(first_use_[id]));
      }
    }
    Grammar g;
    g.root = it->second;
    g.rule_names = names_;
    g.char_sets = std::move(sets_);
    g.alternatives.resize(rules_.size());
    for (size_t id = 0; id < rules_.size(); ++id) {
      for (const Sequence& alt : rules_[id]) {
        g.alternatives[id].push_back(static_cast<uint32_t>(g.elements.size()));
        g.elements.insert(g.elements.end(), alt.begin(), alt.end());
        g.elements.push_back({Element::Kind::end, 0});
      }
    }
    g.validate();
    return g;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  std::string where(size_t at) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return fmt::format("line {}, column {}", line, col);
  }
  [[noreturn]] void error(const std::string& what) const { fail("grammar: {} at {}", what, where(pos_)); }

  // Skips blanks and # comments; newlines only when newline_ok.
  void skip_space(bool newline_ok) {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || (newline_ok && c == '\n')) {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    if (pos_ == start) error("expected a rule name");
    return std::string(text_.substr(start, pos_ - start));
  }

  // Whether the text at pos starts a new rule: a name, blanks, then "::=".
  bool at_rule_start() const {
    size_t p = pos_;
    while (p < text_.size() && is_name_char(text_[p])) ++p;
    if (p == pos_) return false;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    return text_.substr(p, 3) == "::=";
  }

  uint32_t rule_id(const std::string& name, size_t used_at) {
    const auto [it, added] = ids_.emplace(name, static_cast<uint32_t>(rules_.size()));
    if (added) {
      rules_.emplace_back();
      names_.push_back(name);
      defined_.push_back(false);
      first_use_.push_back(used_at);
    }
    return it->second;
  }

  uint32_t new_rule(const std::string& base) {
    for (;;) {
      std::string name = fmt::format("{}-{}", base, ++generated_);
      if (!ids_.contains(name) && !declared_.contains(name)) {
        const uint32_t id = rule_id(name, pos_);
        defined_[id] = true;
        return id;
      }
    }
  }

  uint32_t add_set(CharSet set) {
    const auto it = std::find(sets_.begin(), sets_.end(), set);
    if (it != sets_.end()) return static_cast<uint32_t>(it - sets_.begin());
    sets_.push_back(std::move(set));
    return static_cast<uint32_t>(sets_.size() - 1);
  }
  Element chars(CharSet set) { return {Element::Kind::chars, add_set(std::move(set))}; }
  static Element ref(uint32_t rule) { return {Element::Kind::rule, rule}; }

  void parse_rule() {
    const size_t start = pos_;
    const std::string name = parse_name();
    skip_space(false);
    if (text_.substr(pos_, 3) != "::=") error(fmt::format("expected '::=' after rule name '{}'", name));
    pos_ += 3;
    const uint32_t id = rule_id(name, start);
    if (defined_[id]) {
      pos_ = start;
      error(fmt::format("rule '{}' is defined twice", name));
    }
    defined_[id] = true;
    current_ = name;
    rules_[id] = parse_alternatives(false);
  }

  // Alternatives until the end of the rule (top level) or a closing parenthesis (nested).
  std::vector<Sequence> parse_alternatives(bool nested) {
    std::vector<Sequence> alts;
    alts.push_back(parse_sequence(nested));
    while (peek() == '|') {
      ++pos_;
      skip_space(true);
      alts.push_back(parse_sequence(nested));
    }
    return alts;
  }

  // One alternative. At the top level a rule may go on over several lines: a newline ends it only
  // when the next line starts a new rule (or the text ends).
  Sequence parse_sequence(bool nested) {
    Sequence seq;
    size_t last_start = 0;  // where the last item began in seq (repetitions apply to it)
    bool has_item = false;
    if (!nested && at_rule_start()) return seq;  // an empty last alternative ("x ::= a |")
    for (;;) {
      skip_space(nested);
      if (!nested && peek() == '\n') {
        skip_space(true);
        if (at_end() || at_rule_start()) return seq;
      }
      if (at_end()) return seq;
      const char c = peek();
      if (c == '|' || c == ')') {
        if (c == ')' && !nested) error("unmatched ')'");
        return seq;
      }
      if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (!has_item) error(fmt::format("'{}' has nothing to repeat", c));
        apply_repetition(seq, last_start);
        has_item = false;  // "x**" is an error, as in llama.cpp
        continue;
      }
      last_start = seq.size();
      has_item = true;
      if (c == '"') {
        parse_literal(seq);
      } else if (c == '[') {
        seq.push_back(chars(parse_class()));
      } else if (c == '.') {
        ++pos_;
        seq.push_back(chars(CharSet{{}, true}));
      } else if (c == '(') {
        ++pos_;
        skip_space(true);
        const uint32_t group = new_rule(current_);
        rules_[group] = parse_alternatives(true);
        if (peek() != ')') error("expected ')'");
        ++pos_;
        seq.push_back(ref(group));
      } else if (is_name_char(c)) {
        if (!nested && at_rule_start()) error("expected a newline before the next rule");
        const size_t at = pos_;
        seq.push_back(ref(rule_id(parse_name(), at)));
      } else {
        error(fmt::format("unexpected '{}'", c));
      }
    }
  }

  // Reads one code point of a literal or class, decoding escapes and UTF-8.
  uint32_t parse_char() {
    if (at_end()) error("unexpected end of grammar");
    if (peek() != '\\') {
      uint32_t cp = 0;
      const size_t n = decode_utf8(text_.substr(pos_), cp);
      if (n == 0) error("invalid UTF-8");
      pos_ += n;
      return cp;
    }
    ++pos_;
    const char e = peek();
    ++pos_;
    switch (e) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case '\\': case '"': case '[': case ']': case '-': case '^': case '/': case '.': return static_cast<uint8_t>(e);
      case 'x': return parse_hex(2);
      case 'u': return parse_hex(4);
      case 'U': return parse_hex(8);
      default: --pos_; error(fmt::format("unknown escape '\\{}'", e));
    }
  }

  uint32_t parse_hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char h = peek();
      int d = -1;
      if (h >= '0' && h <= '9') d = h - '0';
      if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
      if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
      if (d < 0) error(fmt::format("expected {} hex digits", digits));
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    if (v > 0x10FFFF) error("code point beyond U+10FFFF");
    return v;
  }

  void parse_literal(Sequence& seq) {
    ++pos_;  // opening quote
    while (peek() != '"') {
      if (at_end() || peek() == '\n') error("unterminated string literal");
      const uint32_t cp = parse_char();
      seq.push_back(chars(CharSet{{{cp, cp}}, false}));
    }
    ++pos_;
  }

  CharSet parse_class() {
    ++pos_;  // '['
    CharSet set;
    if (peek() == '^') {
      set.negated = true;
      ++pos_;
    }
    while (peek() != ']') {
      if (at_end() || peek() == '\n') error("unterminated character class");
      const uint32_t lo = parse_char();
      uint32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < text_.size()) {
        ++pos_;
        hi = parse_char();
        if (hi < lo) error("character range is reversed");
      }
      set.ranges.push_back({lo, hi});
    }
    ++pos_;
    return set;
  }

  std::optional<uint64_t> parse_count() {
    skip_space(true);
    if (peek() < '0' || peek() > '9') return std::nullopt;
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + static_cast<uint64_t>(peek() - '0');
      if (v > kMaxRepetition) error(fmt::format("repetition count above {}", kMaxRepetition));
      ++pos_;
    }
    skip_space(true);
    return v;
  }

  // Rewrites the last item of seq (from `start`) under the repetition operator at pos.
  void apply_repetition(Sequence& seq, size_t start) {
    const char op = peek();
    ++pos_;
    uint64_t min = 0, max = 0;
    bool unbounded = false;
    if (op == '*') {
      unbounded = true;
    } else if (op == '+') {
      min = 1;
      unbounded = true;
    } else if (op == '?') {
      max = 1;
    } else {  // {m}, {m,}, {m,n}
      const auto m = parse_count();
      if (!m) error("expected a count after '{'");
      min = max = *m;
      if (peek() == ',') {
        ++pos_;
        const auto n = parse_count();
        if (n) {
          max = *n;
          if (max < min) error("repetition {m,n} with n < m");
        } else {
          unbounded = true;
        }
      }
      if (peek() != '}') error("expected '}'");
      ++pos_;
    }
    // The item as one element: a literal of several characters becomes a rule first.
    Sequence item(seq.begin() + static_cast<ptrdiff_t>(start), seq.end());
    seq.resize(start);
    Element e;
    if (item.size() == 1) {
      e = item[0];
    } else {
      const uint32_t group = new_rule(current_);
      rules_[group] = {item};
      e = ref(group);
    }
    if (min * std::max<size_t>(item.size(), 1) > kMaxRepetition * 4) error("repetition too large");
    for (uint64_t i = 0; i < min; ++i) seq.push_back(e);
    if (unbounded) {
      const uint32_t star = new_rule(current_);  // star ::= e star | empty
      rules_[star] = {{e, ref(star)}, {}};
      seq.push_back(ref(star));
      return;
    }
    // max - min optionals, nested: opt_k ::= e opt_{k-1} | empty, so the stack stays shallow.
    uint32_t inner = 0;
    for (uint64_t k = 0; k < max - min; ++k) {
      const uint32_t opt = new_rule(current_);
      rules_[opt] = k == 0 ? std::vector<Sequence>{{e}, {}} : std::vector<Sequence>{{e, ref(inner)}, {}};
      inner = opt;
    }
    if (max > min) seq.push_back(ref(inner));
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::map<std::string, uint32_t> ids_;
  std::set<std::string> declared_;
  std::vector<std::vector<Sequence>> rules_;
  std::vector<std::string> names_;
  std::vector<bool> defined_;
  std::vector<size_t> first_use_;
  std::vector<CharSet> sets_;
  std::string current_;  // the rule being parsed (generated rules are named after it)
  uint64_t generated_ = 0;
};

}  // namespace

Grammar parse_gbnf(std::string_view text, std::string_view root) { return Parser(text).run(root); }

}  // namespace owl::grammar
