// Rendering a conversation with a chat template: the variables transformers' apply_chat_template
// passes (messages, tools, documents, add_generation_prompt, the special tokens) built from
// OpenAI-style JSON messages, and fallback templates for models that ship none.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "chat/template.h"

namespace owl::chat {

struct ConversationOptions {
  bool add_generation_prompt = true;
  nlohmann::ordered_json tools = nullptr;      // a list of tool schemas, or null (tools=None)
  nlohmann::ordered_json documents = nullptr;  // RAG documents, or null
  std::optional<std::string> bos_token;        // absent: the variable is undefined, as for Qwen
  std::optional<std::string> eos_token;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // more variables (enable_thinking, ...)
  RenderOptions render;
};

// Checks messages (a list of {role, content, ...}; content a string, null or a list of parts;
// tool_calls a list) and throws owl::Error naming the message index for malformed ones.
void check_messages(const nlohmann::ordered_json& messages);

// The exact variables render_conversation passes to the template (for `owl template` and tests).
nlohmann::ordered_json conversation_context(const nlohmann::ordered_json& messages, const ConversationOptions& options);

// conversation_context → Template::render. Throws owl::Error / TemplateError.
std::string render_conversation(const Template& tmpl, const nlohmann::ordered_json& messages,
                                const ConversationOptions& options);

// A template for models without one, chosen from GGUF metadata: general.architecture,
// tokenizer.ggml.model and whether the vocabulary has the family's marker tokens.
struct FallbackTemplate {
  std::string name;    // "chatml", "llama2", "llama3", "gemma", "phi3", "mistral"
  std::string source;  // Jinja text
};
struct VocabHints {
  bool has_im_start = false;         // "<|im_start|>" (ChatML)
  bool has_start_header_id = false;  // "<|start_header_id|>" (Llama 3)
  bool has_start_of_turn = false;    // "<start_of_turn>" (Gemma)
  bool has_phi3_tags = false;        // "<|user|>" and "<|end|>" (Phi-3)
  bool has_inst = false;             // "[INST]" as a token (Mistral v2+)
};
// family: the model family's own fallback (its record in models/arch/: "gemma", "phi3", "chatml"),
// "" for a family whose vocabulary decides (Llama: llama2 with SentencePiece, llama3 with
// byte-level BPE), nullopt for an architecture owl does not run. Vocabulary hints come first.
FallbackTemplate fallback_template(std::optional<std::string_view> family, std::string_view tokenizer_model,
                                   const VocabHints& hints);
// The fallback with this name; throws owl::Error listing the names when there is none.
FallbackTemplate fallback_template_named(std::string_view name);

}  // namespace owl::chat
