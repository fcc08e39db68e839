#include "engine/grammar_vocabulary.h"

namespace owl {

std::shared_ptr<const grammar::TokenVocabulary> grammar_vocabulary(const Tokenizer& tokenizer,
                                                                   const std::function<bool(int32_t)>& ends_reply) {
  const int32_t n = tokenizer.n_vocab();
  std::vector<std::string> bytes(static_cast<size_t>(n));
  std::vector<bool> ends(static_cast<size_t>(n), false);
  for (int32_t id = 0; id < n; ++id) {
    ends[static_cast<size_t>(id)] = ends_reply(id);
    // Control tokens print nothing: the grammar never allows them (the reply's end tokens aside).
    if (tokenizer.token_type(id) != TokenType::control) bytes[static_cast<size_t>(id)] = tokenizer.token_to_piece(id);
  }
  return std::make_shared<const grammar::TokenVocabulary>(std::move(bytes), std::move(ends));
}

}  // namespace owl
