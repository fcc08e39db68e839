// SentencePiece-style BPE encode/decode. Mirrors the published SentencePiece BPE algorithm
// (bpe_model.cc: a priority queue of adjacent pairs keyed by piece score, leftmost first on ties,
// resegmenting unused pieces, byte fallback) and its decoder's dummy-prefix removal.
#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"
#include "tokenizer/spm_text.h"
#include "tokenizer/utf8.h"

namespace owl {

using spm::kSpace;
using spm::kUnknownSurface;
using spm::unescape_spaces;

namespace {

// Control / user-defined pieces that end a turn in common chat formats, besides eos/eot/eom.
constexpr std::string_view kEndOfTurnPieces[] = {
    "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
    "<|END_OF_TURN_TOKEN|>",
};

// True when the piece holds U+2581 right after some other character (at a byte offset > 0 whose
// preceding three bytes are not U+2581 themselves).
bool has_inner_space(std::string_view piece) {
  for (size_t pos = piece.find(kSpace, 1); pos != std::string_view::npos; pos = piece.find(kSpace, pos + 1)) {
    if (pos < kSpace.size() || piece.compare(pos - kSpace.size(), kSpace.size(), kSpace) != 0) return true;
  }
  return false;
}

struct Symbol {
  uint32_t start;
  uint32_t len;  // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

// Merge candidates ordered by (rank, left): the best score first, then the leftmost pair. Each
// carries the byte length of both halves when queued; a different length later means the pair
// is stale (symbol lengths only grow). Two interchangeable implementations follow.

// A binary heap: best for short spans (words).
class HeapQueue {
 public:
  void clear() { items_.clear(); }
  void push(uint32_t rank, uint32_t left, uint32_t len) {
    items_.push_back(Item{rank, left, len});
    std::push_heap(items_.begin(), items_.end(), lower_priority);
  }
  bool pop(uint32_t& left, uint32_t& len) {
    if (items_.empty()) return false;
    std::pop_heap(items_.begin(), items_.end(), lower_priority);
    left = items_.back().left;
    len = items_.back().len;
    items_.pop_back();
    return true;
  }

 private:
  struct Item {
    uint32_t rank;
    uint32_t left;
    uint32_t len;
  };
  static bool lower_priority(const Item& a, const Item& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
  std::vector<Item> items_;
};

// One bucket of positions per rank plus a two-level bitmap of non-empty ranks: for long spans,
// where one big heap would cost a cache miss per level on every pop. Within a rank, positions
// mostly arrive in increasing order (the initial scan, and each left-to-right sweep of merges),
// so a bucket is a sorted run read from the front plus a small heap for the few that arrive late.
class BucketQueue {
 public:
  explicit BucketQueue(size_t n_ranks)
      : buckets_(n_ranks), bits_((n_ranks + 63) / 64, 0), summary_((bits_.size() + 63) / 64, 0) {}
  void push(uint32_t rank, uint32_t left, uint32_t len) {
    Bucket& b = buckets_[rank];
    if (b.head == b.run.size()) {  // the run is used up: start it again
      b.run.clear();
      b.head = 0;
    }
    if (b.run.empty() || left >= b.run.back().left) {
      b.run.push_back(Item{left, len});
    } else {
      b.late.push_back(Item{left, len});
      std::push_heap(b.late.begin(), b.late.end(), later);
    }
    bits_[rank / 64] |= uint64_t{1} << (rank % 64);
    summary_[rank / 4096] |= uint64_t{1} << ((rank / 64) % 64);
  }
  bool pop(uint32_t& left, uint32_t& len) {
    size_t w = 0;
    while (w < summary_.size() && summary_[w] == 0) ++w;
    if (w == summary_.size()) return false;
    const size_t word = w * 64 + static_cast<size_t>(__builtin_ctzll(summary_[w]));
    const size_t rank = word * 64 + static_cast<size_t>(__builtin_ctzll(bits_[word]));
    Bucket& b = buckets_[rank];
    const bool from_run = b.head < b.run.size() && (b.late.empty() || b.run[b.head].left < b.late.front().left);
    if (from_run) {
      left = b.run[b.head].left;
      len = b.run[b.head].len;
      ++b.head;
    } else {
      std::pop_heap(b.late.begin(), b.late.end(), later);
      left = b.late.back().left;
      len = b.late.back().len;
      b.late.pop_back();
    }
    if (b.head == b.run.size() && b.late.empty()) {
      bits_[word] &= ~(uint64_t{1} << (rank % 64));
      if (bits_[word] == 0) summary_[w] &= ~(uint64_t{1} << (word % 64));
    }
    return true;
  }

 private:
  struct Item {
    uint32_t left;
    uint32_t len;
  };
  struct Bucket {
    std::vector<Item> run;   // sorted by left; run[head..] still queued
    size_t head = 0;
    std::vector<Item> late;  // min-heap by left
  };
  static bool later(const Item& a, const Item& b) { return a.left > b.left; }
  std::vector<Bucket> buckets_;
  std::vector<uint64_t> bits_;
  std::vector<uint64_t> summary_;
};

// Spans with at least this many characters use the BucketQueue.
constexpr size_t kBucketQueueMinSymbols = 4096;

// The bytes of one character (1-4) as a number; distinct characters give distinct numbers.
uint32_t char_code(std::string_view s, size_t pos, size_t len) {
  uint32_t v = 0;
  std::memcpy(&v, s.data() + pos, len);
  return v;
}

uint64_t pair_hash(uint32_t a, uint32_t b) {
  uint64_t h = (uint64_t{a} << 32 | b) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

// Word -> the ids it gave earlier in the same call: open addressing over 24-byte slots, cleared
// when full, so memory stays bounded on huge inputs.
class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 64;
  static constexpr size_t kMaxEntries = size_t{1} << 14;

  // The cached ids of word (count in n), or nullptr.
  const int32_t* find(std::string_view word, uint64_t hash, uint32_t& n) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.word == nullptr) return nullptr;
      if (slot.hash == hash && slot.word_len == word.size() && equal_bytes(slot.word, word.data(), word.size())) {
        n = slot.n_ids;
        return ids_.data() + slot.ids_offset;
      }
    }
  }

  // word must outlive the cache (it points into the call's normalized text).
  void insert(std::string_view word, uint64_t hash, const int32_t* ids, uint32_t n) {
    if (slots_.empty() || count_ >= kMaxEntries) {
      slots_.assign(2 * kMaxEntries, Slot{});
      ids_.clear();
      mask_ = slots_.size() - 1;
      count_ = 0;
    }
    size_t i = hash & mask_;
    while (slots_[i].word != nullptr) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, word.data(), static_cast<uint32_t>(word.size()), static_cast<uint32_t>(ids_.size()), n};
    ids_.insert(ids_.end(), ids, ids + n);
    ++count_;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* word = nullptr;  // nullptr: empty
    uint32_t word_len = 0;
    uint32_t ids_offset = 0;
    uint32_t n_ids = 0;
  };
  std::vector<Slot> slots_;
  std::vector<int32_t> ids_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

// Spans longer than this many bytes are cut at safe character pairs before merging.
constexpr size_t kCutSpanBytes = 256;

}  // namespace

// Per-call working memory: the symbol list, the merge queue, and the word cache.
struct SpmTokenizer::Scratch {
  std::vector<Symbol> symbols;
  HeapQueue heap;
  // (start << 32 | len) of a merged symbol -> byte length of its left half; kept only when the
  // vocabulary has unused pieces, which are split back into the pieces they were merged from.
  std::unordered_map<uint64_t, uint32_t> splits;
  WordCache word_cache;  // for word-split vocabularies
};

SpmTokenizer::SpmTokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  vocab_.validate();
  const std::string& src = vocab_.source;
  if (vocab_.scores.empty()) fail("{}: metadata 'tokenizer.ggml.scores': missing (a SentencePiece vocabulary needs piece scores)", src);
  const int32_t n = vocab_.size();
  if (vocab_.bos < 0 && n > 2) vocab_.bos = 1;
  if (vocab_.eos < 0 && n > 2) vocab_.eos = 2;
  if (vocab_.unk < 0) {
    for (int32_t i = 0; i < n; ++i) {
      if (vocab_.type(i) == TokenType::unknown) {
        vocab_.unk = i;
        break;
      }
    }
  }
  add_bos_ = vocab_.add_bos.value_or(true);
  add_eos_ = vocab_.add_eos.value_or(false);
  add_space_prefix_ = vocab_.add_space_prefix.value_or(true);

  byte_ids_.fill(-1);
  decoded_.resize(static_cast<size_t>(n));
  strip_space_.assign(static_cast<size_t>(n), 0);
  end_of_generation_.assign(static_cast<size_t>(n), 0);
  split_words_ = true;
  for (int32_t i = 0; i < n; ++i) {
    const std::string& text = vocab_.tokens[static_cast<size_t>(i)];
    const TokenType type = vocab_.type(i);
    auto& decoded = decoded_[static_cast<size_t>(i)];
    if (type == TokenType::byte) {
      const uint8_t b = *parse_byte_piece(text);  // validate() checked the form
      if (byte_ids_[b] < 0) byte_ids_[b] = i;
      has_byte_fallback_ = true;
      decoded.assign(1, static_cast<char>(b));
    } else if (type == TokenType::control) {
      // Invisible in decoded text.
    } else if (type == TokenType::unknown) {
      decoded = kUnknownSurface;
    } else {
      if (!text.empty()) pieces_.insert(text, i);  // the first id wins on duplicates
      if (type == TokenType::unused) has_unused_ = true;
      if (has_inner_space(text)) split_words_ = false;  // see the header
      decoded = unescape_spaces(text);
      strip_space_[static_cast<size_t>(i)] = text.starts_with(kSpace) ? 1 : 0;
    }
    if (type == TokenType::control || type == TokenType::user_defined) {
      for (std::string_view eot : kEndOfTurnPieces) {
        if (text == eot) end_of_generation_[static_cast<size_t>(i)] = 1;
      }
    }
  }
  build_pair_filter();
  build_ranks();
  add_special_tokens_from_types();
  for (int32_t id : {vocab_.eos, vocab_.eot, vocab_.eom}) {
    if (id >= 0) end_of_generation_[static_cast<size_t>(id)] = 1;
  }
  // Words never share an unknown run when U+2581 itself is known (see encode_span).
  if (!has_byte_fallback_ && pieces_.find(kSpace) < 0) split_words_ = false;
  if (vocab_.unk < 0 && std::count(byte_ids_.begin(), byte_ids_.end(), -1) > 0) {
    fail("{}: metadata 'tokenizer.ggml.unknown_token_id': missing, and the vocabulary lacks some of the 256 <0xXX> "
         "byte pieces, so text outside the vocabulary could not be encoded", src);
  }
}

bool SpmTokenizer::producible(int32_t id) const {
  const std::string& text = vocab_.tokens[static_cast<size_t>(id)];
  return !text.empty() && pieces_.find(text) == id;
}

void SpmTokenizer::build_pair_filter() {
  std::unordered_set<uint64_t> pairs;  // hashes of distinct adjacent character pairs
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    if (!producible(id)) continue;
    const std::string_view text = vocab_.tokens[static_cast<size_t>(id)];
    size_t prev_pos = 0;
    size_t prev_len = utf8::char_length(text, 0);
    for (size_t pos = prev_len; pos < text.size();) {
      const size_t len = utf8::char_length(text, pos);
      pairs.insert(pair_hash(char_code(text, prev_pos, prev_len), char_code(text, pos, len)));
      prev_pos = pos;
      prev_len = len;
      pos += len;
    }
  }
  size_t bits = size_t{1} << 12;
  while (bits < 16 * pairs.size()) bits *= 2;  // about 6% false positives (fewer cuts, same ids)
  pair_filter_.assign(bits / 64, 0);
  pair_filter_mask_ = bits - 1;
  for (uint64_t h : pairs) {
    const uint64_t bit = h & pair_filter_mask_;
    pair_filter_[bit / 64] |= uint64_t{1} << (bit % 64);
  }
}

void SpmTokenizer::build_ranks() {
  // Rank of each producible piece's score among the distinct scores, 0 = best: the merge order.
  std::vector<float> distinct;
  distinct.reserve(pieces_.size());
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    if (producible(id)) distinct.push_back(vocab_.scores[static_cast<size_t>(id)]);
  }
  std::sort(distinct.begin(), distinct.end(), std::greater<>());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  n_ranks_ = distinct.size();
  ranks_.assign(static_cast<size_t>(vocab_.size()), 0);
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    if (!producible(id)) continue;
    const float score = vocab_.scores[static_cast<size_t>(id)];
    const auto it = std::lower_bound(distinct.begin(), distinct.end(), score, std::greater<>());
    ranks_[static_cast<size_t>(id)] = static_cast<uint32_t>(it - distinct.begin());
  }
}

std::string SpmTokenizer::token_to_piece(int32_t id) const {
  vocab_.check_id(id);
  return decoded_[static_cast<size_t>(id)];
}

std::string_view SpmTokenizer::piece(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.tokens[static_cast<size_t>(id)];
}

TokenType SpmTokenizer::token_type(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.type(id);
}

float SpmTokenizer::score(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.scores[static_cast<size_t>(id)];
}

bool SpmTokenizer::is_end_of_generation(int32_t id) const {
  return id >= 0 && id < vocab_.size() && end_of_generation_[static_cast<size_t>(id)] != 0;
}

void SpmTokenizer::decode_append(int32_t id, bool& at_start, std::string& out) const {
  vocab_.check_id(id);
  const auto i = static_cast<size_t>(id);
  const TokenType type = vocab_.types[i];
  if (type == TokenType::control) return;  // e.g. BOS: the first text piece after it still loses its prefix
  std::string_view text = decoded_[i];
  // SentencePiece decoding drops the dummy prefix: the leading U+2581 of the first text piece.
  if (at_start && add_space_prefix_ && strip_space_[i] != 0) text.remove_prefix(1);
  at_start = false;
  out.append(text);
}

std::string SpmTokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  bool at_start = true;
  for (int32_t id : ids) decode_append(id, at_start, out);
  return out;
}

std::string SpmTokenizer::normalize(std::string_view text, bool dummy_prefix) const {
  std::string out;
  if (text.empty()) return out;  // SentencePiece adds no dummy prefix to empty input
  const bool prefix = add_space_prefix_ && dummy_prefix;
  const auto n_spaces = static_cast<size_t>(std::count(text.begin(), text.end(), ' '));
  out.resize(text.size() + 2 * n_spaces + (prefix ? kSpace.size() : 0));
  char* p = out.data();
  if (prefix) p = std::copy(kSpace.begin(), kSpace.end(), p);
  for (char c : text) {
    if (c == ' ') {
      p = std::copy(kSpace.begin(), kSpace.end(), p);
    } else {
      *p++ = c;
    }
  }
  return out;
}

int32_t SpmTokenizer::find_piece(std::string_view text) const { return pieces_.find(text); }

void SpmTokenizer::encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const {
  const std::string s = normalize(text, at_start);
  if (s.empty()) return;
  if (s.size() > 0xFFFFFFFFull / 2) fail("{}: text of {} bytes is too long to tokenize in one piece", vocab_.source, text.size());
  ids.reserve(ids.size() + s.size() / 3 + 1);
  Scratch scratch;
  if (!split_words_ || !splitting_) {
    encode_span(s, scratch, ids);
    return;
  }
  // Cut before every U+2581 that follows another character; encode each word once per call.
  const std::string_view all(s);
  size_t begin = 0;
  while (begin < all.size()) {
    size_t end = begin;
    while (end < all.size() && all.compare(end, kSpace.size(), kSpace) == 0) end += kSpace.size();  // leading run
    end = all.find(kSpace, end);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view word = all.substr(begin, end - begin);
    begin = end;
    if (word.size() > WordCache::kMaxWordBytes) {
      encode_span(word, scratch, ids);
      continue;
    }
    const uint64_t hash = hash_bytes(word);
    uint32_t n_cached = 0;
    if (const int32_t* cached = scratch.word_cache.find(word, hash, n_cached)) {
      ids.insert(ids.end(), cached, cached + n_cached);
      continue;
    }
    const size_t before = ids.size();
    encode_span(word, scratch, ids);
    scratch.word_cache.insert(word, hash, ids.data() + before, static_cast<uint32_t>(ids.size() - before));
  }
}

template <typename Queue>
void SpmTokenizer::merge(std::string_view s, Scratch& scratch, Queue& queue) const {
  auto& symbols = scratch.symbols;
  const auto candidate = [&](int32_t left) {
    if (left < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    if (l.next < 0) return;
    const uint32_t len = l.len + symbols[static_cast<size_t>(l.next)].len;
    const int32_t id = find_piece(s.substr(l.start, len));
    if (id >= 0) queue.push(ranks_[static_cast<size_t>(id)], static_cast<uint32_t>(left), len);
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) candidate(i);

  uint32_t left = 0;
  uint32_t len = 0;
  while (queue.pop(left, len)) {
    Symbol& l = symbols[left];
    if (l.len == 0 || l.next < 0) continue;
    Symbol& r = symbols[static_cast<size_t>(l.next)];
    if (l.len + r.len != len) continue;  // stale: one half has merged since
    if (has_unused_) scratch.splits[(uint64_t{l.start} << 32) | len] = l.len;
    l.len = len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = static_cast<int32_t>(left);
    candidate(l.prev);
    candidate(static_cast<int32_t>(left));
  }
}

bool SpmTokenizer::pair_may_be_inside_piece(std::string_view s, size_t a, size_t a_len, size_t b_len) const {
  const uint64_t h = pair_hash(char_code(s, a, a_len), char_code(s, a + a_len, b_len)) & pair_filter_mask_;
  return ((pair_filter_[h / 64] >> (h % 64)) & 1) != 0;
}

void SpmTokenizer::encode_span(std::string_view s, Scratch& scratch, std::vector<int32_t>& ids) const {
  // Without byte fallback a run of unknown characters must stay together (it gives one <unk>).
  if (s.size() <= kCutSpanBytes || !splitting_ || !has_byte_fallback_) {
    merge_span(s, scratch, ids);
    return;
  }
  size_t begin = 0;
  size_t prev = 0;
  size_t prev_len = utf8::char_length(s, 0);
  for (size_t pos = prev_len; pos < s.size();) {
    const size_t len = utf8::char_length(s, pos);
    if (!pair_may_be_inside_piece(s, prev, prev_len, len)) {
      merge_span(s.substr(begin, pos - begin), scratch, ids);
      begin = pos;
    }
    prev = pos;
    prev_len = len;
    pos += len;
  }
  merge_span(s.substr(begin), scratch, ids);
}

void SpmTokenizer::merge_span(std::string_view s, Scratch& scratch, std::vector<int32_t>& ids) const {
  auto& symbols = scratch.symbols;
  symbols.clear();
  scratch.splits.clear();

  // One symbol per character; an invalid byte is a character of its own.
  for (size_t pos = 0; pos < s.size();) {
    const size_t len = utf8::char_length(s, pos);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{static_cast<uint32_t>(pos), static_cast<uint32_t>(len), index - 1, index + 1});
    pos += len;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  const bool buckets = merge_queue_ == MergeQueue::buckets ||
                       (merge_queue_ == MergeQueue::automatic && symbols.size() >= kBucketQueueMinSymbols);
  if (buckets) {
    BucketQueue queue(n_ranks_);
    merge(s, scratch, queue);
  } else {
    scratch.heap.clear();
    merge(s, scratch, scratch.heap);
  }

  bool last_was_unknown = false;  // runs of unknown characters give one <unk> (no byte fallback)
  for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& sym = symbols[static_cast<size_t>(i)];
    if (!has_byte_fallback_ && find_piece(s.substr(sym.start, sym.len)) < 0) {
      if (!last_was_unknown) ids.push_back(vocab_.unk);
      last_was_unknown = true;
      continue;
    }
    emit_symbol(s, sym.start, sym.len, scratch, ids);
    last_was_unknown = false;
  }
}

void SpmTokenizer::emit_symbol(std::string_view s, uint32_t start, uint32_t len, const Scratch& scratch,
                               std::vector<int32_t>& ids) const {
  const int32_t id = find_piece(s.substr(start, len));
  if (id >= 0) {
    if (has_unused_ && vocab_.type(id) == TokenType::unused) {
      // SentencePiece never outputs unused pieces: split back into the pair that formed it.
      if (const auto it = scratch.splits.find((uint64_t{start} << 32) | len); it != scratch.splits.end()) {
        emit_symbol(s, start, it->second, scratch, ids);
        emit_symbol(s, start + it->second, len - it->second, scratch, ids);
        return;
      }
    }
    ids.push_back(id);
    return;
  }
  // Byte fallback: one <0xXX> piece per byte, <unk> for a byte the vocabulary lacks.
  for (uint32_t k = 0; k < len; ++k) {
    const int32_t b = byte_ids_[static_cast<uint8_t>(s[start + k])];
    ids.push_back(b >= 0 ? b : vocab_.unk);
  }
}

}  // namespace owl
