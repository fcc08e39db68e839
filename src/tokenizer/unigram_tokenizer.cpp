// Unigram encode/decode. Mirrors SentencePiece's unigram_model.cc EncodeOptimized (one Viterbi pass:
// best[end] = max over pieces ending there of best[start] + score; user-defined pieces score
// length * max_score - 0.1; a character no piece covers costs min_score - 10) and its processor's
// post-processing (runs of unknowns fused into one <unk>, or byte fallback), plus the SPM decoder.
#include "tokenizer/unigram_tokenizer.h"

#include <algorithm>
#include <limits>

#include "base/error.h"
#include "tokenizer/spm_text.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace owl {

using spm::kSpace;
using spm::kUnknownSurface;
using spm::unescape_spaces;

namespace {

constexpr float kUnkPenalty = 10.0f;

}  // namespace

UnigramTokenizer::UnigramTokenizer(Vocab vocab, UnigramOptions options) : vocab_(std::move(vocab)), options_(options) {
  vocab_.validate();
  const std::string& src = vocab_.source;
  if (vocab_.scores.empty()) fail("{}: Unigram model: missing piece scores", src);
  const int32_t n = vocab_.size();
  if (vocab_.unk < 0) {
    for (int32_t i = 0; i < n; ++i) {
      if (vocab_.type(i) == TokenType::unknown) {
        vocab_.unk = i;
        break;
      }
    }
  }
  add_bos_ = vocab_.add_bos.value_or(vocab_.bos >= 0);
  add_eos_ = vocab_.add_eos.value_or(false);
  add_space_prefix_ = vocab_.add_space_prefix.value_or(true);

  byte_ids_.fill(-1);
  decoded_.resize(static_cast<size_t>(n));
  strip_space_.assign(static_cast<size_t>(n), 0);
  end_of_generation_.assign(static_cast<size_t>(n), 0);
  float min_score = std::numeric_limits<float>::max();
  float max_score = std::numeric_limits<float>::lowest();
  for (int32_t i = 0; i < n; ++i) {
    const auto u = static_cast<size_t>(i);
    const std::string& text = vocab_.tokens[u];
    const TokenType type = vocab_.type(i);
    if (type == TokenType::byte) {
      const uint8_t b = *parse_byte_piece(text);
      if (byte_ids_[b] < 0) byte_ids_[b] = i;
      decoded_[u].assign(1, static_cast<char>(b));
    } else if (type == TokenType::unknown) {
      decoded_[u] = kUnknownSurface;
    } else if (type != TokenType::control) {
      if (type != TokenType::unused && !text.empty()) {
        pieces_.insert(text, i);
        max_piece_bytes_ = std::max(max_piece_bytes_, text.size());
      }
      if (type == TokenType::normal || type == TokenType::undefined) {
        min_score = std::min(min_score, vocab_.scores[u]);
        max_score = std::max(max_score, vocab_.scores[u]);
      }
      decoded_[u] = options_.escape_whitespace ? unescape_spaces(text) : text;
      strip_space_[u] = options_.escape_whitespace && text.starts_with(kSpace) ? 1 : 0;
    }
    if ((type == TokenType::control || type == TokenType::user_defined) && is_end_of_turn_piece(text)) {
      end_of_generation_[u] = 1;
    }
  }
  if (min_score > max_score) min_score = max_score = 0;  // no normal piece at all
  unk_score_ = min_score - kUnkPenalty;
  max_score_ = max_score;
  if (vocab_.unk < 0) {
    fail("{}: Unigram model: no unknown piece (unk_id), so text outside the vocabulary could not be encoded", src);
  }
  add_special_tokens_from_types();
  for (int32_t id : {vocab_.eos, vocab_.eot, vocab_.eom}) {
    if (id >= 0) end_of_generation_[static_cast<size_t>(id)] = 1;
  }
}

std::string UnigramTokenizer::token_to_piece(int32_t id) const {
  vocab_.check_id(id);
  return decoded_[static_cast<size_t>(id)];
}

std::string_view UnigramTokenizer::piece(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.tokens[static_cast<size_t>(id)];
}

TokenType UnigramTokenizer::token_type(int32_t id) const {
  vocab_.check_id(id);
  return vocab_.type(id);
}

bool UnigramTokenizer::is_end_of_generation(int32_t id) const {
  return id >= 0 && id < vocab_.size() && end_of_generation_[static_cast<size_t>(id)] != 0;
}

void UnigramTokenizer::decode_append(int32_t id, bool& at_start, std::string& out) const {
  vocab_.check_id(id);
  const auto i = static_cast<size_t>(id);
  if (vocab_.types[i] == TokenType::control) return;
  std::string_view text = decoded_[i];
  if (at_start && add_space_prefix_ && strip_space_[i] != 0) text.remove_prefix(1);
  at_start = false;
  out.append(text);
}

std::string UnigramTokenizer::normalize(std::string_view text, bool dummy_prefix) const {
  std::string nf;
  if (options_.nfkc && !unicode::is_ascii(text)) {
    nf = unicode::normalize(text, unicode::Form::nfkc);
    text = nf;
  }
  std::string collapsed;
  if (options_.remove_extra_whitespaces) {
    collapsed.reserve(text.size());
    bool pending_space = false;
    for (char c : text) {
      if (c == ' ') {
        pending_space = !collapsed.empty();
        continue;
      }
      if (pending_space) collapsed.push_back(' ');
      pending_space = false;
      collapsed.push_back(c);
    }
    text = collapsed;
  }
  std::string out;
  if (text.empty()) return out;  // no dummy prefix on empty input
  out.reserve(text.size() + 16);
  const std::string_view space = options_.escape_whitespace ? kSpace : std::string_view(" ");
  if (add_space_prefix_ && dummy_prefix) out.append(space);
  for (char c : text) {
    if (c == ' ') out.append(space);
    else out.push_back(c);
  }
  return out;
}

void UnigramTokenizer::encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const {
  const std::string s = normalize(text, at_start);
  if (s.empty()) return;
  if (!options_.split_on_space || !options_.escape_whitespace) {
    viterbi(s, ids);
    return;
  }
  // HF Metaspace split: a new word starts at every U+2581 (MergedWithNext).
  const std::string_view all(s);
  size_t begin = 0;
  while (begin < all.size()) {
    size_t end = all.find(kSpace, begin + 1);
    if (end == std::string_view::npos) end = all.size();
    viterbi(all.substr(begin, end - begin), ids);
    begin = end;
  }
}

void UnigramTokenizer::viterbi(std::string_view s, std::vector<int32_t>& ids) const {
  struct Node {
    float score = 0;
    int32_t id = -1;
    uint32_t start = 0;
    bool reached = false;
  };
  std::vector<Node> best(s.size() + 1);
  best[0].reached = true;
  for (size_t start = 0; start < s.size();) {
    const size_t char_len = utf8::char_length(s, start);
    if (!best[start].reached) {  // inside a multi-byte character: never a boundary
      start += char_len;
      continue;
    }
    const float base = best[start].score;
    bool single_char_piece = false;
    const auto offer = [&](size_t end, int32_t id, float score) {
      Node& node = best[end];
      if (!node.reached || base + score > node.score) node = Node{base + score, id, static_cast<uint32_t>(start), true};
    };
    for (size_t end = start + char_len; end <= s.size() && end - start <= max_piece_bytes_;) {
      const int32_t id = pieces_.find(s.substr(start, end - start));
      if (id >= 0) {
        const bool user = vocab_.type(id) == TokenType::user_defined;
        const float score = user ? static_cast<float>(end - start) * max_score_ - 0.1f : vocab_.scores[static_cast<size_t>(id)];
        offer(end, id, score);
        if (end == start + char_len) single_char_piece = true;
      }
      if (end == s.size()) break;
      end += utf8::char_length(s, end);
    }
    if (!single_char_piece) offer(start + char_len, vocab_.unk, unk_score_);
    start += char_len;
  }
  // Back from the end; then forward, fusing unknown runs or falling back to bytes.
  std::vector<std::pair<uint32_t, uint32_t>> path;  // (start, end) in reverse order
  for (size_t end = s.size(); end > 0; end = best[end].start) path.emplace_back(best[end].start, static_cast<uint32_t>(end));
  bool prev_unknown = false;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    const int32_t id = best[it->second].id;
    if (id != vocab_.unk) {
      ids.push_back(id);
      prev_unknown = false;
      continue;
    }
    if (options_.byte_fallback) {
      for (uint32_t k = it->first; k < it->second; ++k) {
        const int32_t b = byte_ids_[static_cast<uint8_t>(s[k])];
        ids.push_back(b >= 0 ? b : vocab_.unk);
      }
      continue;
    }
    if (!prev_unknown) ids.push_back(vocab_.unk);
    prev_unknown = true;
  }
}

}  // namespace owl
