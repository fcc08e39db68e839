// Byte-level BPE encode/decode (see bpe_tokenizer.h). The byte alphabet is GPT-2's bytes_to_unicode
// (openai/gpt-2 encoder.py); tokens are turned back into raw bytes once at load, so encoding merges
// bytes directly and decoding is a table look-up. Repeated words are encoded once per call.
#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>

#include "base/error.h"
#include "tokenizer/unicode.h"

namespace owl {

namespace {

struct ByteAlphabet {
  std::array<uint32_t, 256> to_cp{};
  std::vector<int16_t> to_byte = std::vector<int16_t>(512, -1);
  ByteAlphabet() {
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      to_cp[b] = printable ? b : next++;
      to_byte[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet a;
  return a;
}

// Word -> ids cache for one encode call: open addressing over (hash, offset, length) slots, the
// words' bytes and ids kept in two arrays; cleared when it holds kMaxEntries.
class WordIdCache {
 public:
  static constexpr size_t kMaxEntries = size_t{1} << 15;
  static constexpr size_t kMaxWordBytes = 128;

  bool find(std::string_view word, uint64_t hash, std::vector<int32_t>& ids) const {
    if (slots_.empty()) return false;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.word_len == 0) return false;
      if (s.hash == hash && s.word_len == word.size() && equal_bytes(words_.data() + s.word_offset, word.data(), word.size())) {
        ids.insert(ids.end(), ids_.begin() + s.ids_offset, ids_.begin() + s.ids_offset + s.n_ids);
        return true;
      }
    }
  }
  void insert(std::string_view word, uint64_t hash, const int32_t* ids, size_t n) {
    if (count_ >= kMaxEntries) {
      slots_.clear();
      words_.clear();
      ids_.clear();
      count_ = 0;
    }
    if (2 * (count_ + 1) > slots_.size()) rehash(slots_.empty() ? 256 : slots_.size() * 2);
    size_t i = hash & mask_;
    while (slots_[i].word_len != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, static_cast<uint32_t>(words_.size()), static_cast<uint32_t>(word.size()),
                     static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(n)};
    words_.append(word);
    ids_.insert(ids_.end(), ids, ids + n);
    ++count_;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t word_offset = 0;
    uint32_t word_len = 0;  // 0: empty
    uint32_t ids_offset = 0;
    uint32_t n_ids = 0;
  };
  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.word_len == 0) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].word_len != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::string words_;
  std::vector<int32_t> ids_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace

uint32_t byte_to_codepoint(uint8_t b) { return alphabet().to_cp[b]; }

int codepoint_to_byte(uint32_t cp) { return cp < 512 ? alphabet().to_byte[cp] : -1; }

std::string BpeTokenizer::to_raw(std::string_view spelled, bool& ok) const {
  ok = true;
  if (spelling_ == BpeOptions::Spelling::raw) return std::string(spelled);
  std::string out;
  out.reserve(spelled.size());
  for (size_t pos = 0; pos < spelled.size();) {
    size_t len = 0;
    const uint32_t cp = unicode::decode(spelled, pos, len);
    const int b = cp == unicode::kInvalid ? -1 : codepoint_to_byte(cp);
    if (b < 0) {
      ok = false;
      return std::string(spelled);
    }
    out.push_back(static_cast<char>(b));
    pos += len;
  }
  return out;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_vocab(Vocab vocab) {
  BpeOptions options;
  return std::make_unique<BpeTokenizer>(std::move(vocab), std::move(options));
}

BpeTokenizer::BpeTokenizer(Vocab vocab, BpeOptions options) : vocab_(std::move(vocab)), spelling_(options.spelling) {
  vocab_.validate();
  const std::string& src = vocab_.source;
  nfc_ = options.nfc;
  add_prefix_space_ = options.add_prefix_space;
  model_options_.ignore_merges = options.ignore_merges;
  if (options.pre_given) {
    pre_ = std::move(options.pre);
  } else {
    bool ignore = false;
    bool nfc = false;
    pre_ = PreTokenizer::from_gguf_pre(vocab_.pre, src, ignore, nfc);
    model_options_.ignore_merges = model_options_.ignore_merges || ignore;
    nfc_ = nfc_ || nfc;
  }
  model_options_.utf8_symbols = !options.byte_level_symbols;
  model_options_.byte_fallback = options.byte_fallback;
  model_options_.unk = vocab_.unk;

  const int32_t n = vocab_.size();
  raw_.resize(static_cast<size_t>(n));
  end_of_generation_.assign(static_cast<size_t>(n), 0);
  byte_ids_.fill(-1);
  std::vector<std::pair<std::string, int32_t>> secondary;  // user-defined tokens spelled in the byte alphabet
  for (int32_t id = 0; id < n; ++id) {
    const std::string& text = vocab_.tokens[static_cast<size_t>(id)];
    const TokenType type = vocab_.type(id);
    auto& raw = raw_[static_cast<size_t>(id)];
    if (type == TokenType::control) {
      raw = text;  // decodes to nothing (see token_to_piece), kept for piece()
    } else if (type == TokenType::byte) {
      const uint8_t b = *parse_byte_piece(text);
      raw.assign(1, static_cast<char>(b));
      if (byte_ids_[b] < 0) byte_ids_[b] = id;
    } else if (type == TokenType::user_defined) {
      raw = text;  // added tokens are plain text
      bool ok = false;
      std::string spelled = to_raw(text, ok);
      if (ok && !text.empty()) secondary.emplace_back(std::move(spelled), id);
    } else {
      bool ok = false;
      raw = to_raw(text, ok);
      if (!raw.empty()) model_.add_token(raw, id);
    }
    if ((type == TokenType::control || type == TokenType::user_defined) && is_end_of_turn_piece(text)) {
      end_of_generation_[static_cast<size_t>(id)] = 1;
    }
  }
  for (const auto& [text, id] : secondary) model_.add_token(text, id);
  model_options_.byte_ids = byte_ids_.data();
  for (int32_t id : {vocab_.eos, vocab_.eot, vocab_.eom}) {
    if (id >= 0) end_of_generation_[static_cast<size_t>(id)] = 1;
  }

  // Merges, highest priority first.
  uint32_t rank = 0;
  auto add_merge = [&](std::string_view a, std::string_view b) {
    bool ok_a = false;
    bool ok_b = false;
    const std::string ra = to_raw(a, ok_a);
    const std::string rb = to_raw(b, ok_b);
    const int32_t ia = model_.find(ra);
    const int32_t ib = model_.find(rb);
    const int32_t ir = model_.find(ra + rb);
    if (ia >= 0 && ib >= 0 && ir >= 0) model_.add_merge(ia, ib, ir, rank);
    ++rank;
  };
  if (options.merges_by_rank) {
    for (int32_t id = 0; id < n; ++id) {
      const std::string& raw = raw_[static_cast<size_t>(id)];
      if (raw.size() < 2 || model_.find(raw) != id) continue;
      for (size_t k = 1; k < raw.size(); ++k) {
        const int32_t a = model_.find(std::string_view(raw).substr(0, k));
        const int32_t b = model_.find(std::string_view(raw).substr(k));
        if (a >= 0 && b >= 0) model_.add_merge(a, b, id, static_cast<uint32_t>(id));
      }
    }
  } else if (!options.merges.empty()) {
    for (const auto& [a, b] : options.merges) add_merge(a, b);
  } else {
    for (size_t i = 0; i < vocab_.merges.size(); ++i) {
      const std::string& m = vocab_.merges[i];
      const size_t space = m.find(' ', 1);
      if (space == std::string::npos) {
        fail("{}: metadata 'tokenizer.ggml.merges': element {} ('{}') is not two tokens separated by a space", src, i, m);
      }
      add_merge(std::string_view(m).substr(0, space), std::string_view(m).substr(space + 1));
    }
  }
  if (model_.n_merges() == 0 && n > 256 && !options.ignore_merges) {
    fail("{}: metadata 'tokenizer.ggml.merges': missing or empty (a BPE vocabulary needs merges)", src);
  }
  add_special_tokens_from_types();
}

std::string BpeTokenizer::token_to_piece(int32_t id) const {
  vocab_.check_id(id);
  if (vocab_.type(id) == TokenType::control) return {};
  return raw_[static_cast<size_t>(id)];
}

void BpeTokenizer::decode_append(int32_t id, bool& at_start, std::string& out) const {
  vocab_.check_id(id);
  if (vocab_.type(id) == TokenType::control) return;
  const std::string& raw = raw_[static_cast<size_t>(id)];
  std::string_view piece = raw;
  // HF ByteLevel add_prefix_space: the space added in front of the text is not part of it.
  if (at_start && add_prefix_space_ && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
  if (!raw.empty()) at_start = false;
  out.append(piece);
}

std::string_view BpeTokenizer::piece(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.tokens[static_cast<size_t>(id)];
}

TokenType BpeTokenizer::token_type(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.type(id);
}

bool BpeTokenizer::is_end_of_generation(int32_t id) const {
  return id >= 0 && id < vocab_.size() && end_of_generation_[static_cast<size_t>(id)] != 0;
}

std::vector<std::string> BpeTokenizer::pre_tokenize(std::string_view text) const {
  const std::string normalized = nfc_ ? unicode::normalize(text, unicode::Form::nfc) : std::string(text);
  std::vector<Piece> pieces;
  pre_.split(normalized, pieces);
  std::vector<std::string> out;
  out.reserve(pieces.size());
  for (const Piece& p : pieces) out.emplace_back(normalized.substr(p.begin, p.end - p.begin));
  return out;
}

void BpeTokenizer::encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const {
  std::string buffer;
  std::string_view s = text;
  if (nfc_ && !unicode::is_ascii(s)) {
    buffer = unicode::normalize(s, unicode::Form::nfc);
    s = buffer;
  }
  if (add_prefix_space_ && at_start && !s.empty() && s[0] != ' ') {
    std::string prefixed(1, ' ');
    prefixed.append(s);
    buffer.swap(prefixed);
    s = buffer;
  }
  if (s.empty()) return;
  std::vector<Piece> pieces;
  pieces.reserve(s.size() / 4 + 1);
  pre_.split(s, pieces);
  BpeModel::Scratch scratch;
  WordIdCache cache;
  const bool use_cache = pieces.size() > 64;
  ids.reserve(ids.size() + s.size() / 3 + 1);
  for (const Piece& p : pieces) {
    const std::string_view word = s.substr(p.begin, p.end - p.begin);
    if (!use_cache || word.size() > WordIdCache::kMaxWordBytes) {
      model_.encode_word(word, model_options_, scratch, ids);
      continue;
    }
    const uint64_t hash = hash_bytes(word);
    if (cache.find(word, hash, ids)) continue;
    const size_t before = ids.size();
    model_.encode_word(word, model_options_, scratch, ids);
    cache.insert(word, hash, ids.data() + before, ids.size() - before);
  }
}

}  // namespace owl
