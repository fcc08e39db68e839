// A GGUF vocabulary written as Hugging Face tokenizer files (tokenizer.json + tokenizer_config.json), laid
// out as transformers writes them for Llama 2 (SentencePiece BPE) and Llama 3 / Qwen2 / GPT-2 (byte-level
// BPE). The inverse of hf_tokenizer_metadata (gguf_export.h): Tokenizer::from_hf_dir gives the same ids.
#pragma once

#include <optional>
#include <string>

#include "tokenizer/vocab.h"

namespace owl {

struct HfTokenizerFiles {
  std::string tokenizer_json;
  std::string tokenizer_config_json;
};

// tokenizer.json: model BPE for SentencePiece-style "llama" vocabularies (byte_fallback, U+2581 spaces,
// merges derived from the scores as transformers' LlamaConverter does) and byte-level "gpt2" ones
// (ByteLevel with the regexes of tokenizer.ggml.pre, tokenizer.ggml.merges), control / user-defined
// tokens as added_tokens. tokenizer_config.json: bos / eos / unk / pad, add_bos_token / add_eos_token,
// added_tokens_decoder, and chat_template when given. owl::Error naming vocab.source for other tokenizer
// models (WordPiece "bert", Unigram "t5", ...), unknown tokenizer.ggml.pre names, and tokens a
// tokenizer.json cannot hold (invalid UTF-8, two tokens with the same text).
HfTokenizerFiles hf_tokenizer_files(const Vocab& vocab, const std::optional<std::string>& chat_template);

}  // namespace owl
