// WordPiece (GGUF tokenizer.ggml.model = "bert"; HF tokenizer.json WordPiece): BERT normalisation
// (clean text, CJK spacing, accent stripping, lower-casing), whitespace + punctuation split, then
// greedy longest-match-first pieces. Mirrors HF tokenizers' BertNormalizer, BertPreTokenizer and
// models/wordpiece; GGUF vocabularies spell word starts "▁word" and continuations bare (llama.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/piece_table.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace owl {

struct WordPieceOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
  std::string continuing_prefix = "##";  // HF spelling; GGUF vocabularies are detected by their "▁"
  size_t max_input_chars_per_word = 100;
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  explicit WordPieceTokenizer(Vocab vocab, WordPieceOptions options = {});
  WordPieceTokenizer(const WordPieceTokenizer&) = delete;
  WordPieceTokenizer& operator=(const WordPieceTokenizer&) = delete;

  std::string token_to_piece(int32_t id) const override;
  void decode_append(int32_t id, bool& at_start, std::string& out) const override;
  int32_t n_vocab() const override { return vocab_.size(); }
  int32_t bos() const override { return vocab_.bos; }  // [CLS]
  int32_t eos() const override { return vocab_.eos; }  // [SEP]
  bool is_end_of_generation(int32_t id) const override { return id >= 0 && id == vocab_.eos; }
  std::string_view piece(int32_t id) const override;
  TokenType token_type(int32_t id) const override;
  bool add_bos_by_default() const override { return vocab_.add_bos.value_or(true) && vocab_.bos >= 0; }
  bool add_eos_by_default() const override { return vocab_.add_eos.value_or(true) && vocab_.eos >= 0; }
  bool lossless() const override { return false; }
  std::string_view kind() const override { return "wordpiece"; }

  // The normalised, pre-tokenized words of text.
  std::vector<std::string> words(std::string_view text) const;

 protected:
  void encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const override;

 private:
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

  Vocab vocab_;
  WordPieceOptions options_;
  PieceTable starts_;  // word-initial pieces, without their "▁" (GGUF spelling)
  PieceTable conts_;   // continuation pieces, without "##" (HF spelling)
  std::vector<uint8_t> is_continuation_;
  std::vector<std::string> surface_;  // decoded text of each id
};

}  // namespace owl
