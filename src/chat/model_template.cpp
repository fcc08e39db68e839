// GGUF glue for chat templates (see model_template.h): reads tokenizer.chat_template, the BOS/EOS
// token strings, and the metadata that picks a fallback (general.architecture, tokenizer.ggml.model,
// marker tokens in tokenizer.ggml.tokens).
#include "chat/model_template.h"

#include "base/error.h"
#include "formats/gguf.h"

namespace owl::chat {

ConversationOptions ModelTemplate::options() const {
  ConversationOptions o;
  o.bos_token = bos_token;
  o.eos_token = eos_token;
  return o;
}

namespace {
std::optional<std::string> token_string(const ModelFile& f, const char* id_key, const gguf::Array* tokens) {
  const auto id = f.find_uint(id_key);
  if (!id || tokens == nullptr) return std::nullopt;
  if (*id >= tokens->items.size()) {
    fail("{}: metadata '{}' = {} is outside tokenizer.ggml.tokens ({} entries)", f.path(), id_key, *id,
         tokens->items.size());
  }
  return tokens->items[*id].to_string("tokenizer.ggml.tokens");
}
}  // namespace

ModelTemplate model_template(const ModelFile& f, std::optional<std::string_view> family_fallback) {
  ModelTemplate t;
  const gguf::Value* tv = f.find("tokenizer.ggml.tokens");
  const gguf::Array* tokens = tv != nullptr ? &tv->to_array("tokenizer.ggml.tokens") : nullptr;
  t.bos_token = token_string(f, "tokenizer.ggml.bos_token_id", tokens);
  t.eos_token = token_string(f, "tokenizer.ggml.eos_token_id", tokens);
  if (auto own = f.find_string("tokenizer.chat_template"); own && !own->empty()) {
    t.source = *own;
    return t;
  }
  VocabHints h;
  bool has_user = false, has_end = false;
  if (tokens != nullptr) {
    for (const auto& v : tokens->items) {
      if (v.type() != gguf::ValueType::string) continue;
      const std::string& s = std::get<std::string>(v.v);
      if (s.empty() || (s[0] != '<' && s[0] != '[')) continue;
      h.has_im_start |= s == "<|im_start|>";
      h.has_start_header_id |= s == "<|start_header_id|>";
      h.has_start_of_turn |= s == "<start_of_turn>";
      h.has_inst |= s == "[INST]";
      has_user |= s == "<|user|>";
      has_end |= s == "<|end|>";
    }
  }
  h.has_phi3_tags = has_user && has_end;
  const FallbackTemplate fb = fallback_template(family_fallback, f.find_string("tokenizer.ggml.model").value_or(""), h);
  t.source = fb.source;
  t.is_fallback = true;
  t.fallback_name = fb.name;
  return t;
}

}  // namespace owl::chat
