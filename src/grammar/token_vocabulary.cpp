#include "grammar/token_vocabulary.h"

#include <algorithm>
#include <numeric>

#include "base/error.h"

namespace owl::grammar {

TokenVocabulary::TokenVocabulary(std::vector<std::string> bytes, std::vector<bool> end_of_generation)
    : bytes_(std::move(bytes)), end_of_generation_(std::move(end_of_generation)) {
  if (end_of_generation_.size() != bytes_.size()) fail("grammar: vocabulary flags do not match its size");
  // Tokens in byte order: equal prefixes are then neighbours, and the trie comes out depth first.
  std::vector<int32_t> order;
  for (size_t id = 0; id < bytes_.size(); ++id) {
    if (end_of_generation_[id]) end_tokens_.push_back(static_cast<int32_t>(id));
    const size_t n = bytes_[id].size();
    if (n == 0 || end_of_generation_[id]) continue;
    if (n > 0xFFFF) fail("grammar: token {} is {} bytes long", id, n);
    order.push_back(static_cast<int32_t>(id));
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const int c = bytes_[static_cast<size_t>(a)].compare(bytes_[static_cast<size_t>(b)]);
    return c < 0 || (c == 0 && a < b);
  });
  std::vector<uint32_t> path;  // trie node indices from depth 1 down
  const std::string* previous = nullptr;
  for (int32_t id : order) {
    const std::string& s = bytes_[static_cast<size_t>(id)];
    size_t common = 0;
    if (previous) {
      const size_t limit = std::min({previous->size(), s.size(), path.size()});
      while (common < limit && (*previous)[common] == s[common]) ++common;
    }
    for (size_t d = path.size(); d > common; --d) trie_[path[d - 1]].subtree_end = static_cast<uint32_t>(trie_.size());
    path.resize(common);
    for (size_t d = common; d < s.size(); ++d) {
      path.push_back(static_cast<uint32_t>(trie_.size()));
      trie_.push_back({static_cast<uint8_t>(s[d]), static_cast<uint16_t>(d + 1), 0, 0, 0});
    }
    TrieNode& leaf = trie_[path.back()];
    if (leaf.tokens_end == 0) leaf.tokens_begin = leaf.tokens_end = static_cast<uint32_t>(token_ids_.size());
    token_ids_.push_back(id);
    leaf.tokens_end = static_cast<uint32_t>(token_ids_.size());
    max_depth_ = std::max(max_depth_, s.size());
    previous = &s;
  }
  for (uint32_t node : path) trie_[node].subtree_end = static_cast<uint32_t>(trie_.size());
}

}  // namespace owl::grammar
