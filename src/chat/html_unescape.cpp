// Python's html.unescape (what markupsafe's striptags ends with): character references as HTML5
// reads them, named ones from the WHATWG table (legacy names also without ';', the longest such
// prefix winning), numeric ones with HTML5's remapping of C1 controls and its invalid code points.
#include <algorithm>

#include "chat/text.h"

namespace owl::chat::text {

namespace {

struct HtmlEntity {
  const char* name;
  const char* text;
};
struct NumericFixup {
  char32_t code;
  const char* text;
};
#include "chat/html_entities.inc"

const char* named_entity(std::string_view name) {
  const auto* end = std::end(kNamedEntities);
  const auto* it = std::lower_bound(std::begin(kNamedEntities), end, name,
                                    [](const HtmlEntity& e, std::string_view n) { return std::string_view(e.name) < n; });
  return it != end && std::string_view(it->name) == name ? it->text : nullptr;
}

bool is_digit(char c, bool hex) {
  return (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

// The text a numeric reference stands for; digits alone, in the given base.
std::string numeric_reference(std::string_view digits, bool hex) {
  uint64_t value = 0;
  for (char c : digits) {
    const uint64_t d = c <= '9' ? static_cast<uint64_t>(c - '0') : static_cast<uint64_t>((c | 0x20) - 'a' + 10);
    value = std::min<uint64_t>(value * (hex ? 16 : 10) + d, 0x110000);  // anything past U+10FFFF reads the same
  }
  for (const NumericFixup& f : kNumericFixups)
    if (f.code == value) return f.text;
  if ((value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF) return "\xEF\xBF\xBD";
  if (std::find(std::begin(kDroppedCodePoints), std::end(kDroppedCodePoints), value) != std::end(kDroppedCodePoints)) return "";
  std::string out;
  append_utf8(out, static_cast<char32_t>(value));
  return out;
}

}  // namespace

std::string html_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t amp = s.find('&', pos);
    out.append(s.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos));
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
    if (pos < s.size() && s[pos] == '#') {  // &#123; or &#x1F; (the ';' optional)
      const bool hex = pos + 1 < s.size() && (s[pos + 1] == 'x' || s[pos + 1] == 'X');
      const size_t first = pos + (hex ? 2 : 1);
      size_t last = first;
      while (last < s.size() && is_digit(s[last], hex)) ++last;
      if (last == first) {
        out += '&';  // neither form: the '&' stays and scanning goes on from the '#'
        continue;
      }
      out += numeric_reference(s.substr(first, last - first), hex);
      pos = last < s.size() && s[last] == ';' ? last + 1 : last;
      continue;
    }
    // A name: 1 to 32 characters other than tab, newline, form feed, space, '<', '&', '#' and ';'.
    size_t end = pos;
    for (int n = 0; n < 32 && end < s.size(); ++n) {
      if (std::string_view("\t\n\f <&#;").find(s[end]) != std::string_view::npos) break;
      next_code_point(s, end);
    }
    if (end == pos) {
      out += '&';
      continue;
    }
    if (end < s.size() && s[end] == ';') ++end;
    const std::string_view name = s.substr(pos, end - pos);
    pos = end;
    if (const char* text = named_entity(name)) {
      out += text;
      continue;
    }
    // The longest prefix (two characters at least) that is a name without ';', the rest kept.
    const std::vector<size_t> at = code_point_offsets(name);
    bool found = false;
    for (size_t x = at.size() - 2; x >= 2 && !found; --x) {
      if (const char* text = named_entity(name.substr(0, at[x]))) {
        out += text;
        out += name.substr(at[x]);
        found = true;
      }
    }
    if (!found) {
      out += '&';
      out += name;
    }
  }
  return out;
}

}  // namespace owl::chat::text
