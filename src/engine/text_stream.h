// Generated tokens to text as it streams, with stop strings: text that might be the start of a
// stop string is held back until it is known not to be one, so a client never receives part of a
// stop string (the behaviour of the OpenAI API and llama-server).
#pragma once

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace owl {

class TextStream {
 public:
  TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop);

  // The text that can be released after one more token. Once a stop string appears, the text
  // before it is released, stopped() turns true, and later feeds return nothing.
  std::string feed(int32_t id);
  // Feeds a token of the prompt the generated text continues, so that the next token decodes as it
  // does in context (SentencePiece's leading space is kept). Returns its text, which stop strings
  // do not see.
  std::string skip(int32_t id) { return decoder_.feed(id); }
  // What is still held back (at the end of generation).
  std::string finish();
  bool stopped() const { return stopped_; }

 private:
  StreamDecoder decoder_;
  std::vector<std::string> stop_;
  std::string pending_;  // decoded text not yet released
  bool stopped_ = false;
};

}  // namespace owl
