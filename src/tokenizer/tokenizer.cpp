// Tokenizer::from_gguf (picks the implementation by tokenizer.ggml.model) and the streaming decoder.
// The model names are those of the GGUF specification (ggml docs/gguf.md, "Tokenizer"); the
// streaming rule (hold back an unfinished UTF-8 sequence) mirrors what llama.cpp's examples do.
#include "tokenizer/tokenizer.h"

#include "base/error.h"
#include "formats/gguf.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

namespace owl {

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::File& file) {
  const auto model = file.find_string("tokenizer.ggml.model");
  if (!model) fail("{}: metadata 'tokenizer.ggml.model': missing (the file carries no tokenizer)", file.path());
  if (*model == "llama") return std::make_unique<SpmTokenizer>(Vocab::from_gguf(file));
  fail("{}: metadata 'tokenizer.ggml.model': tokenizer model '{}' is not supported yet (supported: llama)",
       file.path(), *model);
}

void Tokenizer::decode_append(int32_t id, bool& at_start, std::string& out) const {
  const std::string piece = token_to_piece(id);
  if (!piece.empty()) at_start = false;
  out += piece;
}

std::string StreamDecoder::feed(int32_t id) {
  std::string out = std::move(held_);
  held_.clear();
  tokenizer_.decode_append(id, at_start_, out);
  // Only the last few bytes can be an unfinished character; everything before is final.
  const size_t tail = utf8::incomplete_tail(out);
  if (tail > 0) {
    held_ = out.substr(out.size() - tail);
    out.erase(out.size() - tail);
  }
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = std::move(held_);
  held_.clear();
  return out;
}

void StreamDecoder::reset() {
  at_start_ = true;
  held_.clear();
}

}  // namespace owl
