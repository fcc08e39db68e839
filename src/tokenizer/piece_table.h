// A read-only hash table from piece text to token id, built once per vocabulary: open addressing
// with linear probing over 8-byte slots (hash tag + id) and the piece bytes kept in one arena, so a
// lookup is one hash, about one cache line of slots and one memcmp. Used by the BPE merge loops.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace owl {

// A fast non-cryptographic hash for short strings (pieces, words): 8 bytes per multiply-xorshift round.
inline uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = (s.size() + 1) * kMul;
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t v = 0;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ v) * kMul;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

// a[0, n) == b[0, n), inlined for the short strings pieces are (memcmp is a call).
inline bool equal_bytes(const char* a, const char* b, size_t n) {
  for (; n >= 8; a += 8, b += 8, n -= 8) {
    uint64_t x = 0;
    uint64_t y = 0;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x != y) return false;
  }
  if (n >= 4) {  // two overlapping 4-byte loads cover 4-7 bytes
    uint32_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, b, 4);
    std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y1, b + n - 4, 4);
    return x0 == y0 && x1 == y1;
  }
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

struct StringViewHash {
  size_t operator()(std::string_view s) const { return static_cast<size_t>(hash_bytes(s)); }
};

class PieceTable {
 public:
  // Adds text -> id unless text is already present (the first id wins).
  void insert(std::string_view text, int32_t id) {
    if (find(text) >= 0) return;
    if (arena_.size() + text.size() > UINT32_MAX) fail("vocabulary pieces exceed 4 GiB in total");
    if (2 * (count_ + 1) > slots_.size()) grow();
    const auto offset = static_cast<uint32_t>(arena_.size());
    arena_.append(text);
    if (entries_.size() <= static_cast<size_t>(id)) entries_.resize(static_cast<size_t>(id) + 1, Entry{0, 0});
    entries_[static_cast<size_t>(id)] = Entry{offset, static_cast<uint32_t>(text.size())};
    place(hash_bytes(text), id);
    ++count_;
  }

  // The id of text, or -1.
  int32_t find(std::string_view text) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_bytes(text);
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = static_cast<size_t>(h) & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id < 0) return -1;
      if (slot.tag == tag) {
        const Entry& e = entries_[static_cast<size_t>(slot.id)];
        if (e.len == text.size() && equal_bytes(arena_.data() + e.offset, text.data(), text.size())) return slot.id;
      }
    }
  }

  size_t size() const { return count_; }

 private:
  struct Slot {
    uint32_t tag;  // high half of the hash
    int32_t id;    // -1: empty
  };
  struct Entry {
    uint32_t offset;  // into arena_
    uint32_t len;
  };

  void place(uint64_t h, int32_t id) {
    for (size_t i = static_cast<size_t>(h) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].id < 0) {
        slots_[i] = Slot{static_cast<uint32_t>(h >> 32), id};
        return;
      }
    }
  }

  void grow() {
    const size_t capacity = slots_.empty() ? 64 : slots_.size() * 2;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{0, -1});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      const Entry& e = entries_[static_cast<size_t>(s.id)];
      place(hash_bytes(std::string_view(arena_).substr(e.offset, e.len)), s.id);
    }
  }

  std::vector<Slot> slots_;
  std::vector<Entry> entries_;  // id -> its text in arena_
  std::string arena_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace owl
