// Unigram language-model tokenizer (SentencePiece model_type UNIGRAM, HF tokenizers "Unigram", GGUF
// tokenizer.ggml.model = "t5"). Mirrors SentencePiece's unigram_model (Viterbi over the normalized
// text maximising the sum of piece scores, unknown characters at min score - 10, byte fallback).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/piece_table.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace owl {

struct UnigramOptions {
  bool escape_whitespace = true;          // spaces become U+2581 (SentencePiece, HF Metaspace)
  bool remove_extra_whitespaces = false;  // trim and collapse runs of spaces (SentencePiece normalizer)
  bool nfkc = false;                      // NFKC before segmentation (SentencePiece nmt_nfkc, approximated)
  bool split_on_space = false;            // segment each U+2581-led word alone (HF Metaspace split)
  bool byte_fallback = false;             // unknown characters become <0xXX> pieces
};

class UnigramTokenizer final : public Tokenizer {
 public:
  // Checks the vocabulary (scores are required, and an unknown piece unless every byte piece
  // exists); add_space_prefix of vocab gives the dummy prefix (default on).
  UnigramTokenizer(Vocab vocab, UnigramOptions options);
  UnigramTokenizer(const UnigramTokenizer&) = delete;  // the lookup table points into vocab_
  UnigramTokenizer& operator=(const UnigramTokenizer&) = delete;

  std::string token_to_piece(int32_t id) const override;
  void decode_append(int32_t id, bool& at_start, std::string& out) const override;

  int32_t n_vocab() const override { return vocab_.size(); }
  int32_t bos() const override { return vocab_.bos; }
  int32_t eos() const override { return vocab_.eos; }
  int32_t unk() const { return vocab_.unk; }
  bool is_end_of_generation(int32_t id) const override;
  std::string_view piece(int32_t id) const override;
  TokenType token_type(int32_t id) const override;
  bool add_bos_by_default() const override { return add_bos_ && vocab_.bos >= 0; }
  bool add_eos_by_default() const override { return add_eos_ && vocab_.eos >= 0; }
  bool lossless() const override { return !options_.remove_extra_whitespaces && !options_.nfkc; }
  std::string_view kind() const override { return "unigram"; }
  const Vocab& vocab() const { return vocab_; }

  // The text Viterbi runs over: normalized, spaces escaped, with the dummy prefix when asked.
  std::string normalize(std::string_view text, bool dummy_prefix = true) const;

 protected:
  void encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const override;

 private:
  // Best segmentation of one normalized span, appending ids.
  void viterbi(std::string_view s, std::vector<int32_t>& ids) const;

  Vocab vocab_;
  UnigramOptions options_;
  PieceTable pieces_;     // normal, user-defined pieces -> id (the first id wins on duplicates)
  size_t max_piece_bytes_ = 0;
  float unk_score_ = -10;  // min normal score - 10 (kUnkPenalty)
  float max_score_ = 0;    // user-defined pieces score length * max_score_ - 0.1
  std::array<int32_t, 256> byte_ids_{};
  bool add_bos_ = true;
  bool add_eos_ = false;
  bool add_space_prefix_ = true;
  std::vector<std::string> decoded_;
  std::vector<uint8_t> strip_space_;
  std::vector<uint8_t> end_of_generation_;
};

}  // namespace owl
