// The token table that tokenizer.ggml.* GGUF metadata describes, read and checked once and shared by
// every tokenizer model (SentencePiece-style, byte-level BPE, ...). Mirrors the "Tokenizer" key list
// of the GGUF specification (ggml docs/gguf.md); nothing here depends on the tokenizer model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace owl {

struct Vocab {
  std::string source = "<memory>";  // the file it came from, for error messages
  std::string model;                // tokenizer.ggml.model ("llama", "gpt2", ...)
  std::string pre;                  // tokenizer.ggml.pre; empty when absent
  std::vector<std::string> tokens;  // tokenizer.ggml.tokens: id -> piece
  std::vector<float> scores;        // tokenizer.ggml.scores; empty when absent
  std::vector<TokenType> types;     // tokenizer.ggml.token_type; all normal when absent
  std::vector<std::string> merges;  // tokenizer.ggml.merges ("a b" pairs); empty when absent

  // Special ids; -1 when the key is absent or holds the "none" value (-1 / 0xFFFFFFFF).
  int32_t bos = -1;  // tokenizer.ggml.bos_token_id
  int32_t eos = -1;  // tokenizer.ggml.eos_token_id
  int32_t unk = -1;  // tokenizer.ggml.unknown_token_id
  int32_t pad = -1;  // tokenizer.ggml.padding_token_id
  int32_t sep = -1;  // tokenizer.ggml.seperator_token_id (sic, as in the GGUF spec)
  int32_t eot = -1;  // tokenizer.ggml.eot_token_id
  int32_t eom = -1;  // tokenizer.ggml.eom_token_id
  int32_t cls = -1;  // tokenizer.ggml.cls_token_id (BERT)
  int32_t mask = -1;  // tokenizer.ggml.mask_token_id (BERT)

  std::optional<bool> add_bos;           // tokenizer.ggml.add_bos_token
  std::optional<bool> add_eos;           // tokenizer.ggml.add_eos_token
  std::optional<bool> add_space_prefix;  // tokenizer.ggml.add_space_prefix

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
  TokenType type(int32_t id) const { return types[static_cast<size_t>(id)]; }
  // owl::Error naming the source file when id is not a token of this vocabulary.
  void check_id(int32_t id) const;

  // Reads every tokenizer.ggml.* key above; throws owl::Error "<file>: metadata '<key>': ..." when a
  // key is missing (tokens, model), has the wrong type, or disagrees with the others.
  static Vocab from_gguf(const ModelFile& file);

  // Checks lengths, token types and special ids (for vocabularies built in memory as well);
  // fills types with normal when it is empty. Throws owl::Error naming source and the key.
  void validate();
};

// The byte a byte-fallback piece stands for: "<0x4A>" -> 0x4A; nullopt for any other text.
std::optional<uint8_t> parse_byte_piece(std::string_view piece);

}  // namespace owl
