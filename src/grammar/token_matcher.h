// Grammar-constrained tokens: which vocabulary tokens keep the output inside the grammar, from the
// current position. One matcher per generated sequence; the grammar and vocabulary it reads are
// shared between requests.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/recognizer.h"
#include "grammar/token_vocabulary.h"

namespace owl::grammar {

// A compiled grammar bound to a vocabulary: what a request carries.
struct TokenGrammar {
  std::shared_ptr<const Grammar> grammar;
  std::shared_ptr<const TokenVocabulary> vocabulary;
};

class TokenMatcher {
 public:
  explicit TokenMatcher(const TokenGrammar& grammar);

  // Whether token may come next: its bytes keep the output a prefix of a sentence (an end token:
  // the output is a whole sentence). Ids outside the vocabulary are refused.
  bool allows(int32_t token);
  // Sets every refused token's logit to -infinity (logits has one entry per vocabulary token, or
  // more: ids beyond the vocabulary are refused too). Returns how many tokens stay allowed.
  size_t mask(std::span<float> logits);
  // Moves past token; throws owl::Error when allows(token) is false.
  void accept(int32_t token);
  // Back to the start of the grammar.
  void reset();

  // The output so far is a whole sentence, and nothing may follow it.
  bool complete() const { return recognizer_.accepting(state_) && !recognizer_.can_continue(state_); }
  bool accepting() const { return recognizer_.accepting(state_); }

 private:
  const std::vector<uint64_t>& allowed_bits();  // one bit per token, cached per state
  void add_end_tokens(std::vector<uint64_t>& bits) const;
  bool take_subtree(size_t node, Recognizer::StateId state, std::vector<uint64_t>& bits);

  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenVocabulary> vocabulary_;
  Recognizer recognizer_;
  Recognizer::StateId state_;
  bool ended_ = false;  // an end token was accepted
  std::vector<uint64_t> ended_bits_;
  std::unordered_map<Recognizer::StateId, std::vector<uint64_t>> masks_;

  // The mask walk's position per trie depth: a recognizer state and, when that state takes every
  // non-ASCII character alike, the UTF-8 character in progress (utf8_prefix_next's state). The
  // walk follows such characters itself rather than through the recognizer's partial-character
  // states, which a bounded string would otherwise make anew at every position.
  struct WalkStep {
    Recognizer::StateId state;
    int8_t utf8;
  };
  std::vector<WalkStep> path_;
};

}  // namespace owl::grammar
