// The hand-written GPT-2 / Llama 3 / Qwen2 splitters against PCRE2 running the same regexes, on the
// llama.cpp test strings and random mixes of letters, digits, spaces, newlines, punctuation and
// non-ASCII characters; plus the HF split behaviours.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "fixtures.h"
#include "test_files.h"
#include "tokenizer/pre_tokenizer.h"
#include "base/regex.h"

namespace owl {
namespace {

std::vector<std::string> by_regex(const char* pattern, const std::string& s) {
  Regex re(pattern, "test");
  std::vector<Regex::Span> spans;
  re.find_all(s, spans);
  std::vector<std::string> out;
  size_t prev = 0;
  for (const auto& m : spans) {
    if (m.begin > prev) out.push_back(s.substr(prev, m.begin - prev));
    out.push_back(s.substr(m.begin, m.end - m.begin));
    prev = m.end;
  }
  if (prev < s.size()) out.push_back(s.substr(prev));
  return out;
}

std::vector<std::string> by_fast(FastPattern p, const std::string& s) {
  std::vector<Piece> pieces;
  fast_split(p, s, pieces);
  std::vector<std::string> out;
  for (const Piece& x : pieces) out.push_back(s.substr(x.begin, x.end - x.begin));
  return out;
}

TEST(PreTokenizerFast, MatchesPcre2OnRandomText) {
  const std::vector<std::string> alphabet = {"a", "Z", "é", "ж", "中", "3", "٣", " ", "  ", "\n", "\r\n", "\t",
                                             "'", "'s", "'LL", "!", "...", "😀", "\u3000", "\u0301", "_", "-"};
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    const size_t n = rng() % 24;
    for (size_t k = 0; k < n; ++k) t += alphabet[rng() % alphabet.size()];
    texts.push_back(t);
  }
  if (const auto fx = owl_fixtures()) {
    const std::string inp = read_file(*fx / "llamacpp-vocab/ggml-vocab-llama-bpe.gguf.inp");
    texts.push_back(inp);
  }
  const std::pair<FastPattern, const char*> patterns[] = {
      {FastPattern::gpt2, kGpt2Pattern}, {FastPattern::llama3, kLlama3Pattern}, {FastPattern::qwen2, kQwen2Pattern}};
  for (const auto& [fast, pattern] : patterns) {
    for (const std::string& t : texts) {
      ASSERT_EQ(by_fast(fast, t), by_regex(pattern, t)) << pattern << " on '" << t << "'";
    }
  }
}

TEST(PreTokenizerFast, SplitBehaviours) {
  auto run = [](SplitBehavior b, bool invert) {
    PreTokenizer p;
    p.add_regex("-", b, invert, "test");
    std::vector<Piece> pieces;
    const std::string s = "a-b--c";
    p.split(s, pieces);
    std::vector<std::string> out;
    for (const Piece& x : pieces) out.push_back(s.substr(x.begin, x.end - x.begin));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(run(SplitBehavior::isolated, false), (V{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(run(SplitBehavior::removed, false), (V{"a", "b", "c"}));
  EXPECT_EQ(run(SplitBehavior::merged_with_previous, false), (V{"a-", "b-", "-", "c"}));
  EXPECT_EQ(run(SplitBehavior::merged_with_next, false), (V{"a", "-b", "-", "-c"}));
  EXPECT_EQ(run(SplitBehavior::contiguous, false), (V{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(run(SplitBehavior::removed, true), (V{"-", "-", "-"}));
}

}  // namespace
}  // namespace owl
