// Python's textwrap.wrap as jinja2's wordwrap calls it (expand_tabs and replace_whitespace off,
// drop_whitespace on, no indents): the text is cut into chunks by textwrap's own word-separator
// regex (whitespace runs, words, hyphenated parts, em-dashes), then chunks fill lines greedily.
#include <algorithm>

#include "base/error.h"
#include "base/regex.h"
#include "chat/text.h"

namespace owl::chat::text {

namespace {

// TextWrapper.wordsep_re and wordsep_simple_re (Python 3.11), spelled for PCRE2: \z is Python's \Z.
constexpr const char* kWhitespace = R"([\t\n\x0b\x0c\r ])";
constexpr const char* kWordSeparators =
    R"((?:[\t\n\x0b\x0c\r ]+)"                                       // whitespace
    R"(|(?<=[\w!"'&.,?])-{2,}(?=\w))"                                  // an em-dash between words
    R"(|[^\t\n\x0b\x0c\r ]+?(?:)"                                    // a word, ended by
    R"(-(?:(?<=[^\d\W]{2}-)|(?<=[^\d\W]-[^\d\W]-))(?=[^\d\W]-?[^\d\W]))"  // a hyphen inside it,
    R"(|(?=[\t\n\x0b\x0c\r ]|\z))"                                    // whitespace or the end,
    R"(|(?<=[\w!"'&.,?])(?=-{2,}\w))))";                                // or an em-dash

// re.split with a capturing group: the matches and the text between them, empty pieces dropped.
std::vector<std::string_view> split_chunks(std::string_view s, bool on_hyphens) {
  static const Regex hyphens(kWordSeparators, "textwrap");
  static const Regex simple(std::string(kWhitespace) + "+", "textwrap");
  std::vector<Regex::Span> spans;
  (on_hyphens ? hyphens : simple).find_all(s, spans);
  std::vector<std::string_view> chunks;
  size_t at = 0;
  for (const Regex::Span& m : spans) {
    if (m.begin > at) chunks.push_back(s.substr(at, m.begin - at));
    chunks.push_back(s.substr(m.begin, m.end - m.begin));
    at = m.end;
  }
  if (at < s.size()) chunks.push_back(s.substr(at));
  return chunks;
}

bool blank(std::string_view chunk) {
  for (size_t pos = 0; pos < chunk.size();)
    if (!is_space(next_code_point(chunk, pos))) return false;
  return true;
}

}  // namespace

std::vector<std::string> wrap(std::string_view line, int64_t width, bool break_long_words, bool break_on_hyphens) {
  if (width <= 0) throw Error("invalid width " + std::to_string(width) + " (must be > 0)");
  std::vector<std::string_view> chunks = split_chunks(line, break_on_hyphens);
  std::reverse(chunks.begin(), chunks.end());  // popped from the back, as textwrap does
  std::vector<std::string> lines;
  while (!chunks.empty()) {
    std::vector<std::string_view> current;
    int64_t length = 0;
    // A line never starts with whitespace, except the very first one.
    if (!lines.empty() && blank(chunks.back())) chunks.pop_back();
    while (!chunks.empty()) {
      const auto l = static_cast<int64_t>(count_code_points(chunks.back()));
      if (length + l > width) break;
      current.push_back(chunks.back());
      chunks.pop_back();
      length += l;
    }
    // The next chunk fits on no line at all: break it (after its last hyphen when it has one).
    if (!chunks.empty() && static_cast<int64_t>(count_code_points(chunks.back())) > width) {
      const int64_t room = width - length;
      if (break_long_words) {
        const std::string_view chunk = chunks.back();
        const std::vector<size_t> at = code_point_offsets(chunk);
        int64_t end = room;
        if (break_on_hyphens && static_cast<int64_t>(at.size()) - 1 > room) {
          int64_t hyphen = -1;
          for (int64_t i = room - 1; i >= 0 && hyphen < 0; --i)
            if (chunk[at[static_cast<size_t>(i)]] == '-') hyphen = i;
          bool word_before = false;
          for (int64_t i = 0; i < hyphen && !word_before; ++i) word_before = chunk[at[static_cast<size_t>(i)]] != '-';
          if (hyphen > 0 && word_before) end = hyphen + 1;
        }
        current.push_back(chunk.substr(0, at[static_cast<size_t>(end)]));
        chunks.back() = chunk.substr(at[static_cast<size_t>(end)]);
      } else if (current.empty()) {
        current.push_back(chunks.back());
        chunks.pop_back();
      }
    }
    if (!current.empty() && blank(current.back())) current.pop_back();
    if (!current.empty()) {
      std::string text;
      for (std::string_view c : current) text += c;
      lines.push_back(std::move(text));
    }
  }
  return lines;
}

}  // namespace owl::chat::text
