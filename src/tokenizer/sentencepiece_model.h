// Reader for SentencePiece's tokenizer.model (a ModelProto protobuf: pieces with score and type,
// trainer_spec, normalizer_spec), parsed straight from the protobuf wire format. Field numbers
// follow sentencepiece_model.proto; every length and offset is checked against the file.
#pragma once

#include <string>
#include <string_view>

#include "tokenizer/vocab.h"

namespace owl {

struct SentencePieceModel {
  Vocab vocab;                    // model = "llama" for BPE, "unigram" for Unigram
  int model_type = 1;             // trainer_spec.model_type: 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;     // trainer_spec.byte_fallback
  int32_t unk_id = 0;             // trainer_spec.unk_id as written (vocab.unk is -1 when out of range)
  bool add_dummy_prefix = true;   // normalizer_spec.add_dummy_prefix
  bool remove_extra_whitespaces = true;  // normalizer_spec.remove_extra_whitespaces
  std::string normalizer_name;    // normalizer_spec.name ("identity", "nmt_nfkc", ...)
};

// Parses bytes (the content of path); throws owl::Error "<path>: ..." for a malformed file.
SentencePieceModel parse_sentencepiece_model(std::string_view bytes, const std::string& path);

}  // namespace owl
