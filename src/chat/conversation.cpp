// Conversation rendering (see conversation.h): the variables of transformers' apply_chat_template
// (tools and documents are always passed, null meaning None) and owl's own fallback templates,
// written for this project in each family's published prompt format.
#include "chat/conversation.h"

#include "base/error.h"

namespace owl::chat {

void check_messages(const nlohmann::ordered_json& messages) {
  if (!messages.is_array()) fail("chat messages must be a JSON array of {{\"role\", \"content\"}} objects");
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (!m.is_object()) fail("chat message {}: expected an object", i);
    if (!m.contains("role") || !m["role"].is_string()) fail("chat message {}: missing string 'role'", i);
    if (m.contains("content")) {
      const auto& c = m["content"];
      if (!c.is_string() && !c.is_null() && !c.is_array()) {
        fail("chat message {}: 'content' must be a string, null or a list of parts", i);
      }
      if (c.is_array()) {
        for (size_t k = 0; k < c.size(); ++k) {
          if (!c[k].is_object() || !c[k].contains("type")) fail("chat message {}: content part {} needs a 'type'", i, k);
        }
      }
    }
    if (m.contains("tool_calls") && !m["tool_calls"].is_array() && !m["tool_calls"].is_null()) {
      fail("chat message {}: 'tool_calls' must be a list", i);
    }
  }
}

nlohmann::ordered_json conversation_context(const nlohmann::ordered_json& messages,
                                            const ConversationOptions& options) {
  check_messages(messages);
  if (!options.tools.is_null() && !options.tools.is_array()) fail("tools must be a JSON array");
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = messages;
  ctx["tools"] = options.tools;
  ctx["documents"] = options.documents;
  ctx["add_generation_prompt"] = options.add_generation_prompt;
  if (options.bos_token) ctx["bos_token"] = *options.bos_token;
  if (options.eos_token) ctx["eos_token"] = *options.eos_token;
  if (!options.extra.is_object()) fail("extra template variables must be a JSON object");
  for (const auto& [k, v] : options.extra.items()) ctx[k] = v;
  return ctx;
}

std::string render_conversation(const Template& tmpl, const nlohmann::ordered_json& messages,
                                const ConversationOptions& options) {
  return tmpl.render(conversation_context(messages, options), options.render);
}

namespace {

// Text content of a message: a string, or the text parts of a list joined.
constexpr const char* kContentMacro =
    "{%- macro text(c) -%}{%- if c is string -%}{{ c }}{%- elif c is iterable and c is not none -%}"
    "{%- for p in c if p.type == 'text' -%}{{ p.text }}{%- endfor -%}{%- endif -%}{%- endmacro -%}\n";

const FallbackTemplate kFallbacks[] = {
    {"chatml",
     std::string(kContentMacro) +
         "{%- for m in messages -%}<|im_start|>{{ m.role }}\n{{ text(m.content) }}<|im_end|>\n{% endfor -%}"
         "{%- if add_generation_prompt -%}<|im_start|>assistant\n{% endif %}"},
    {"llama3",
     std::string(kContentMacro) +
         "{{- bos_token -}}{%- for m in messages -%}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n"
         "{{ text(m.content) | trim }}<|eot_id|>{%- endfor -%}"
         "{%- if add_generation_prompt -%}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"},
    {"llama2",
     std::string(kContentMacro) +
         "{%- set ns = namespace(system='') -%}{%- for m in messages -%}"
         "{%- if m.role == 'system' -%}{%- set ns.system = '<<SYS>>\n' ~ text(m.content) ~ '\n<</SYS>>\n\n' -%}"
         "{%- elif m.role == 'user' -%}{{ bos_token }}[INST] {{ ns.system }}{{ text(m.content) | trim }} [/INST]"
         "{%- set ns.system = '' -%}"
         "{%- elif m.role == 'assistant' %} {{ text(m.content) | trim }} {{ eos_token }}{% endif -%}{%- endfor -%}"},
    {"mistral",
     std::string(kContentMacro) +
         "{{- bos_token -}}{%- set ns = namespace(system='') -%}{%- for m in messages -%}"
         "{%- if m.role == 'system' -%}{%- set ns.system = text(m.content) ~ '\n\n' -%}"
         "{%- elif m.role == 'user' -%}[INST] {{ ns.system }}{{ text(m.content) }}[/INST]{%- set ns.system = '' -%}"
         "{%- elif m.role == 'assistant' -%}{{ text(m.content) }}{{ eos_token }}{%- endif -%}{%- endfor -%}"},
    {"gemma",
     std::string(kContentMacro) +
         "{{- bos_token -}}{%- set ns = namespace(system='') -%}{%- for m in messages -%}"
         "{%- if m.role == 'system' -%}{%- set ns.system = text(m.content) ~ '\n\n' -%}{%- else -%}"
         "<start_of_turn>{{ 'model' if m.role == 'assistant' else m.role }}\n{{ ns.system }}{{ text(m.content) | trim }}"
         "<end_of_turn>\n{% set ns.system = '' %}{% endif %}{% endfor %}"
         "{%- if add_generation_prompt -%}<start_of_turn>model\n{% endif %}"},
    {"phi3",
     std::string(kContentMacro) +
         "{%- for m in messages -%}<|{{ m.role }}|>\n{{ text(m.content) }}<|end|>\n{% endfor -%}"
         "{%- if add_generation_prompt -%}<|assistant|>\n{% endif %}"},
};

}  // namespace

FallbackTemplate fallback_template_named(std::string_view name) {
  std::string names;
  for (const auto& f : kFallbacks) {
    if (f.name == name) return f;
    names += (names.empty() ? "" : ", ") + f.name;
  }
  fail("no fallback chat template named '{}' (have: {})", name, names);
}

FallbackTemplate fallback_template(std::optional<std::string_view> family, std::string_view tokenizer_model,
                                   const VocabHints& h) {
  if (h.has_start_header_id) return fallback_template_named("llama3");
  if (h.has_im_start) return fallback_template_named("chatml");
  if (family == "gemma" || h.has_start_of_turn) return fallback_template_named("gemma");
  if (family == "phi3" || h.has_phi3_tags) return fallback_template_named("phi3");
  if (h.has_inst) return fallback_template_named("mistral");
  if (family && !family->empty()) return fallback_template_named(*family);
  if (family && tokenizer_model == "llama") return fallback_template_named("llama2");
  if (family && tokenizer_model == "gpt2") return fallback_template_named("llama3");
  return fallback_template_named("chatml");
}

}  // namespace owl::chat
