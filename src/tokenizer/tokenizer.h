// Text <-> token ids for every tokenizer family: SentencePiece-style BPE (GGUF "llama", SentencePiece
// tokenizer.model), byte-level BPE (GGUF "gpt2", HF tokenizer.json / vocab.json + merges.txt, tiktoken),
// WordPiece (GGUF "bert") and Unigram, all behind one interface with special-token handling.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace owl {
class ModelFile;

// Token attributes, numbered as GGUF tokenizer.ggml.token_type.
enum class TokenType : int32_t { undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Reads tokenizer.ggml.* metadata; throws owl::Error naming the file and key when it is
  // missing, inconsistent or names a tokenizer model owl does not support.
  static std::unique_ptr<Tokenizer> from_gguf(const ModelFile& file);
  // Any tokenizer file, detected by name and content: a GGUF file, tokenizer.json, a SentencePiece
  // tokenizer.model (protobuf) or a tiktoken rank file (Llama 3's tokenizer.model), vocab.json /
  // encoder.json (with merges.txt / vocab.bpe beside it), or a directory (see from_hf_dir). Throws
  // owl::Error naming the file when it cannot be read or is malformed.
  static std::unique_ptr<Tokenizer> from_file(const std::string& path);
  // A Hugging Face model directory: tokenizer.json, else tokenizer.model, else vocab.json +
  // merges.txt; tokenizer_config.json / special_tokens_map.json / added_tokens.json supply special
  // tokens and add_bos_token / add_eos_token.
  static std::unique_ptr<Tokenizer> from_hf_dir(const std::string& dir);

  // add_bos prepends BOS when the vocabulary has one. parse_special: text that spells a control
  // token ("<|im_start|>", "[INST]") becomes that token; otherwise it is encoded as plain text.
  // User-defined tokens are always recognised (as in SentencePiece and HF added tokens).
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special = false) const;
  // BOS / EOS exactly as the model's configuration asks (add_bos_token / add_eos_token; CLS and SEP
  // for BERT): what a prompt should look like.
  std::vector<int32_t> encode_with_specials(std::string_view text, bool parse_special) const;
  // The bytes a token stands for when printed (byte tokens give their raw byte, control tokens
  // give nothing). Throws owl::Error for ids out of range.
  virtual std::string token_to_piece(int32_t id) const = 0;
  // Whole-sequence decode: pieces concatenated, with the SentencePiece dummy-prefix space
  // removed from the first text piece when add_space_prefix is on. decode(encode(text)) == text
  // for lossless tokenizers (except that a U+2581 in text comes back as a space with SentencePiece).
  virtual std::string decode(std::span<const int32_t> ids) const;
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
  // Whether decode(encode(text)) == text for every valid UTF-8 text (no lower-casing, accent
  // stripping or normalisation).
  virtual bool lossless() const { return true; }
  // A short name of the tokenizer model ("spm", "bpe", "wordpiece", "unigram").
  virtual std::string_view kind() const = 0;

  // Registers a token that text can spell: always (user-defined / HF added tokens that are not
  // special) or only with parse_special (control tokens). lstrip / rstrip: whitespace before / after
  // a match is absorbed into it (HF AddedToken). Registering a known text again only adds flags.
  void add_special_token(std::string_view text, int32_t id, bool always, bool lstrip = false, bool rstrip = false);
  // Registers every control and user-defined token of the vocabulary (GGUF token types).
  void add_special_tokens_from_types();

 protected:
  // Encodes text that holds no special token. at_start: nothing precedes it in this call except
  // BOS (SentencePiece adds its dummy prefix only then).
  virtual void encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const = 0;
  // Control / user-defined pieces that end a turn in common chat formats.
  static bool is_end_of_turn_piece(std::string_view piece);

 private:
  struct Special {
    std::string text;
    int32_t id;
    bool always;
    bool lstrip;
    bool rstrip;
  };
  std::vector<Special> specials_;
  std::vector<std::vector<uint32_t>> by_first_byte_;  // 256 lists of indices into specials_, longest first
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
