// Reading and checking tokenizer.ggml.* metadata into a Vocab (model-agnostic).
// Key names and types follow the GGUF specification (ggml docs/gguf.md, "Tokenizer"); the "none"
// spelling of special ids (-1 / 0xFFFFFFFF) follows what llama.cpp's converters write.
#include "tokenizer/vocab.h"

#include <cmath>
#include <limits>

#include "base/error.h"
#include "formats/gguf.h"

namespace owl {

namespace {

constexpr std::string_view kTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kScores = "tokenizer.ggml.scores";
constexpr std::string_view kTypes = "tokenizer.ggml.token_type";
constexpr std::string_view kMerges = "tokenizer.ggml.merges";

std::string what(const ModelFile& file, std::string_view key) {
  return fmt::format("{}: metadata '{}'", file.path(), key);
}

// An array-valued key, or nullptr when absent.
const gguf::Array* find_array(const ModelFile& file, std::string_view key) {
  const gguf::Value* v = file.find(key);
  return v == nullptr ? nullptr : &v->to_array(what(file, key));
}

std::vector<std::string> read_strings(const ModelFile& file, std::string_view key, const gguf::Array& a) {
  std::vector<std::string> out;
  out.reserve(a.items.size());
  for (size_t i = 0; i < a.items.size(); ++i) {
    const auto* s = std::get_if<std::string>(&a.items[i].v);
    if (s == nullptr) {
      fail("{}: element {}: expected a string, got {}", what(file, key), i, gguf::value_type_name(a.items[i].type()));
    }
    out.push_back(*s);
  }
  return out;
}

// A special id: -1 when absent or "none"; otherwise it must fit an int32 (range is checked later).
int32_t read_special_id(const ModelFile& file, std::string_view key) {
  const gguf::Value* v = file.find(key);
  if (v == nullptr) return -1;
  const std::string w = what(file, key);
  if (!v->is_integer()) fail("{}: expected an integer token id, got {}", w, gguf::value_type_name(v->type()));
  if (const auto* u = std::get_if<uint64_t>(&v->v)) {
    if (*u == std::numeric_limits<uint64_t>::max() || *u == 0xFFFFFFFFull) return -1;
  }
  if (const auto* u = std::get_if<uint32_t>(&v->v)) {
    if (*u == 0xFFFFFFFFu) return -1;
  }
  const int64_t id = v->to_int(w);
  if (id == -1) return -1;
  if (id < 0 || id > std::numeric_limits<int32_t>::max()) fail("{}: token id {} is out of range", w, id);
  return static_cast<int32_t>(id);
}

std::optional<bool> read_bool(const ModelFile& file, std::string_view key) { return file.find_bool(key); }

}  // namespace

std::optional<uint8_t> parse_byte_piece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(piece[3]);
  const int lo = hex(piece[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

Vocab Vocab::from_gguf(const ModelFile& file) {
  Vocab vocab;
  vocab.source = file.path();
  const auto model = file.find_string("tokenizer.ggml.model");
  if (!model) fail("{}: missing (the file carries no tokenizer)", what(file, "tokenizer.ggml.model"));
  vocab.model = *model;
  vocab.pre = file.find_string("tokenizer.ggml.pre").value_or("");

  const gguf::Array* tokens = find_array(file, kTokens);
  if (tokens == nullptr) fail("{}: missing", what(file, kTokens));
  vocab.tokens = read_strings(file, kTokens, *tokens);

  if (const gguf::Array* scores = find_array(file, kScores)) {
    vocab.scores.reserve(scores->items.size());
    for (size_t i = 0; i < scores->items.size(); ++i) {
      const gguf::Value& item = scores->items[i];
      if (const auto* f = std::get_if<float>(&item.v)) {
        vocab.scores.push_back(*f);
      } else if (item.is_float() || item.is_integer()) {
        vocab.scores.push_back(static_cast<float>(item.to_double(what(file, kScores))));
      } else {
        fail("{}: element {}: expected a number, got {}", what(file, kScores), i, gguf::value_type_name(item.type()));
      }
    }
  }

  if (const gguf::Array* types = find_array(file, kTypes)) {
    vocab.types.reserve(types->items.size());
    for (size_t i = 0; i < types->items.size(); ++i) {
      const gguf::Value& item = types->items[i];
      int64_t t = 0;
      if (const auto* p = std::get_if<int32_t>(&item.v)) {
        t = *p;
      } else if (item.is_integer()) {
        t = item.to_int(what(file, kTypes));
      } else {
        fail("{}: element {}: expected an integer, got {}", what(file, kTypes), i, gguf::value_type_name(item.type()));
      }
      if (t < 0 || t > static_cast<int64_t>(TokenType::byte)) {
        fail("{}: element {}: unknown token type {} (expected 0-6)", what(file, kTypes), i, t);
      }
      vocab.types.push_back(static_cast<TokenType>(t));
    }
    if (vocab.types.empty() && !vocab.tokens.empty()) fail("{}: empty array", what(file, kTypes));
  }

  if (const gguf::Array* merges = find_array(file, kMerges)) vocab.merges = read_strings(file, kMerges, *merges);

  vocab.bos = read_special_id(file, "tokenizer.ggml.bos_token_id");
  vocab.eos = read_special_id(file, "tokenizer.ggml.eos_token_id");
  vocab.unk = read_special_id(file, "tokenizer.ggml.unknown_token_id");
  vocab.pad = read_special_id(file, "tokenizer.ggml.padding_token_id");
  vocab.sep = read_special_id(file, "tokenizer.ggml.seperator_token_id");
  vocab.eot = read_special_id(file, "tokenizer.ggml.eot_token_id");
  vocab.eom = read_special_id(file, "tokenizer.ggml.eom_token_id");
  vocab.cls = read_special_id(file, "tokenizer.ggml.cls_token_id");
  vocab.mask = read_special_id(file, "tokenizer.ggml.mask_token_id");
  if (vocab.model == "bert") {  // BERT's BOS / EOS are [CLS] / [SEP] (llama.cpp does the same)
    if (vocab.bos < 0) vocab.bos = vocab.cls;
    if (vocab.eos < 0) vocab.eos = vocab.sep;
  }
  vocab.add_bos = read_bool(file, "tokenizer.ggml.add_bos_token");
  vocab.add_eos = read_bool(file, "tokenizer.ggml.add_eos_token");
  vocab.add_space_prefix = read_bool(file, "tokenizer.ggml.add_space_prefix");

  vocab.validate();
  return vocab;
}

void Vocab::validate() {
  const auto key_what = [&](std::string_view key) { return fmt::format("{}: metadata '{}'", source, key); };
  if (tokens.empty()) fail("{}: the vocabulary is empty", key_what(kTokens));
  if (tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("{}: {} tokens is more than owl supports", key_what(kTokens), tokens.size());
  }
  if (!scores.empty() && scores.size() != tokens.size()) {
    fail("{}: {} scores for {} tokens", key_what(kScores), scores.size(), tokens.size());
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    if (std::isnan(scores[i])) fail("{}: element {} is NaN", key_what(kScores), i);
  }
  if (types.empty()) types.assign(tokens.size(), TokenType::normal);
  if (types.size() != tokens.size()) {
    fail("{}: {} token types for {} tokens", key_what(kTypes), types.size(), tokens.size());
  }
  for (size_t i = 0; i < types.size(); ++i) {
    const auto t = static_cast<int32_t>(types[i]);
    if (t < 0 || t > static_cast<int32_t>(TokenType::byte)) {
      fail("{}: element {}: unknown token type {} (expected 0-6)", key_what(kTypes), i, t);
    }
    if (types[i] == TokenType::byte && !parse_byte_piece(tokens[i])) {
      fail("{}: token {} has type byte but its text '{}' is not of the form <0xXX>", key_what(kTokens), i, tokens[i]);
    }
  }
  const std::pair<int32_t, std::string_view> specials[] = {
      {bos, "tokenizer.ggml.bos_token_id"},      {eos, "tokenizer.ggml.eos_token_id"},
      {unk, "tokenizer.ggml.unknown_token_id"},  {pad, "tokenizer.ggml.padding_token_id"},
      {sep, "tokenizer.ggml.seperator_token_id"}, {eot, "tokenizer.ggml.eot_token_id"},
      {eom, "tokenizer.ggml.eom_token_id"},      {cls, "tokenizer.ggml.cls_token_id"},
      {mask, "tokenizer.ggml.mask_token_id"},
  };
  for (const auto& [id, key] : specials) {
    if (id < -1 || id >= size()) fail("{}: token id {} is out of range (the vocabulary has {} tokens)", key_what(key), id, size());
  }
}

void Vocab::check_id(int32_t id) const {
  if (id < 0 || id >= size()) fail("{}: token id {} is out of range (the vocabulary has {} tokens)", source, id, size());
}

}  // namespace owl
