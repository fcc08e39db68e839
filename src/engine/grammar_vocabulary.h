// A tokenizer's vocabulary as grammars see it: each token's bytes (control tokens none) and which
// tokens end a reply.
#pragma once

#include <functional>
#include <memory>

#include "grammar/token_vocabulary.h"
#include "tokenizer/tokenizer.h"

namespace owl {

std::shared_ptr<const grammar::TokenVocabulary> grammar_vocabulary(const Tokenizer& tokenizer,
                                                                   const std::function<bool(int32_t)>& ends_reply);

}  // namespace owl
