// Pre-tokenization: cutting normalised text into the pieces BPE / WordPiece run on. A PreTokenizer is a
// list of steps (regex splits with Hugging Face's split behaviours, whitespace and BERT splits, ...)
// applied in turn to every piece; mirrors HF tokenizers' pre_tokenizers and llama.cpp's regex sets.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/regex.h"

namespace owl {

// What a Split step does with each match (HF tokenizers SplitDelimiterBehavior).
enum class SplitBehavior { isolated, removed, merged_with_previous, merged_with_next, contiguous };

// Hand-written equivalents of the most common pre-tokenizer regexes (same pieces as PCRE2 gives on
// valid UTF-8, several times faster):
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2:  llama3 with \p{N} instead of \p{N}{1,3}
enum class FastPattern { gpt2, llama3, qwen2 };
extern const char* const kGpt2Pattern;
extern const char* const kLlama3Pattern;
extern const char* const kQwen2Pattern;

struct Piece {
  size_t begin;
  size_t end;
};

class PreTokenizer {
 public:
  PreTokenizer();
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // A regex step. A pattern equal to one of the fast patterns uses the hand-written matcher.
  void add_regex(std::string_view pattern, SplitBehavior behavior, bool invert, std::string_view source);
  void add_fast(FastPattern pattern);
  // Literal string delimiter (HF Split with a String pattern).
  void add_literal(std::string_view delimiter, SplitBehavior behavior, bool invert);
  void add_whitespace_split();  // HF WhitespaceSplit: pieces between whitespace
  void add_whitespace();        // HF Whitespace: \w+|[^\w\s]+
  void add_punctuation(SplitBehavior behavior);  // HF Punctuation (Unicode P and ASCII symbols)
  void add_digits(bool individual);              // HF Digits
  void add_bert();  // HF BertPreTokenizer: whitespace removed, each punctuation character isolated
  bool empty() const { return steps_.empty(); }

  // The pieces of text, in order; no piece is empty. Without steps, the whole text is one piece.
  void split(std::string_view text, std::vector<Piece>& pieces) const;
  // Whether other has the same steps (kinds, patterns, behaviours), so that it cuts every text the
  // same way; names a pre-tokenizer built from HF files by its GGUF tokenizer.ggml.pre value.
  bool same_steps(const PreTokenizer& other) const;
  // The steps in words ("regex '...' isolated, fast gpt2"), for error messages.
  std::string describe() const;
  // The steps as Hugging Face Split pre-tokenizers would spell them (a fast step gives its regex), for
  // writing tokenizer.json; nullopt when some step is not a regex split (literal, whitespace, BERT, ...).
  struct RegexSplit {
    std::string pattern;
    SplitBehavior behavior;
    bool invert;
  };
  std::optional<std::vector<RegexSplit>> regex_splits() const;

  // The steps llama.cpp uses for a GGUF tokenizer.ggml.pre value; throws owl::Error naming source
  // for an unknown name. Sets ignore_merges for the names whose reference tokenizer does that (Llama 3)
  // and nfc for those whose Hugging Face tokenizer normalises to NFC first (Qwen2, GPT-NeoX / MPT).
  static PreTokenizer from_gguf_pre(std::string_view pre, std::string_view source, bool& ignore_merges, bool& nfc);

 private:
  struct Step;
  std::vector<std::unique_ptr<Step>> steps_;
};

// Appends the pieces of s (offsets relative to s) that a fast pattern cuts it into.
void fast_split(FastPattern pattern, std::string_view s, std::vector<Piece>& out);

}  // namespace owl
