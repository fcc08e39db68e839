// The merge engine of rank-based BPE: a word's symbols are merged pair by pair, always the adjacent
// pair with the lowest merge rank (leftmost on ties), as in HF tokenizers' models/bpe and tiktoken's
// byte-pair merge. Works on raw bytes; which pairs merge and into what is given as token ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/piece_table.h"

namespace owl {

class BpeModel {
 public:
  // Adds the token whose raw bytes are text (the first id of a text wins).
  void add_token(std::string_view text, int32_t id) { pieces_.insert(text, id); }
  int32_t find(std::string_view text) const { return pieces_.find(text); }
  // Pair (left, right) merges into result with priority rank (lower first). The first rank given
  // for a pair wins.
  void add_merge(int32_t left, int32_t right, int32_t result, uint32_t rank);
  size_t n_merges() const { return n_merges_; }

  struct Options {
    bool ignore_merges = false;     // a word that is a token is emitted whole (Llama 3)
    bool utf8_symbols = false;      // initial symbols are UTF-8 characters, not bytes
    bool byte_fallback = false;     // a character with no token becomes its <0xXX> tokens
    int32_t unk = -1;               // otherwise the unknown token (or nothing when -1)
    const int32_t* byte_ids = nullptr;  // 256 ids of the <0xXX> tokens (byte_fallback)
  };

  struct Scratch;
  // Appends the ids of one word.
  void encode_word(std::string_view word, const Options& options, Scratch& scratch, std::vector<int32_t>& ids) const;

 private:
  struct Merge {
    uint64_t key;  // left << 32 | right; kEmpty when unused
    uint32_t rank;
    int32_t result;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  const Merge* find_merge(int32_t left, int32_t right) const;
  void grow();
  void initial_symbols(std::string_view word, const Options& options, Scratch& scratch, std::vector<int32_t>& ids) const;

  PieceTable pieces_;
  std::vector<Merge> merges_;
  size_t mask_ = 0;
  size_t n_merges_ = 0;
};

// Per-call working memory of encode_word.
struct BpeModel::Scratch {
  struct Symbol {
    int32_t id;
    uint32_t len;  // bytes
    int32_t prev;
    int32_t next;
  };
  std::vector<Symbol> symbols;
  std::vector<uint32_t> pair_rank;  // short words: rank of (i, i+1)
  struct Item {
    uint32_t rank;
    int32_t left;
    int32_t left_id;
    int32_t right_id;
  };
  std::vector<Item> heap;
};

}  // namespace owl
