// A vocabulary as the grammar sees it: each token's bytes, which tokens end generation, and a
// byte trie over all of them (in depth-first order), so that a mask walks each shared prefix once.
// Built once per tokenizer and shared, read-only, by every constrained request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace owl::grammar {

class TokenVocabulary {
 public:
  // bytes[id]: what the token adds to the text (empty for control tokens, which the grammar never
  // allows); end_of_generation[id]: allowed exactly where the grammar may end.
  TokenVocabulary(std::vector<std::string> bytes, std::vector<bool> end_of_generation);

  struct TrieNode {
    uint8_t byte;           // the edge from the parent
    uint16_t depth;         // 1 for children of the root
    uint32_t subtree_end;   // the first node after this one's subtree
    uint32_t tokens_begin;  // the tokens whose bytes end here: token_ids[tokens_begin, tokens_end)
    uint32_t tokens_end;
  };

  size_t size() const { return bytes_.size(); }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }
  bool end_of_generation(int32_t id) const { return end_of_generation_[static_cast<size_t>(id)]; }
  const std::vector<int32_t>& end_tokens() const { return end_tokens_; }
  const std::vector<TrieNode>& trie() const { return trie_; }  // the root itself is not stored
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  size_t max_depth() const { return max_depth_; }

 private:
  std::vector<std::string> bytes_;
  std::vector<bool> end_of_generation_;
  std::vector<int32_t> end_tokens_;
  std::vector<TrieNode> trie_;
  std::vector<int32_t> token_ids_;
  size_t max_depth_ = 0;
};

}  // namespace owl::grammar
