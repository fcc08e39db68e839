// Unicode helpers for the template engine: Python strings count code points, so length, slicing,
// strip() and split() here work on UTF-8 decoded to code points (Python str semantics).
// Invalid bytes decode as one code point each (U+FFFD-like), so no input makes these throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace owl::chat::text {

// Decodes the code point at s[pos] and advances pos past it. A malformed byte yields itself
// (0x80-0xFF) and advances by one, so every byte belongs to exactly one "character".
char32_t next_code_point(std::string_view s, size_t& pos);
void append_utf8(std::string& out, char32_t cp);
size_t count_code_points(std::string_view s);
// Byte offsets of each code point start, plus s.size() at the end (size = count + 1).
std::vector<size_t> code_point_offsets(std::string_view s);

// Python's str.isspace() set (Unicode White_Space plus the ASCII separators 0x1C-0x1F).
bool is_space(char32_t cp);
// str.strip() / lstrip() / rstrip(): chars empty means whitespace, else any code point of chars.
std::string strip(std::string_view s, std::string_view chars, bool left, bool right, bool whitespace);

// Simple case mappings (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic): what chat templates
// apply to role names and keywords.
char32_t to_upper(char32_t cp);
char32_t to_lower(char32_t cp);
std::string upper(std::string_view s);
std::string lower(std::string_view s);

// str.splitlines(): lines end at \n, \r, \r\n, \v, \f, \x1c-\x1e, U+0085, U+2028, U+2029 (ends not kept).
std::vector<std::string_view> split_lines(std::string_view s);
// str.split() without a separator: the pieces between runs of whitespace.
std::vector<std::string_view> split_whitespace(std::string_view s);
// textwrap.wrap(line, width, expand_tabs=False, replace_whitespace=False, ...), as jinja2's wordwrap
// calls it. Throws owl::Error when width <= 0.
std::vector<std::string> wrap(std::string_view line, int64_t width, bool break_long_words, bool break_on_hyphens);

// html.unescape: named references from the HTML5 table and numeric ones, as Python decodes them.
std::string html_unescape(std::string_view s);
// markupsafe.escape: & < > ' " as &amp; &lt; &gt; &#39; &#34;.
std::string html_escape(std::string_view s);

}  // namespace owl::chat::text
