// What gguf-py reads from a Hugging Face directory besides the vocabulary (internal to gguf_export.cpp):
// tokenizer_config.json, config.json, added_tokens.json, tokenizer.json's added tokens and
// post-processor, and SpecialVocab's rules for special ids and add_bos / add_eos (gguf-py vocab.py).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace owl {

struct HfAddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
};

struct HfFiles {
  std::filesystem::path dir;
  nlohmann::json tokenizer_json;  // each null when the file is absent
  nlohmann::json tokenizer_config;
  nlohmann::json config;             // config.json
  nlohmann::json added_tokens_json;  // added_tokens.json

  // Reads whichever of the four files exist; owl::Error naming the file when one is not valid JSON.
  static HfFiles read(const std::filesystem::path& dir);
  // config.json's vocab_size (text_config's first: llama.cpp lifts text_config to the top), when given.
  std::optional<size_t> vocab_size() const;
  // Every added token, the last source naming an id winning: added_tokens.json (not special), then
  // tokenizer.json's added_tokens when with_tokenizer_json, then tokenizer_config.json's added_tokens_decoder.
  std::vector<HfAddedToken> added_tokens(bool with_tokenizer_json) const;
};

// llama.cpp's does_token_look_special: added tokens it types control although they are not marked special.
bool looks_special(std::string_view token);

// Sets the special ids (bos, eos, unk, sep, pad, cls, mask; eot when the post-processor moves EOS) and
// add_bos / add_eos of v as SpecialVocab finds them: tokenizer_config.json's *_token looked up among
// tokenizer.json's added tokens, the post-processor's template, then config.json's *_token_id. Where it
// finds no bos, eos, unk, add_bos or add_eos, loaded's value (what owl's HF loader found) is kept;
// every other id of v is replaced (eot / eom included: llama.cpp finds Llama 3's <|eot_id|> by its text).
void apply_special_tokens(Vocab& v, const Vocab& loaded, const HfFiles& files);

}  // namespace owl
