// include/owl/owl.h on top of the engine: a LoadedModel and a thread pool per Model, generate()
// through engine/completion, chats through ChatSession. owl::Error surfaces as std::runtime_error
// (its base), so embedders need no internal header.
#include <algorithm>

#include "base/thread_pool.h"
#include "engine/chat_session.h"
#include "engine/completion.h"
#include "engine/loaded_model.h"
#include "owl/owl.h"

namespace owl::api {

namespace {
SamplingParams sampling_of(const GenerateParams& p) {
  SamplingParams s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.min_p = p.min_p;
  s.repeat_penalty = p.repeat_penalty;
  s.seed = p.seed;
  validate(s);
  return s;
}

GenerateResult result_of(std::string text, const GenerateStats& st, bool stopped_early) {
  GenerateResult r;
  r.text = std::move(text);
  r.prompt_tokens = st.n_prompt;
  r.generated_tokens = st.n_generated;
  r.prompt_tokens_per_second = st.prompt_tokens_per_second();
  r.tokens_per_second = st.generate_tokens_per_second();
  r.finish_reason = stopped_early ? "stop" : "length";
  return r;
}
}  // namespace

struct Model::Impl {
  std::unique_ptr<LoadedModel> model;
  std::unique_ptr<ThreadPool> pool;
  int64_t n_ctx = 0;
};

struct Chat::Impl {
  ChatSession session;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& path, int threads, int64_t n_ctx) {
  auto impl = std::make_unique<Impl>();
  impl->model = LoadedModel::load(path);
  impl->pool = std::make_unique<ThreadPool>(threads);
  impl->n_ctx = n_ctx > 0 ? n_ctx : std::min<int64_t>(impl->model->spec().n_ctx_train, 4096);
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

std::string Model::architecture() const { return impl_->model->spec().arch; }
int64_t Model::context_length() const { return impl_->n_ctx; }
std::vector<int32_t> Model::tokenize(const std::string& text) const { return impl_->model->encode_prompt(text); }

GenerateResult Model::generate(const std::string& prompt, const GenerateParams& params, const TextCallback& on_text) {
  const LoadedModel& m = *impl_->model;
  Sampler sampler(sampling_of(params));
  CompletionOptions co;
  co.n_ctx = impl_->n_ctx;
  co.n_predict = params.max_tokens;
  co.stop = params.stop;
  std::string text;
  const CompletionResult r = complete(m, *impl_->pool, m.encode_prompt(prompt), sampler, co, [&](const std::string& piece) {
    text += piece;
    return !on_text || on_text(piece);
  });
  return result_of(std::move(text), r.stats, r.stopped);
}

std::unique_ptr<Chat> Model::chat(const std::string& system_prompt) {
  auto impl = std::unique_ptr<Chat::Impl>(new Chat::Impl{ChatSession(*impl_->model, *impl_->pool, impl_->n_ctx)});
  impl->session.set_system(system_prompt);
  return std::unique_ptr<Chat>(new Chat(std::move(impl)));
}

Chat::Chat(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Chat::~Chat() = default;

GenerateResult Chat::send(const std::string& message, const GenerateParams& params, const TextCallback& on_text) {
  Sampler sampler(sampling_of(params));
  const ChatSession::Reply r = impl_->session.send(
      message, sampler, params.max_tokens, [&](const std::string& piece) { return !on_text || on_text(piece); },
      params.stop);
  return result_of(r.text, r.stats, !r.stats.hit_limit(params.max_tokens));
}

void Chat::clear() { impl_->session.clear(); }
size_t Chat::n_messages() const { return impl_->session.messages().size(); }

}  // namespace owl::api
