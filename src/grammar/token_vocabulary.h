// A vocabulary as the grammar sees it: each token's bytes, which tokens end generation, and a
// byte trie over all of them (in depth-first order), so that a mask walks each shared prefix once.
// Built once per tokenizer and shared, read-only, by every constrained request.
#pragma once

#include <cstddef>
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

  // What lies below a trie node, so that a mask can take a whole subtree at once when every byte
  // below it is one the grammar takes anywhere for long enough (inside a string, say).
  struct Subtree {
    uint64_t ascii[2];     // the ASCII bytes on the edges below the node
    uint32_t first_token;  // token_ids() index of the subtree's first token (its tokens are contiguous)
    uint32_t end_token;    // one past its last
    uint8_t height;        // the longest path below the node, in bytes (255 for 255 or more)
    bool non_ascii;        // some byte below the node is 0x80 or above
    bool utf8_valid;       // read from a character boundary, every path below is UTF-8 (its last
                           // character possibly cut short, but with some valid completion)
  };

  // For the nodes at depths 1..kLengthIndexDepths, their subtree's tokens again, ordered by how
  // many characters they have below the node (bytes other than UTF-8 continuation bytes): a mask
  // that may take only tokens up to some length takes a prefix. Indexed like token_ids().
  static constexpr size_t kLengthIndexDepths = 4;
  struct ByLength {
    std::vector<int32_t> ids;
    std::vector<uint8_t> chars;  // below the node (255 for 255 or more)
  };
  const ByLength& by_length(size_t depth) const { return by_length_[depth - 1]; }

  size_t size() const { return bytes_.size(); }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }
  bool end_of_generation(int32_t id) const { return end_of_generation_[static_cast<size_t>(id)]; }
  const std::vector<int32_t>& end_tokens() const { return end_tokens_; }
  const std::vector<TrieNode>& trie() const { return trie_; }  // the root itself is not stored
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  const std::vector<Subtree>& subtrees() const { return subtrees_; }  // one per trie node
  size_t max_depth() const { return max_depth_; }

 private:
  std::vector<std::string> bytes_;
  std::vector<bool> end_of_generation_;
  std::vector<int32_t> end_tokens_;
  std::vector<TrieNode> trie_;
  std::vector<int32_t> token_ids_;
  std::vector<Subtree> subtrees_;
  std::vector<ByLength> by_length_;
  size_t max_depth_ = 0;

  void summarize_subtrees();
  void index_by_length();
};

}  // namespace owl::grammar
