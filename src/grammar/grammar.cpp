#include "grammar/grammar.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/error.h"

namespace owl::grammar {

bool CharSet::contains(uint32_t cp) const {
  bool in = false;
  for (const CodeRange& r : ranges) {
    if (cp >= r.lo && cp <= r.hi) {
      in = true;
      break;
    }
  }
  return in != negated;
}

bool CharSet::intersects(uint32_t lo, uint32_t hi) const {
  if (!negated) {
    return std::any_of(ranges.begin(), ranges.end(), [&](const CodeRange& r) { return r.lo <= hi && lo <= r.hi; });
  }
  // Negated: some code point of [lo, hi] is left uncovered by the ranges.
  std::vector<CodeRange> sorted = ranges;
  std::sort(sorted.begin(), sorted.end(), [](const CodeRange& a, const CodeRange& b) { return a.lo < b.lo; });
  uint64_t next = lo;  // the first code point not yet known to be covered
  for (const CodeRange& r : sorted) {
    if (r.lo > next) break;
    next = std::max<uint64_t>(next, uint64_t{r.hi} + 1);
    if (next > hi) return false;
  }
  return next <= hi;
}

void Grammar::validate() const {
  const size_t n = alternatives.size();
  for (const Element& e : elements) {
    if (e.kind == Element::Kind::rule && e.index >= n) fail("grammar: reference to an unknown rule #{}", e.index);
  }
  // Nullable rules (can match the empty string), to a fixed point.
  std::vector<bool> nullable(n, false);
  auto seq_nullable_until = [&](uint32_t start) {  // index of the first element that is not nullable
    uint32_t i = start;
    while (elements[i].kind == Element::Kind::rule && nullable[elements[i].index]) ++i;
    return i;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n; ++r) {
      if (nullable[r]) continue;
      for (uint32_t a : alternatives[r]) {
        if (elements[seq_nullable_until(a)].kind == Element::Kind::end) {
          nullable[r] = true;
          changed = true;
          break;
        }
      }
    }
  }
  // Left edges: r -> s when s can come first in r (only nullable elements before it).
  std::vector<std::vector<uint32_t>> left(n);
  for (size_t r = 0; r < n; ++r) {
    for (uint32_t a : alternatives[r]) {
      for (uint32_t i = a; elements[i].kind == Element::Kind::rule; ++i) {
        left[r].push_back(elements[i].index);
        if (!nullable[elements[i].index]) break;
      }
    }
  }
  // Depth-first search for a cycle; the message spells it out.
  std::vector<uint8_t> color(n, 0);  // 0 unvisited, 1 on the path, 2 done
  std::vector<uint32_t> path;
  auto visit = [&](auto&& self, uint32_t r) -> void {
    color[r] = 1;
    path.push_back(r);
    for (uint32_t s : left[r]) {
      if (color[s] == 1) {
        std::string cycle;
        for (auto it = std::find(path.begin(), path.end(), s); it != path.end(); ++it) {
          cycle += rule_names[*it] + " -> ";
        }
        fail("grammar: left recursion ({}{}): a rule must consume a character before it reaches itself again", cycle,
             rule_names[s]);
      }
      if (color[s] == 0) self(self, s);
    }
    path.pop_back();
    color[r] = 2;
  };
  for (uint32_t r = 0; r < n; ++r) {
    if (color[r] == 0) visit(visit, r);
  }
}

namespace {

std::string escape_char(uint32_t cp, bool in_class) {
  switch (cp) {
    case '\n': return "\\n";
    case '\t': return "\\t";
    case '\r': return "\\r";
    case '\\': return "\\\\";
    case '"': return in_class ? "\"" : "\\\"";
    case ']': return in_class ? "\\]" : "]";
    case '-': return in_class ? "\\-" : "-";
    case '^': return in_class ? "\\^" : "^";
    default: break;
  }
  if (cp < 0x20 || cp == 0x7F) return fmt::format("\\x{:02X}", cp);
  if (cp < 0x80) return std::string(1, static_cast<char>(cp));
  if (cp <= 0xFFFF) return fmt::format("\\u{:04X}", cp);
  return fmt::format("\\U{:08X}", cp);
}

}  // namespace

std::string gbnf_class(const CharSet& set) {
  std::string out = set.negated ? "[^" : "[";
  for (const CodeRange& range : set.ranges) {
    out += escape_char(range.lo, true);
    if (range.hi != range.lo) {
      out += '-';
      out += escape_char(range.hi, true);
    }
  }
  return out + "]";
}

std::string gbnf_literal(std::string_view text) {
  // Byte by byte: UTF-8 passes through unchanged (the parser decodes it), ASCII is escaped as needed.
  std::string out = "\"";
  for (char c : text) {
    const auto b = static_cast<uint8_t>(c);
    out += b < 0x80 ? escape_char(b, false) : std::string(1, c);
  }
  return out + "\"";
}

std::string Grammar::to_gbnf() const {
  std::string out;
  for (size_t r = 0; r < alternatives.size(); ++r) {
    out += rule_names[r] + " ::=";
    for (size_t a = 0; a < alternatives[r].size(); ++a) {
      if (a > 0) out += " |";
      if (elements[alternatives[r][a]].kind == Element::Kind::end) out += " \"\"";
      bool in_literal = false;
      for (uint32_t i = alternatives[r][a]; elements[i].kind != Element::Kind::end; ++i) {
        const Element& e = elements[i];
        if (e.kind == Element::Kind::chars) {
          const CharSet& s = char_sets[e.index];
          if (!s.negated && s.ranges.size() == 1 && s.ranges[0].lo == s.ranges[0].hi) {
            if (!in_literal) out += " \"";
            in_literal = true;
            out += escape_char(s.ranges[0].lo, false);
            continue;
          }
          if (in_literal) out += "\"";
          in_literal = false;
          if (s.negated && s.ranges.empty()) {
            out += " .";
            continue;
          }
          out += " " + gbnf_class(s);
        } else {
          if (in_literal) out += "\"";
          in_literal = false;
          out += " " + rule_names[e.index];
        }
      }
      if (in_literal) out += "\"";
    }
    out += "\n";
  }
  return out;
}

}  // namespace owl::grammar
