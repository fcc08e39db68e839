// Rank-based BPE merging (see bpe_model.h). Short words use a flat array and a linear scan for the
// best pair; long words a heap of candidate pairs over a linked list of symbols (as in HF tokenizers'
// Word::merge_all), so a long run of letters stays O(n log n).
#include "tokenizer/bpe_model.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace owl {

namespace {
constexpr uint32_t kNoRank = ~uint32_t{0};
constexpr size_t kShortWord = 48;  // symbols; above this the heap is used

uint64_t mix(uint64_t k) {
  k *= 0x9E3779B97F4A7C15ull;
  return k ^ (k >> 31);
}
}  // namespace

void BpeModel::grow() {
  std::vector<Merge> old = std::move(merges_);
  const size_t capacity = old.empty() ? 1024 : old.size() * 2;
  merges_.assign(capacity, Merge{kEmpty, 0, -1});
  mask_ = capacity - 1;
  for (const Merge& m : old) {
    if (m.key == kEmpty) continue;
    for (size_t i = mix(m.key) & mask_;; i = (i + 1) & mask_) {
      if (merges_[i].key == kEmpty) {
        merges_[i] = m;
        break;
      }
    }
  }
}

void BpeModel::add_merge(int32_t left, int32_t right, int32_t result, uint32_t rank) {
  if (find_merge(left, right) != nullptr) return;
  if (2 * (n_merges_ + 1) > merges_.size()) grow();
  const uint64_t key = uint64_t{static_cast<uint32_t>(left)} << 32 | static_cast<uint32_t>(right);
  for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
    if (merges_[i].key == kEmpty) {
      merges_[i] = Merge{key, rank, result};
      ++n_merges_;
      return;
    }
  }
}

const BpeModel::Merge* BpeModel::find_merge(int32_t left, int32_t right) const {
  if (merges_.empty() || left < 0 || right < 0) return nullptr;
  const uint64_t key = uint64_t{static_cast<uint32_t>(left)} << 32 | static_cast<uint32_t>(right);
  for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
    const Merge& m = merges_[i];
    if (m.key == key) return &m;
    if (m.key == kEmpty) return nullptr;
  }
}

// Initial symbols: one per byte (byte-level) or per UTF-8 character. A character without a token is
// emitted at once through byte fallback / unk, and cuts the word: nothing merges across it.
void BpeModel::initial_symbols(std::string_view word, const Options& options, Scratch& scratch,
                               std::vector<int32_t>& ids) const {
  (void)ids;
  auto& symbols = scratch.symbols;
  symbols.clear();
  for (size_t pos = 0; pos < word.size();) {
    const size_t len = options.utf8_symbols ? utf8::char_length(word, pos) : 1;
    const int32_t id = pieces_.find(word.substr(pos, len));
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back(Scratch::Symbol{id, static_cast<uint32_t>(len), index - 1, index + 1});
    pos += len;
  }
  if (!symbols.empty()) symbols.back().next = -1;
}

void BpeModel::encode_word(std::string_view word, const Options& options, Scratch& scratch,
                           std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (options.ignore_merges) {
    const int32_t id = pieces_.find(word);
    if (id >= 0) {
      ids.push_back(id);
      return;
    }
  }
  initial_symbols(word, options, scratch, ids);
  auto& sym = scratch.symbols;
  const size_t n = sym.size();
  auto rank_of = [&](int32_t a, int32_t b) -> const Merge* { return find_merge(sym[a].id, sym[b].id); };

  if (n <= kShortWord) {
    // Flat array: symbols stay contiguous; pair_rank[i] is the rank of (i, i+1).
    size_t count = n;
    auto& pr = scratch.pair_rank;
    pr.assign(n, kNoRank);
    std::vector<int32_t> result(n, -1);  // merge result of (i, i+1)
    auto update = [&](size_t i) {
      if (i + 1 >= count) {
        pr[i] = kNoRank;
        return;
      }
      const Merge* m = find_merge(sym[i].id, sym[i + 1].id);
      pr[i] = m ? m->rank : kNoRank;
      result[i] = m ? m->result : -1;
    };
    for (size_t i = 0; i < count; ++i) update(i);
    while (count > 1) {
      size_t best = 0;
      for (size_t i = 1; i + 1 < count; ++i) {
        if (pr[i] < pr[best]) best = i;
      }
      if (pr[best] == kNoRank) break;
      sym[best].id = result[best];
      sym[best].len += sym[best + 1].len;
      sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      pr.erase(pr.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      result.erase(result.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      --count;
      update(best);
      if (best > 0) update(best - 1);
    }
    sym.resize(count);
    for (size_t i = 0; i < count; ++i) {
      sym[i].next = i + 1 < count ? static_cast<int32_t>(i + 1) : -1;
    }
  } else {
    // Heap of (rank, left position); an entry is stale when either side has changed since.
    auto& heap = scratch.heap;
    heap.clear();
    auto later = [](const Scratch::Item& a, const Scratch::Item& b) {
      return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    };
    auto push = [&](int32_t left) {
      if (left < 0 || sym[left].next < 0) return;
      const int32_t right = sym[left].next;
      const Merge* m = rank_of(left, right);
      if (m == nullptr) return;
      heap.push_back(Scratch::Item{m->rank, left, sym[left].id, sym[right].id});
      std::push_heap(heap.begin(), heap.end(), later);
    };
    for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      const Scratch::Item item = heap.back();
      heap.pop_back();
      auto& l = sym[item.left];
      if (l.len == 0 || l.id != item.left_id || l.next < 0) continue;
      auto& r = sym[l.next];
      if (r.id != item.right_id) continue;
      const Merge* m = rank_of(item.left, l.next);
      if (m == nullptr || m->rank != item.rank) continue;
      l.id = m->result;
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = item.left;
      push(l.prev);
      push(item.left);
    }
  }

  // Emit, with byte fallback / unk for symbols that have no token.
  size_t offset = 0;
  for (int32_t i = 0; i >= 0 && static_cast<size_t>(i) < sym.size(); i = sym[i].next) {
    const auto& s = sym[i];
    if (s.len == 0) continue;
    if (s.id >= 0) {
      ids.push_back(s.id);
    } else if (options.byte_fallback && options.byte_ids != nullptr) {
      for (uint32_t k = 0; k < s.len; ++k) {
        const int32_t b = options.byte_ids[static_cast<uint8_t>(word[offset + k])];
        if (b >= 0) ids.push_back(b);
        else if (options.unk >= 0) ids.push_back(options.unk);
      }
    } else if (options.unk >= 0) {
      ids.push_back(options.unk);
    }
    offset += s.len;
  }
}

}  // namespace owl
