// A completion through the generation loop (see completion.h).
#include "engine/completion.h"

#include "base/error.h"
#include "engine/text_stream.h"

namespace owl {

CompletionResult complete(const LoadedModel& model, ThreadPool& pool, std::span<const int32_t> prompt, Sampler& sampler,
                          const CompletionOptions& options, const std::function<bool(const std::string&)>& on_text) {
  if (prompt.empty()) fail("the prompt encodes to no tokens and the model has no BOS token");
  if (static_cast<int64_t>(prompt.size()) > options.n_ctx) {
    fail("the prompt has {} tokens, more than the context size {} (use -c)", prompt.size(), options.n_ctx);
  }
  Decoder decoder(model.model(), pool);
  KvCache cache(model.spec(), options.n_ctx, options.kv_type);
  TextStream text(model.tokenizer(), options.stop);
  if (options.continues_prompt) {
    std::string shown;
    for (int32_t id : prompt) shown += text.skip(id);
    if (options.emit_prompt && !shown.empty()) on_text(shown);
  }
  GenerateOptions go;
  go.n_predict = options.n_predict;
  go.stop_tokens = model.stop_tokens();
  CompletionResult r;
  bool cancelled = false;
  r.stats = generate(decoder, cache, sampler, prompt, go, [&](int32_t id) {
    const std::string piece = text.feed(id);
    if (!piece.empty() && !on_text(piece)) cancelled = true;
    return !cancelled && !text.stopped();
  });
  if (const std::string rest = text.finish(); !rest.empty()) on_text(rest);
  r.stopped = cancelled || text.stopped() || !r.stats.hit_limit(options.n_predict);
  return r;
}

}  // namespace owl
