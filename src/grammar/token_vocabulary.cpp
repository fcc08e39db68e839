#include "grammar/token_vocabulary.h"

#include <algorithm>

#include "base/error.h"
#include "grammar/utf8_decode.h"

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
  summarize_subtrees();
  index_by_length();
}

// Children come after their parent in depth-first order, so one pass from the back sees every
// child's summary before its parent's.
void TokenVocabulary::summarize_subtrees() {
  subtrees_.assign(trie_.size(), Subtree{{0, 0}, 0, 0, 0, false, false});
  std::vector<uint8_t> valid_from(trie_.size(), 0);  // bit d: every path below is UTF-8 from state d
  for (size_t n = trie_.size(); n-- > 0;) {
    Subtree& s = subtrees_[n];
    const TrieNode& node = trie_[n];
    uint8_t valid = (1u << kUtf8PrefixStates) - 1;
    for (size_t c = n + 1; c < node.subtree_end; c = trie_[c].subtree_end) {
      const Subtree& child = subtrees_[c];
      const uint8_t b = trie_[c].byte;
      if (b < 0x80) {
        s.ascii[b / 64] |= uint64_t{1} << (b % 64);
      } else {
        s.non_ascii = true;
      }
      s.ascii[0] |= child.ascii[0];
      s.ascii[1] |= child.ascii[1];
      s.non_ascii = s.non_ascii || child.non_ascii;
      s.height = static_cast<uint8_t>(std::max<int>(s.height, std::min(255, child.height + 1)));
      for (int d = 0; d < kUtf8PrefixStates; ++d) {
        const int next = utf8_prefix_next(d, b);
        if (next < 0 || !(valid_from[c] >> next & 1)) valid &= static_cast<uint8_t>(~(1u << d));
      }
    }
    valid_from[n] = valid;
    s.utf8_valid = (valid & 1) != 0;
    s.first_token = node.tokens_end > node.tokens_begin ? node.tokens_begin : subtrees_[n + 1].first_token;
    s.end_token = node.subtree_end < trie_.size() ? subtrees_[node.subtree_end].first_token
                                                  : static_cast<uint32_t>(token_ids_.size());
  }
}

void TokenVocabulary::index_by_length() {
  by_length_.assign(kLengthIndexDepths, ByLength{});
  std::vector<std::pair<uint8_t, int32_t>> entries(token_ids_.size());  // (characters below, id)
  for (size_t depth = 1; depth <= kLengthIndexDepths; ++depth) {
    for (size_t k = 0; k < token_ids_.size(); ++k) {
      const std::string& b = bytes_[static_cast<size_t>(token_ids_[k])];
      size_t chars = 0;
      for (size_t i = depth; i < b.size(); ++i) chars += (static_cast<uint8_t>(b[i]) & 0xC0) != 0x80;
      entries[k] = {static_cast<uint8_t>(std::min<size_t>(chars, 255)), token_ids_[k]};
    }
    for (size_t n = 0; n < trie_.size(); ++n) {
      if (trie_[n].depth != depth) continue;
      std::stable_sort(entries.begin() + subtrees_[n].first_token, entries.begin() + subtrees_[n].end_token,
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    ByLength& index = by_length_[depth - 1];
    for (const auto& [chars, id] : entries) index.chars.push_back(chars), index.ids.push_back(id);
  }
}

}  // namespace owl::grammar
