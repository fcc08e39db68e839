// Loaders for Hugging Face and other tokenizer files (internal to src/tokenizer): tokenizer.json,
// SentencePiece tokenizer.model, tiktoken ranks, vocab.json + merges.txt, and the special-token
// settings of tokenizer_config.json / added_tokens.json. Mirrors HF transformers' file layout.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace owl {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = true;  // control (parse_special only) rather than user-defined (always matched)
  bool lstrip = false;
  bool rstrip = false;
};

// What tokenizer_config.json, special_tokens_map.json and added_tokens.json say; all optional.
struct HfConfig {
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<std::string> unk_token;
  std::string tokenizer_class;
  std::vector<AddedToken> added;
  // Reads whichever of the three files exist in dir.
  static HfConfig from_dir(const std::string& dir);
};

std::string read_tokenizer_file(const std::string& path);
// Whether the first bytes of a tokenizer.model are a tiktoken rank line ("<base64> <rank>") rather
// than a SentencePiece protobuf.
bool looks_like_tiktoken(std::string_view head);
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path, const HfConfig& config);
std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path, const HfConfig& config);
std::unique_ptr<Tokenizer> load_tiktoken(const std::string& path, const HfConfig& config);
std::unique_ptr<Tokenizer> load_vocab_merges(const std::string& vocab_path, const std::string& merges_path,
                                             const HfConfig& config);

}  // namespace owl

namespace owl {
// Puts the added tokens into vocab (growing it; ids past the end are filled with unused pieces),
// with type control (special) or user_defined, and sets bos / eos / unk and add_bos / add_eos from
// config where it names them.
void apply_hf_config(Vocab& vocab, const HfConfig& config);
// Registers lstrip / rstrip of the added tokens with the built tokenizer.
void register_added_tokens(Tokenizer& tok, const HfConfig& config);
// The id of the token spelled text, or -1.
int32_t find_token(const Vocab& vocab, std::string_view text);
}  // namespace owl
