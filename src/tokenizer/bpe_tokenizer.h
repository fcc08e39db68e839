// Byte-level BPE (GGUF tokenizer.ggml.model = "gpt2": GPT-2, Llama 3, Qwen2, Falcon, StarCoder,
// DeepSeek, MPT, ...; HF tokenizer.json BPE; vocab.json + merges.txt; tiktoken ranks). Mirrors HF
// tokenizers' ByteLevel pre-tokenizer/decoder + models/bpe, and llama.cpp's llm_tokenizer_bpe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/bpe_model.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace owl {

struct BpeOptions {
  // How token texts are spelled: in GPT-2's byte-to-unicode alphabet ("Ġ" = space), or as the raw
  // bytes themselves (tiktoken) or as plain UTF-8 text (character-level BPE).
  enum class Spelling { byte_level, raw } spelling = Spelling::byte_level;
  bool byte_level_symbols = true;  // merging starts from bytes (false: from UTF-8 characters)
  // Merge list in the tokens' spelling, highest priority first; when empty, vocab.merges ("a b").
  std::vector<std::pair<std::string, std::string>> merges;
  // No merge list: the pair whose concatenation is the token of lowest id merges first (tiktoken).
  bool merges_by_rank = false;
  bool ignore_merges = false;   // a pre-tokenized word that is a token is emitted whole
  bool byte_fallback = false;   // characters without a token become <0xXX> tokens
  bool nfc = false;             // normalise text to NFC first
  bool add_prefix_space = false;  // a space in front of text that does not start with one
  bool pre_given = false;       // pre is set; otherwise it comes from vocab.pre (GGUF names)
  PreTokenizer pre;
};

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(Vocab vocab, BpeOptions options);
  // A GGUF "gpt2" vocabulary: the pre-tokenizer named by tokenizer.ggml.pre.
  static std::unique_ptr<BpeTokenizer> from_vocab(Vocab vocab);
  BpeTokenizer(const BpeTokenizer&) = delete;
  BpeTokenizer& operator=(const BpeTokenizer&) = delete;

  std::string token_to_piece(int32_t id) const override;
  void decode_append(int32_t id, bool& at_start, std::string& out) const override;
  int32_t n_vocab() const override { return vocab_.size(); }
  int32_t bos() const override { return vocab_.bos; }
  int32_t eos() const override { return vocab_.eos; }
  bool is_end_of_generation(int32_t id) const override;
  std::string_view piece(int32_t id) const override;
  TokenType token_type(int32_t id) const override;
  bool add_bos_by_default() const override { return vocab_.add_bos.value_or(false) && vocab_.bos >= 0; }
  bool add_eos_by_default() const override { return vocab_.add_eos.value_or(false) && vocab_.eos >= 0; }
  bool lossless() const override { return !nfc_; }
  std::string_view kind() const override { return "bpe"; }
  bool ignores_merges() const { return model_options_.ignore_merges; }
  const Vocab& vocab() const { return vocab_; }
  // How it was built, for writing it out as GGUF metadata (gguf_export.cpp).
  const PreTokenizer& pre_tokenizer() const { return pre_; }
  bool normalizes_nfc() const { return nfc_; }
  bool adds_prefix_space() const { return add_prefix_space_; }
  bool byte_fallback() const { return model_options_.byte_fallback; }
  bool byte_level_spelling() const { return spelling_ == BpeOptions::Spelling::byte_level; }
  bool merges_bytes() const { return !model_options_.utf8_symbols; }  // symbols start as bytes

  // The pre-tokenized words of text (after normalisation), for tests.
  std::vector<std::string> pre_tokenize(std::string_view text) const;

 protected:
  void encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const override;

 private:
  std::string to_raw(std::string_view spelled, bool& ok) const;

  Vocab vocab_;
  BpeOptions::Spelling spelling_;
  bool nfc_ = false;
  bool add_prefix_space_ = false;
  PreTokenizer pre_;
  BpeModel model_;
  BpeModel::Options model_options_;
  std::array<int32_t, 256> byte_ids_{};
  std::vector<std::string> raw_;  // what each id decodes to
  std::vector<uint8_t> end_of_generation_;
};

// GPT-2's byte-to-unicode alphabet: the code point byte b is spelled with, and the inverse
// (-1 for code points outside the alphabet).
uint32_t byte_to_codepoint(uint8_t b);
int codepoint_to_byte(uint32_t cp);

}  // namespace owl
