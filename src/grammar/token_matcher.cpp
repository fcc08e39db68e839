#include "grammar/token_matcher.h"

#include <algorithm>
#include <bit>
#include <limits>

#include "base/error.h"
#include "grammar/utf8_decode.h"

namespace owl::grammar {

namespace {

// Masks kept per matcher (16 KiB each for a 128k vocabulary), and the recognizer's size at which
// its tables are rebuilt around the current state.
constexpr size_t kMaxCachedMasks = 128;
constexpr size_t kMaxStates = 200000;
// Subtrees with more nodes than this are tried whole (see Recognizer::plain); smaller ones are walked.
constexpr uint32_t kMinTakenWhole = 8;

// std::popcount is a library call on baseline x86-64; this is a few instructions.
size_t count_bits(uint64_t x) {
  x -= (x >> 1) & 0x5555555555555555ull;
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<size_t>((x * 0x0101010101010101ull) >> 56);
}

void set_bit(std::vector<uint64_t>& bits, int32_t id) {
  bits[static_cast<size_t>(id) / 64] |= uint64_t{1} << (static_cast<size_t>(id) % 64);
}

}  // namespace

void TokenMatcher::add_end_tokens(std::vector<uint64_t>& bits) const {
  for (int32_t id : vocabulary_->end_tokens()) set_bit(bits, id);
}

TokenMatcher::TokenMatcher(const TokenGrammar& g)
    : grammar_(g.grammar), vocabulary_(g.vocabulary), recognizer_(g.grammar), state_(recognizer_.start()) {
  if (!vocabulary_) fail("grammar: no vocabulary given");
  path_.resize(vocabulary_->max_depth() + 1);
}

void TokenMatcher::reset() {
  state_ = recognizer_.start();
  ended_ = false;
}

bool TokenMatcher::allows(int32_t token) {
  if (token < 0 || static_cast<size_t>(token) >= vocabulary_->size()) return false;
  if (vocabulary_->end_of_generation(token)) return recognizer_.accepting(state_);
  if (ended_) return false;
  const std::string& bytes = vocabulary_->bytes(token);
  if (bytes.empty()) return false;
  return recognizer_.advance(state_, bytes) != Recognizer::kDead;
}

const std::vector<uint64_t>& TokenMatcher::allowed_bits() {
  if (ended_) {
    if (ended_bits_.empty()) {  // built once: end tokens only
      ended_bits_.assign((vocabulary_->size() + 63) / 64, 0);
      add_end_tokens(ended_bits_);
    }
    return ended_bits_;
  }
  if (const auto it = masks_.find(state_); it != masks_.end()) return it->second;
  if (masks_.size() >= kMaxCachedMasks) masks_.clear();
  std::vector<uint64_t> bits((vocabulary_->size() + 63) / 64, 0);
  const auto& trie = vocabulary_->trie();
  const auto& ids = vocabulary_->token_ids();
  // Depth-first over the trie: a refused prefix skips its whole subtree.
  path_[0] = {state_, 0};
  for (size_t i = 0; i < trie.size();) {
    const TokenVocabulary::TrieNode& node = trie[i];
    const WalkStep from = path_[node.depth - 1];
    WalkStep to{Recognizer::kDead, 0};
    if (from.utf8 != 0) {  // inside a character the state takes, whichever it is
      to.utf8 = static_cast<int8_t>(utf8_prefix_next(from.utf8, node.byte));
      to.state = to.utf8 < 0 ? Recognizer::kDead : to.utf8 == 0 ? recognizer_.plain(from.state).next : from.state;
    } else if (node.byte >= 0x80 && recognizer_.plain(from.state).non_ascii) {
      to.utf8 = static_cast<int8_t>(utf8_prefix_next(0, node.byte));
      to.state = to.utf8 < 0 ? Recognizer::kDead : from.state;
    } else {
      to.state = recognizer_.advance(from.state, node.byte);
    }
    if (to.state == Recognizer::kDead) {
      i = node.subtree_end;
      continue;
    }
    if (to.utf8 == 0 && node.subtree_end - i > kMinTakenWhole && take_subtree(i, to.state, bits)) {
      i = node.subtree_end;
      continue;
    }
    path_[node.depth] = to;
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) set_bit(bits, ids[t]);
    ++i;
  }
  if (recognizer_.accepting(state_)) add_end_tokens(bits);
  return masks_.emplace(state_, std::move(bits)).first->second;
}

// A subtree whose every byte the state (at node, after its byte) takes as a plain character: all its
// tokens when the state takes enough of them, or when it takes exactly `run` more characters, the
// tokens up to that length.
bool TokenMatcher::take_subtree(size_t node, Recognizer::StateId state, std::vector<uint64_t>& bits) {
  const TokenVocabulary::Subtree& sub = vocabulary_->subtrees()[node];
  if (sub.non_ascii && !sub.utf8_valid) return false;
  const Recognizer::Plain& p = recognizer_.plain(state);
  if ((sub.non_ascii && !p.non_ascii) || (sub.ascii[0] & ~p.bytes[0]) != 0 || (sub.ascii[1] & ~p.bytes[1]) != 0) return false;
  // Bytes below count at least the characters they make, so a run of `height` covers them.
  if (p.run >= sub.height) {
    const auto& ids = vocabulary_->token_ids();
    for (uint32_t t = sub.first_token; t < sub.end_token; ++t) set_bit(bits, ids[t]);
    return true;
  }
  const size_t depth = vocabulary_->trie()[node].depth;
  if (!p.exact || depth > TokenVocabulary::kLengthIndexDepths) return false;
  const TokenVocabulary::ByLength& index = vocabulary_->by_length(depth);
  const auto last = std::upper_bound(index.chars.begin() + sub.first_token, index.chars.begin() + sub.end_token,
                                     static_cast<uint8_t>(std::min<int>(p.run, 254)));
  for (auto t = static_cast<uint32_t>(sub.first_token); t < static_cast<uint32_t>(last - index.chars.begin()); ++t) {
    set_bit(bits, index.ids[t]);
  }
  return true;
}

size_t TokenMatcher::mask(std::span<float> logits) {
  const std::vector<uint64_t>& bits = allowed_bits();
  constexpr float kRefused = -std::numeric_limits<float>::infinity();
  const size_t n = std::min(logits.size(), vocabulary_->size());
  size_t allowed = 0;
  // 64 tokens per word: all allowed and all refused (most words) cost no per-token test.
  for (size_t w = 0; w * 64 < n; ++w) {
    const size_t begin = w * 64, end = std::min(n, begin + 64);
    const uint64_t in_range = end - begin == 64 ? ~uint64_t{0} : (uint64_t{1} << (end - begin)) - 1;
    const uint64_t word = bits[w] & in_range;
    allowed += count_bits(word);
    if (word == in_range) continue;
    if (word == 0) {
      std::fill(logits.begin() + static_cast<ptrdiff_t>(begin), logits.begin() + static_cast<ptrdiff_t>(end), kRefused);
      continue;
    }
    for (uint64_t refused = ~word & in_range; refused != 0; refused &= refused - 1) {  // only the refused ones
      logits[begin + static_cast<size_t>(std::countr_zero(refused))] = kRefused;
    }
  }
  std::fill(logits.begin() + static_cast<ptrdiff_t>(n), logits.end(), kRefused);
  return allowed;
}

void TokenMatcher::accept(int32_t token) {
  if (!allows(token)) fail("grammar: token {} does not continue the grammar here", token);
  if (vocabulary_->end_of_generation(token)) {
    ended_ = true;  // nothing but another end token from here on
  } else {
    state_ = recognizer_.advance(state_, vocabulary_->bytes(token));
  }
  if (recognizer_.n_states() > kMaxStates) {
    state_ = recognizer_.compact(state_);
    masks_.clear();
  }
}

}  // namespace owl::grammar
