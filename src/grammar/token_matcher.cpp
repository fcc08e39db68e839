#include "grammar/token_matcher.h"

#include <limits>

#include "base/error.h"

namespace owl::grammar {

namespace {

// Masks kept per matcher (16 KiB each for a 128k vocabulary), and the recognizer's size at which
// its tables are rebuilt around the current state.
constexpr size_t kMaxCachedMasks = 128;
constexpr size_t kMaxStates = 200000;

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
  path_[0] = state_;
  for (size_t i = 0; i < trie.size();) {
    const TokenVocabulary::TrieNode& node = trie[i];
    const Recognizer::StateId next = recognizer_.advance(path_[node.depth - 1], node.byte);
    if (next == Recognizer::kDead) {
      i = node.subtree_end;
      continue;
    }
    path_[node.depth] = next;
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) set_bit(bits, ids[t]);
    ++i;
  }
  if (recognizer_.accepting(state_)) add_end_tokens(bits);
  return masks_.emplace(state_, std::move(bits)).first->second;
}

size_t TokenMatcher::mask(std::span<float> logits) {
  const std::vector<uint64_t>& bits = allowed_bits();
  const size_t n = std::min(logits.size(), vocabulary_->size());
  size_t allowed = 0;
  for (size_t id = 0; id < n; ++id) {
    if (bits[id / 64] >> (id % 64) & 1) {
      ++allowed;
    } else {
      logits[id] = -std::numeric_limits<float>::infinity();
    }
  }
  for (size_t id = n; id < logits.size(); ++id) logits[id] = -std::numeric_limits<float>::infinity();
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
