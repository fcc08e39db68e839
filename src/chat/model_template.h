// The chat template of a model: its own (tokenizer.chat_template) or a family fallback, and
// the special-token strings templates read (bos/eos from tokenizer.ggml.tokens at the
// tokenizer.ggml.bos_token_id / eos_token_id). The one file of src/chat that reads formats/.
#pragma once

#include <optional>
#include <string>

#include "chat/conversation.h"

namespace owl {
class ModelFile;
}

namespace owl::chat {

struct ModelTemplate {
  std::string source;
  bool is_fallback = false;
  std::string fallback_name;  // set when is_fallback
  std::string file;           // set when the user gave the template (--chat-template-file)
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;

  // "model's own", "fallback NAME" or "file PATH" (what `owl info` prints).
  std::string describe() const {
    if (!file.empty()) return "file " + file;
    return is_fallback ? "fallback " + fallback_name : "model's own";
  }
  // ConversationOptions with the special tokens filled in.
  ConversationOptions options() const;
};

// Throws owl::Error naming the file for malformed metadata (a token id out of range, a non-string template).
// family_fallback: the family's fallback template, as fallback_template() takes it.
ModelTemplate model_template(const ModelFile& file, std::optional<std::string_view> family_fallback);

}  // namespace owl::chat
