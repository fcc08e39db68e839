// Tokenizers written as GGUF tokenizer.ggml.* metadata: a Vocab as it stands, and the tokenizer of a
// Hugging Face model directory as llama.cpp's convert_hf_to_gguf.py (with gguf-py's SpecialVocab)
// writes it, so that Tokenizer::from_gguf reads it back to the tokenizer Tokenizer::from_hf_dir builds.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "formats/gguf_value.h"
#include "tokenizer/vocab.h"

namespace owl {

// The GGUF tokenizer.ggml.* metadata that describes the tokenizer of a Hugging Face model directory
// (what convert_hf_to_gguf.py writes); owl::Error naming the file when it cannot be expressed.
// Returns an empty list when the directory holds no tokenizer files at all (tokenizer_config.json
// alone, without a vocabulary, counts as none).
std::vector<std::pair<std::string, gguf::Value>> hf_tokenizer_metadata(const std::string& dir);

// The same keys for a Vocab (building block of the above; also used to write GGUF from memory):
// every field that Vocab::from_gguf reads, written only when set (ids as u32, types as i32).
std::vector<std::pair<std::string, gguf::Value>> vocab_metadata(const Vocab& vocab);

}  // namespace owl
