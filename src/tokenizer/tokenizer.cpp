// Tokenizer::from_gguf (picks the implementation by tokenizer.ggml.model), special-token splitting
// shared by every model, and the streaming decoder. The model names are those of the GGUF
// specification (ggml docs/gguf.md, "Tokenizer"); special tokens are matched leftmost-longest as HF
// tokenizers' AddedVocabulary does; the streaming rule (hold back an unfinished UTF-8 sequence)
// mirrors what llama.cpp's examples do.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "base/error.h"
#include "formats/gguf.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/unigram_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace owl {

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const ModelFile& file) {
  const auto model = file.find_string("tokenizer.ggml.model");
  if (!model) fail("{}: metadata 'tokenizer.ggml.model': missing (the file carries no tokenizer)", file.path());
  if (*model == "llama") return std::make_unique<SpmTokenizer>(Vocab::from_gguf(file));
  if (*model == "gpt2") return BpeTokenizer::from_vocab(Vocab::from_gguf(file));
  if (*model == "bert") return std::make_unique<WordPieceTokenizer>(Vocab::from_gguf(file));
  if (*model == "t5") {  // llama.cpp's name for SentencePiece Unigram vocabularies (T5, mT5, ...)
    Vocab vocab = Vocab::from_gguf(file);
    UnigramOptions o;
    o.remove_extra_whitespaces = file.find_bool("tokenizer.ggml.remove_extra_whitespaces").value_or(true);
    o.nfkc = file.find("tokenizer.ggml.precompiled_charsmap") != nullptr;  // approximated by NFKC
    for (TokenType t : vocab.types) o.byte_fallback = o.byte_fallback || t == TokenType::byte;
    if (!vocab.add_bos) vocab.add_bos = false;  // T5 appends EOS, it does not prepend BOS
    return std::make_unique<UnigramTokenizer>(std::move(vocab), o);
  }
  fail("{}: metadata 'tokenizer.ggml.model': tokenizer model '{}' is not supported (supported: llama, gpt2, bert, t5)",
       file.path(), *model);
}

bool Tokenizer::is_end_of_turn_piece(std::string_view piece) {
  static constexpr std::string_view kPieces[] = {
      "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
      "<|END_OF_TURN_TOKEN|>", "<|end_of_text|>", "<｜end▁of▁sentence｜>", "<|return|>", "<|call|>",
  };
  for (std::string_view p : kPieces) {
    if (piece == p) return true;
  }
  return false;
}

void Tokenizer::add_special_token(std::string_view text, int32_t id, bool always, bool lstrip, bool rstrip) {
  if (text.empty()) return;
  for (Special& s : specials_) {
    if (s.text == text) {  // known already: only the flags change
      s.always = s.always || always;
      s.lstrip = s.lstrip || lstrip;
      s.rstrip = s.rstrip || rstrip;
      return;
    }
  }
  if (by_first_byte_.empty()) by_first_byte_.resize(256);
  specials_.push_back(Special{std::string(text), id, always, lstrip, rstrip});
  auto& list = by_first_byte_[static_cast<uint8_t>(text[0])];
  list.push_back(static_cast<uint32_t>(specials_.size() - 1));
  // Longest first: the first candidate that matches is the longest match at this position.
  std::stable_sort(list.begin(), list.end(),
                   [&](uint32_t a, uint32_t b) { return specials_[a].text.size() > specials_[b].text.size(); });
}

void Tokenizer::add_special_tokens_from_types() {
  for (int32_t id = 0; id < n_vocab(); ++id) {
    const TokenType t = token_type(id);
    if (t == TokenType::control) add_special_token(piece(id), id, false);
    else if (t == TokenType::user_defined) add_special_token(piece(id), id, true);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> ids;
  if (add_bos && bos() >= 0) ids.push_back(bos());
  if (specials_.empty()) {
    encode_text(text, true, ids);
    return ids;
  }
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  bool at_start = true;
  size_t fragment = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const Special* hit = nullptr;
    for (uint32_t index : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
      const Special& s = specials_[index];
      if ((s.always || parse_special) && text.compare(pos, s.text.size(), s.text) == 0) {
        hit = &s;
        break;
      }
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    size_t end = pos;
    if (hit->lstrip) {
      while (end > fragment && is_space(text[end - 1])) --end;
    }
    if (end > fragment) {
      encode_text(text.substr(fragment, end - fragment), at_start, ids);
    }
    ids.push_back(hit->id);
    at_start = false;
    pos += hit->text.size();
    if (hit->rstrip) {
      while (pos < text.size() && is_space(text[pos])) ++pos;
    }
    fragment = pos;
  }
  if (fragment < text.size()) encode_text(text.substr(fragment), at_start, ids);
  return ids;
}

std::vector<int32_t> Tokenizer::encode_with_specials(std::string_view text, bool parse_special) const {
  std::vector<int32_t> ids = encode(text, add_bos_by_default(), parse_special);
  if (add_eos_by_default() && eos() >= 0) ids.push_back(eos());
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  bool at_start = true;
  for (int32_t id : ids) decode_append(id, at_start, out);
  return out;
}

void Tokenizer::decode_append(int32_t id, bool& at_start, std::string& out) const {
  const std::string piece = token_to_piece(id);
  if (!piece.empty()) at_start = false;
  out += piece;
}

std::string StreamDecoder::feed(int32_t id) {
  std::string out = std::move(held_);
  held_.clear();
  tokenizer_.decode_append(id, at_start_, out);
  // Only the last few bytes can be an unfinished character; everything before is final.
  const size_t tail = utf8::incomplete_tail(out);
  if (tail > 0) {
    held_ = out.substr(out.size() - tail);
    out.erase(out.size() - tail);
  }
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = std::move(held_);
  held_.clear();
  return out;
}

void StreamDecoder::reset() {
  at_start_ = true;
  held_.clear();
}

}  // namespace owl
