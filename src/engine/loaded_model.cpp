// Loading a model with everything a front end needs, and the prompt encodings they share.
#include "engine/loaded_model.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "engine/grammar_vocabulary.h"
#include "formats/gguf.h"
#include "models/lora_adapter.h"
#include "models/registry.h"

namespace owl {

std::unique_ptr<LoadedModel> LoadedModel::load(const std::string& path, const std::vector<LoraRequest>& loras) {
  std::unique_ptr<LoadedModel> m(new LoadedModel());
  m->model_ = Model::load(path);
  for (const LoraRequest& l : loras) attach_lora(*m->model_, read_lora_adapter(l.path, *m->model_), l.scale);
  m->loras_ = loras;
  m->tokenizer_ = Tokenizer::from_gguf(m->model_->file());
  if (m->tokenizer_->n_vocab() != m->model_->spec().n_vocab) {
    fail("{}: the tokenizer has {} tokens but token_embd.weight has {} rows", path, m->tokenizer_->n_vocab(),
         m->model_->spec().n_vocab);
  }
  m->template_info_ = chat::model_template(m->model_->file(), chat_fallback_for(m->model_->file()));
  try {  // a broken template must not stop plain completions: it fails when a chat is rendered
    m->template_ = std::make_unique<chat::Template>(m->template_info_.source, m->template_info_.describe());
  } catch (const std::exception& e) {
    m->template_error_ = fmt::format("{}: the chat template cannot be parsed: {}", path, e.what());
  }
  const Tokenizer& tok = *m->tokenizer_;
  if (tok.eos() >= 0) m->stop_tokens_.push_back(tok.eos());
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    if (tok.is_end_of_generation(id) && id != tok.eos()) m->stop_tokens_.push_back(id);
  }
  const ModelFile& f = m->model_->file();
  if (const auto p = f.find_uint(m->spec().arch + ".pooling_type"); p && *p >= 1 && *p <= 3) {
    m->pooling_ = static_cast<Pooling>(*p);
  }
  return m;
}

void LoadedModel::set_chat_template(const std::string& source, const std::string& file) {
  chat::ModelTemplate info = template_info_;
  info.source = source;
  info.is_fallback = false;
  info.fallback_name.clear();
  info.file = file;
  try {
    template_ = std::make_unique<chat::Template>(info.source, info.describe());
  } catch (const std::exception& e) {
    fail("{}: the chat template cannot be parsed: {}", file, e.what());
  }
  template_info_ = std::move(info);
  template_error_.clear();
}

std::string LoadedModel::render_chat(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                     bool add_generation_prompt) const {
  if (!template_) throw Error(template_error_);
  chat::ConversationOptions options = template_info_.options();
  options.tools = tools;
  options.add_generation_prompt = add_generation_prompt;
  return chat::render_conversation(*template_, messages, options);
}

std::vector<int32_t> LoadedModel::encode_chat_text(const std::string& rendered) const {
  const Tokenizer& tok = *tokenizer_;
  std::vector<int32_t> ids = tok.encode(rendered, false, true);
  if (tok.add_bos_by_default() && tok.bos() >= 0 && (ids.empty() || ids.front() != tok.bos())) {
    ids.insert(ids.begin(), tok.bos());
  }
  return ids;
}

std::vector<int32_t> LoadedModel::encode_prompt(const std::string& text) const {
  return tokenizer_->encode_with_specials(text, false);
}

bool LoadedModel::is_stop_token(int32_t id) const {
  return std::find(stop_tokens_.begin(), stop_tokens_.end(), id) != stop_tokens_.end();
}

std::shared_ptr<const grammar::TokenGrammar> LoadedModel::compile_grammar(const std::string& gbnf) const {
  return bind_grammar(std::make_shared<const grammar::Grammar>(grammar::parse_gbnf(gbnf)));
}

std::shared_ptr<const grammar::TokenGrammar> LoadedModel::bind_grammar(std::shared_ptr<const grammar::Grammar> compiled) const {
  std::call_once(grammar_vocabulary_once_, [&] {
    grammar_vocabulary_ = grammar_vocabulary(*tokenizer_, [&](int32_t id) { return is_stop_token(id); });
  });
  return std::make_shared<const grammar::TokenGrammar>(grammar::TokenGrammar{std::move(compiled), grammar_vocabulary_});
}

std::vector<float> pool_embedding(const float* hidden, int64_t n_tokens, int64_t width, Pooling pooling) {
  if (n_tokens <= 0) fail("an embedding needs at least one token");
  std::vector<double> sum(static_cast<size_t>(width), 0.0);
  auto add_row = [&](int64_t t) {
    for (int64_t i = 0; i < width; ++i) sum[static_cast<size_t>(i)] += hidden[t * width + i];
  };
  int64_t rows = 1;
  switch (pooling) {
    case Pooling::cls: add_row(0); break;
    case Pooling::last:
    case Pooling::none: add_row(n_tokens - 1); break;
    case Pooling::mean:
      for (int64_t t = 0; t < n_tokens; ++t) add_row(t);
      rows = n_tokens;
      break;
  }
  double norm = 0;
  for (double& v : sum) {
    v /= static_cast<double>(rows);
    norm += v * v;
  }
  norm = std::sqrt(norm);
  std::vector<float> out(static_cast<size_t>(width));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(norm > 0 ? sum[i] / norm : 0.0);
  return out;
}

}  // namespace owl
