// SentencePiece-style BPE over a GGUF vocabulary (tokenizer.ggml.model = "llama": Llama 2, Mistral,
// TinyLlama, Phi-3, Baichuan). Mirrors SentencePiece's bpe_model (merge the adjacent pair with the
// highest piece score, leftmost on ties; byte fallback to <0xXX> pieces) and its decoder.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/piece_table.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace owl {

class SpmTokenizer final : public Tokenizer {
 public:
  // Checks the vocabulary (scores are required) and applies the "llama" defaults for absent keys:
  // bos 1, eos 2, unk the first token of type unknown, add_bos on, add_space_prefix on.
  explicit SpmTokenizer(Vocab vocab);
  SpmTokenizer(const SpmTokenizer&) = delete;  // the lookup table points into vocab_
  SpmTokenizer& operator=(const SpmTokenizer&) = delete;

  std::string token_to_piece(int32_t id) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  void decode_append(int32_t id, bool& at_start, std::string& out) const override;

  int32_t n_vocab() const override { return vocab_.size(); }
  int32_t bos() const override { return vocab_.bos; }
  int32_t eos() const override { return vocab_.eos; }
  int32_t unk() const { return vocab_.unk; }
  bool is_end_of_generation(int32_t id) const override;
  std::string_view piece(int32_t id) const override;
  TokenType token_type(int32_t id) const override;
  bool add_bos_by_default() const override { return add_bos_ && vocab_.bos >= 0; }
  bool add_eos_by_default() const override { return add_eos_ && vocab_.eos >= 0; }
  bool add_space_prefix() const { return add_space_prefix_; }
  float score(int32_t id) const;
  std::string_view kind() const override { return "spm"; }
  const Vocab& vocab() const { return vocab_; }

  // How encode() cuts text before merging (see split_words_ and pair_filter_); the cuts never change
  // the result. disable_splitting() runs BPE over the whole text at once: the plain reference
  // algorithm, for tests and benchmarks.
  bool splits_words() const { return split_words_ && splitting_; }
  void disable_splitting() { splitting_ = false; }
  // Which merge queue encode() uses: a binary heap for short spans and a bucket queue (one per
  // score rank) for long ones. Forcing one is for tests and benchmarks; results are identical.
  enum class MergeQueue { automatic, heap, buckets };
  void set_merge_queue(MergeQueue queue) { merge_queue_ = queue; }

  // The text SentencePiece merges over: spaces escaped to U+2581, with the dummy prefix.
  std::string normalize(std::string_view text, bool dummy_prefix = true) const;

 protected:
  void encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const override;

 private:
  struct Scratch;
  bool producible(int32_t id) const;  // a piece BPE may output (the first id of its text)
  void build_pair_filter();
  void build_ranks();
  // BPE over one normalized span, appending ids; long spans are first cut at safe character pairs.
  void encode_span(std::string_view s, Scratch& scratch, std::vector<int32_t>& ids) const;
  void merge_span(std::string_view s, Scratch& scratch, std::vector<int32_t>& ids) const;
  bool pair_may_be_inside_piece(std::string_view s, size_t a, size_t a_len, size_t b_len) const;
  template <typename Queue>
  void merge(std::string_view s, Scratch& scratch, Queue& queue) const;
  // Appends the ids of one final symbol s[start, start+len): its piece, or byte fallback.
  void emit_symbol(std::string_view s, uint32_t start, uint32_t len, const Scratch& scratch,
                   std::vector<int32_t>& ids) const;
  int32_t find_piece(std::string_view text) const;

  Vocab vocab_;
  // Pieces BPE may produce (normal, user-defined, unused, undefined) -> id; views into vocab_.tokens.
  PieceTable pieces_;
  std::array<int32_t, 256> byte_ids_{};  // <0xXX> piece of each byte, -1 when absent
  bool has_byte_fallback_ = false;       // some <0xXX> piece exists
  bool has_unused_ = false;              // some unused piece can be produced (needs resegmenting)
  // When no piece contains U+2581 after another character, a merge never crosses the point just
  // before a U+2581 that follows another character, so text is cut into words there and repeated
  // words are encoded once per call. Checked on the vocabulary at construction.
  bool split_words_ = false;
  // A bit set, by hash, for every pair of adjacent characters inside some producible piece. No
  // symbol can ever span two adjacent characters whose bit is clear (every merge result is a
  // piece), so long spans are cut there; a false positive only means one cut fewer.
  std::vector<uint64_t> pair_filter_;
  uint64_t pair_filter_mask_ = 0;  // bits - 1
  bool splitting_ = true;
  MergeQueue merge_queue_ = MergeQueue::automatic;
  std::vector<uint32_t> ranks_;  // id -> rank of its score among producible pieces (0 = best)
  size_t n_ranks_ = 0;
  bool add_bos_ = true;
  bool add_eos_ = false;
  bool add_space_prefix_ = true;
  std::vector<std::string> decoded_;  // what each id decodes to (spaces unescaped, bytes raw)
  std::vector<uint8_t> strip_space_;  // 1 when the piece starts with U+2581 (dummy prefix candidate)
  std::vector<uint8_t> end_of_generation_;
};

}  // namespace owl
