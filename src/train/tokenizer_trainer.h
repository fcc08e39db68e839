// Trains a SentencePiece-style BPE vocabulary on text, for a model owl trains from scratch: the
// pieces and scores that llama.cpp's SPM tokenizer (GGUF tokenizer.ggml.model "llama") encodes
// with — spaces as U+2581 with a dummy prefix, merges by score, and the 256 byte-fallback pieces —
// so that every text encodes and decode(encode(text)) == text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/vocab.h"

namespace owl::train {

struct TokenizerTrainOptions {
  int64_t vocab_size = 1024;  // pieces in all: <unk> <s> </s>, 256 bytes, characters and merges
  int64_t min_frequency = 2;  // a pair seen fewer times is never merged
  int64_t max_chars = 256;    // the most frequent characters get a piece; the rest use bytes
};

// Words are the text split before each space (as SentencePiece's split_by_whitespace) and where
// letters and digits meet punctuation: no piece spans two words or a word and its punctuation. Merges go by pair count, ties by the merged piece's bytes, so a corpus gives the
// same vocabulary on every machine. Scores fall with merge order (the first merge scores highest).
Vocab train_spm_bpe(const std::vector<std::string>& texts, const TokenizerTrainOptions& options);

}  // namespace owl::train
