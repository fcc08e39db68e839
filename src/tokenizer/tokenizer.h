// Text <-> token ids. This issue provides the SentencePiece-style tokenizer that GGUF files with
// tokenizer.ggml.model = "llama" describe (Llama 2, Mistral, TinyLlama); other families plug in
// behind the same interface.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace owl {
namespace gguf {
class File;
}

// Token attributes, numbered as GGUF tokenizer.ggml.token_type.
enum class TokenType : int32_t { undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Reads tokenizer.ggml.* metadata; throws owl::Error naming the file and key when it is
  // missing, inconsistent or names a tokenizer model owl does not support.
  static std::unique_ptr<Tokenizer> from_gguf(const gguf::File& file);

  // add_bos prepends BOS when the vocabulary has one. Text that spells a control or user-defined
  // piece ("<s>", "<|end|>") is encoded as plain text: special-token matching is not done here.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // The bytes a token stands for when printed (byte tokens give their raw byte, control tokens
  // give nothing). Throws owl::Error for ids out of range.
  virtual std::string token_to_piece(int32_t id) const = 0;
  // Whole-sequence decode: pieces concatenated, with the SentencePiece dummy-prefix space
  // removed from the first text piece when add_space_prefix is on. decode(encode(text)) == text,
  // except that a U+2581 in text comes back as a space (as in SentencePiece).
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  // Incremental form of decode(): appends what id adds to the text. at_start is true before the
  // first id of a sequence and is updated here; decode(ids) equals the appends over ids from
  // at_start = true. The default appends token_to_piece(id) and clears at_start once text appears.
  virtual void decode_append(int32_t id, bool& at_start, std::string& out) const;

  virtual int32_t n_vocab() const = 0;
  virtual int32_t bos() const = 0;  // -1 when none
  virtual int32_t eos() const = 0;  // -1 when none
  // eos, eot, eom, and control pieces that end a turn in common chat formats ("<|end|>", ...).
  virtual bool is_end_of_generation(int32_t id) const = 0;
  virtual std::string_view piece(int32_t id) const = 0;  // the vocabulary string itself
  // tokenizer.ggml.token_type of id (normal when the file gives none); throws for ids out of range.
  virtual TokenType token_type(int32_t id) const { (void)id; return TokenType::normal; }
  // Whether the model expects BOS in front of a prompt (tokenizer.ggml.add_bos_token, or the
  // tokenizer model's default when the key is absent).
  virtual bool add_bos_by_default() const { return bos() >= 0; }
  // Whether the model expects EOS after a prompt (tokenizer.ggml.add_eos_token; rarely on).
  virtual bool add_eos_by_default() const { return false; }
};

// Streams decoded text: feeding ids one at a time yields exactly decode(all ids) in pieces, and
// never yields a partial UTF-8 sequence (it holds bytes back until the sequence is complete).
// Each feed costs O(length of the token's piece): the history is never decoded again.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  std::string feed(int32_t id);
  std::string finish();  // whatever is held back (an incomplete sequence at the very end)
  void reset();          // start a new sequence (drops anything held back)

 private:
  const Tokenizer& tokenizer_;
  bool at_start_ = true;  // no id fed yet that produced text (see Tokenizer::decode_append)
  std::string held_;      // the start of a UTF-8 sequence whose last bytes have not come yet
};

}  // namespace owl
