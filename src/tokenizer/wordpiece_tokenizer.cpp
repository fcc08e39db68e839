// WordPiece encode/decode (see wordpiece_tokenizer.h). Normalisation and splitting follow HF
// tokenizers' normalizers/bert.rs and pre_tokenizers/bert.rs; the piece search models/wordpiece
// (longest prefix first; a word with an unmatched remainder becomes [UNK]).
#include "tokenizer/wordpiece_tokenizer.h"

#include "base/error.h"
#include "tokenizer/spm_text.h"
#include "tokenizer/unicode.h"

namespace owl {

using spm::kSpace;

namespace {

bool bert_punctuation(uint32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return (unicode::flags(cp) & unicode::kPunctuation) != 0;
}

// HF bert.rs is_control: Cc / Cf / Cn / Co except \t \n \r.
bool bert_control(uint32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const uint16_t f = unicode::flags(cp);
  if (f & (unicode::kControl | unicode::kFormat)) return true;
  return f == 0 || (cp >= 0xE000 && cp <= 0xF8FF) || cp >= 0xF0000;  // unassigned or private use
}
}  // namespace

WordPieceTokenizer::WordPieceTokenizer(Vocab vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  vocab_.validate();
  const int32_t n = vocab_.size();
  bool gguf_spelling = false;
  for (const std::string& t : vocab_.tokens) {
    if (t.starts_with(kSpace)) {
      gguf_spelling = true;
      break;
    }
  }
  is_continuation_.assign(static_cast<size_t>(n), 0);
  surface_.resize(static_cast<size_t>(n));
  for (int32_t id = 0; id < n; ++id) {
    const std::string& t = vocab_.tokens[static_cast<size_t>(id)];
    const TokenType type = vocab_.type(id);
    if (type == TokenType::control) continue;
    std::string_view v = t;
    auto& surface = surface_[static_cast<size_t>(id)];
    if (gguf_spelling) {
      if (v.starts_with(kSpace)) {
        v.remove_prefix(kSpace.size());
        starts_.insert(v, id);
        surface.assign(1, ' ');
        surface.append(v);
      } else {
        conts_.insert(v, id);
        is_continuation_[static_cast<size_t>(id)] = 1;
        surface = std::string(v);
      }
    } else if (!options_.continuing_prefix.empty() && v.starts_with(options_.continuing_prefix) &&
               v.size() > options_.continuing_prefix.size()) {
      v.remove_prefix(options_.continuing_prefix.size());
      conts_.insert(v, id);
      is_continuation_[static_cast<size_t>(id)] = 1;
      surface = std::string(v);
    } else {
      starts_.insert(v, id);
      surface.assign(1, ' ');
        surface.append(v);
    }
  }
  if (vocab_.unk < 0) {
    for (int32_t id = 0; id < n; ++id) {
      if (vocab_.tokens[static_cast<size_t>(id)] == "[UNK]") vocab_.unk = id;
    }
  }
  if (vocab_.unk < 0) fail("{}: metadata 'tokenizer.ggml.unknown_token_id': missing (WordPiece needs [UNK])", vocab_.source);
  add_special_tokens_from_types();
}

std::vector<std::string> WordPieceTokenizer::words(std::string_view text) const {
  std::vector<std::string> out;
  std::string word;
  auto finish = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    const uint32_t cp = unicode::decode(text, pos, len);
    const std::string_view raw = text.substr(pos, len);
    pos += len;
    if (cp == unicode::kInvalid) {  // kept as is: it matches no piece, so the word becomes [UNK]
      word.append(raw);
      continue;
    }
    if (options_.clean_text && (cp == 0 || cp == 0xFFFD || bert_control(cp))) continue;
    if (unicode::is_whitespace(cp) || cp == ' ') {
      finish();
      continue;
    }
    if (bert_punctuation(cp) || (options_.handle_chinese_chars && (unicode::flags(cp) & unicode::kCjk))) {
      finish();
      word.append(raw);
      if (options_.lowercase && cp < 0x80) word[0] = static_cast<char>(unicode::to_lower(cp));
      finish();
      continue;
    }
    if (cp < 0x80) {
      word.push_back(static_cast<char>(options_.lowercase ? unicode::to_lower(cp) : cp));
      continue;
    }
    std::string c(raw);
    if (options_.strip_accents) c = unicode::normalize(c, unicode::Form::nfd);
    for (size_t p = 0; p < c.size();) {
      size_t l = 0;
      const uint32_t d = unicode::decode(c, p, l);
      p += l;
      if (options_.strip_accents && (unicode::flags(d) & unicode::kNonspacingMark)) continue;
      unicode::append_utf8(options_.lowercase ? unicode::to_lower(d) : d, word);
    }
  }
  finish();
  return out;
}

void WordPieceTokenizer::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  size_t n_chars = 0;
  for (size_t p = 0; p < word.size(); ++n_chars) {
    size_t l = 0;
    unicode::decode(word, p, l);
    p += l;
  }
  if (n_chars > options_.max_input_chars_per_word) {
    ids.push_back(vocab_.unk);
    return;
  }
  const size_t before = ids.size();
  size_t start = 0;
  while (start < word.size()) {
    const PieceTable& table = start == 0 ? starts_ : conts_;
    size_t end = word.size();
    int32_t found = -1;
    while (end > start) {
      found = table.find(word.substr(start, end - start));
      if (found >= 0) break;
      // Step back one whole character.
      do {
        --end;
      } while (end > start && (static_cast<uint8_t>(word[end]) & 0xC0) == 0x80);
    }
    if (found < 0) {
      ids.resize(before);
      ids.push_back(vocab_.unk);
      return;
    }
    ids.push_back(found);
    start = end;
  }
}

void WordPieceTokenizer::encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const {
  (void)at_start;
  for (const std::string& w : words(text)) encode_word(w, ids);
}

std::string WordPieceTokenizer::token_to_piece(int32_t id) const {
  vocab_.check_id(id);
  return surface_[static_cast<size_t>(id)];
}

void WordPieceTokenizer::decode_append(int32_t id, bool& at_start, std::string& out) const {
  vocab_.check_id(id);
  std::string_view s = surface_[static_cast<size_t>(id)];
  if (s.empty()) return;
  if (at_start && s[0] == ' ') s.remove_prefix(1);
  at_start = false;
  out.append(s);
}

std::string_view WordPieceTokenizer::piece(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.tokens[static_cast<size_t>(id)];
}

TokenType WordPieceTokenizer::token_type(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.type(id);
}

}  // namespace owl
