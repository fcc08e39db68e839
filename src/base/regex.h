// A compiled regular expression: PCRE2 in UTF + UCP mode (\p{L}, \p{N}, \s, \w by Unicode
// properties), JIT-compiled, with invalid UTF-8 in the subject allowed (it never matches). Mirrors the
// regex semantics of Hugging Face tokenizers' Split pre-tokenizer and llama.cpp's unicode_regex_split;
// the template engine's wordwrap splits text with it as Python's textwrap does.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace owl {

class Regex {
 public:
  // Throws owl::Error "<source>: regex '<pattern>': <PCRE2 message>" when the pattern does not compile.
  Regex(std::string_view pattern, std::string_view source);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  struct Span {
    size_t begin;
    size_t end;
  };
  // Every non-overlapping match in s, left to right (an empty match advances by one character).
  // The subject is s alone: lookarounds and anchors never see text outside it.
  void find_all(std::string_view s, std::vector<Span>& out) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pattern_;
};

}  // namespace owl
