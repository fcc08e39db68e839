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

  // add_bos prepends BOS when the vocabulary has one.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // The bytes a token stands for when printed (byte tokens give their raw byte, control tokens
  // give nothing). Throws owl::Error for ids out of range.
  virtual std::string token_to_piece(int32_t id) const = 0;
  // Whole-sequence decode: pieces concatenated, with the SentencePiece dummy-prefix space
  // removed from the first text piece when add_space_prefix is on.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;

  virtual int32_t n_vocab() const = 0;
  virtual int32_t bos() const = 0;  // -1 when none
  virtual int32_t eos() const = 0;  // -1 when none
  virtual bool is_end_of_generation(int32_t id) const = 0;
  virtual std::string_view piece(int32_t id) const = 0;  // the vocabulary string itself
};

// Streams decoded text: feeding ids one at a time yields exactly decode(all ids) in pieces, and
// never yields a partial UTF-8 sequence (it holds bytes back until the sequence is complete).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  std::string feed(int32_t id);
  std::string finish();  // whatever is held back (an incomplete sequence at the very end)

 private:
  const Tokenizer& tokenizer_;
  std::vector<int32_t> ids_;
  size_t emitted_ = 0;  // bytes of decode(ids_) already returned
};

}  // namespace owl
