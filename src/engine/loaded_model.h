// A model ready to use: the weights, their tokenizer, the chat template and the tokens that end a
// reply, loaded together from one file. What every front end (the CLI, the server, the public API)
// starts from; rendering and encoding of prompts live here so that none of them repeats it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chat/conversation.h"
#include "chat/model_template.h"
#include "chat/template.h"
#include "grammar/token_matcher.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace owl {

// How an embedding is pooled from the final hidden states (GGUF {arch}.pooling_type numbering).
enum class Pooling { none = 0, mean = 1, cls = 2, last = 3 };

// A LoRA adapter to apply at inference (--lora PATH --lora-scale S).
struct LoraRequest {
  std::string path;
  float scale = 1.0f;
};

class LoadedModel {
 public:
  // Loads the weights (with the adapters, applied unmerged) and builds the tokenizer and template;
  // throws owl::Error naming the file.
  static std::unique_ptr<LoadedModel> load(const std::string& path, const std::vector<LoraRequest>& loras = {});

  const std::string& path() const { return model_->file().path(); }
  const Model& model() const { return *model_; }
  const ModelSpec& spec() const { return model_->spec(); }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const chat::ModelTemplate& chat_template() const { return template_info_; }
  const std::vector<int32_t>& stop_tokens() const { return stop_tokens_; }
  // The file's pooling for embeddings, mean when it names none.
  Pooling pooling() const { return pooling_; }
  // The adapters it was loaded with, in the order of their ids (a request's "lora" names them).
  const std::vector<LoraRequest>& loras() const { return loras_; }

  // A conversation (OpenAI-style messages) rendered with the model's template and a generation
  // prompt. tools: a list of tool schemas or null. Throws owl::Error / chat::TemplateError.
  std::string render_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools = nullptr,
                          bool add_generation_prompt = true) const;
  // Whether the file carries its own chat template (not a fallback owl chose for it), or the user gave one.
  bool has_own_chat_template() const { return template_ != nullptr && !template_info_.is_fallback; }
  // Replaces the chat template with the user's (a Jinja source read from `file`); owl::Error naming the
  // file when it does not parse. The model's BOS/EOS strings stay available to it.
  void set_chat_template(const std::string& source, const std::string& file);
  // The tokens of a rendered chat prompt: special tokens recognised, BOS prepended only when the
  // vocabulary wants one and the template did not already write it.
  std::vector<int32_t> encode_chat_text(const std::string& rendered) const;
  std::vector<int32_t> encode_chat(const nlohmann::ordered_json& messages,
                                   const nlohmann::ordered_json& tools = nullptr) const {
    return encode_chat_text(render_chat(messages, tools));
  }
  // A plain completion prompt: BOS/EOS as the model's configuration asks, text taken literally.
  std::vector<int32_t> encode_prompt(const std::string& text) const;
  bool is_stop_token(int32_t id) const;

  // GBNF text compiled against this model's vocabulary (each token's bytes; the stop tokens end a
  // sentence), for SamplingParams::grammar. The vocabulary's trie is built on first use and shared.
  // Throws owl::Error naming the problem in the grammar.
  std::shared_ptr<const grammar::TokenGrammar> compile_grammar(const std::string& gbnf) const;
  // The same for a grammar already parsed.
  std::shared_ptr<const grammar::TokenGrammar> bind_grammar(std::shared_ptr<const grammar::Grammar> compiled) const;

 private:
  LoadedModel() = default;
  std::unique_ptr<Model> model_;
  std::vector<LoraRequest> loras_;
  std::unique_ptr<Tokenizer> tokenizer_;
  chat::ModelTemplate template_info_;
  std::unique_ptr<chat::Template> template_;
  std::string template_error_;  // why template_ is null
  std::vector<int32_t> stop_tokens_;
  Pooling pooling_ = Pooling::mean;
  mutable std::once_flag grammar_vocabulary_once_;
  mutable std::shared_ptr<const grammar::TokenVocabulary> grammar_vocabulary_;
};

// The embedding of one sequence from its final hidden states (n_tokens rows of width), pooled and
// L2-normalised.
std::vector<float> pool_embedding(const float* hidden, int64_t n_tokens, int64_t width, Pooling pooling);

}  // namespace owl
