// One completion, as `owl run` and the public API make it: a prompt continued in a fresh KV cache,
// the text streamed as it decodes (the prompt's own text first when asked), ending at an end
// token, a stop string, the token budget or a full context.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "engine/generator.h"
#include "engine/loaded_model.h"
#include "sampling/sampler.h"

namespace owl {

struct CompletionOptions {
  int64_t n_ctx = 0;      // the context (at least the prompt's length)
  DType kv_type = DType::f16;  // the KV cache's type: f16 (as llama.cpp), q8_0 or f32
  int64_t n_predict = 128;  // < 0: until an end token or the context is full
  std::vector<std::string> stop;  // stop strings (not included in the text)
  bool emit_prompt = false;       // on_text sees the prompt's text first (with continues_prompt)
  // The text continues the prompt's (a completion) or starts afresh (a reply to a rendered chat,
  // whose first token then loses SentencePiece's leading space, as owl chat prints it).
  bool continues_prompt = true;
};

struct CompletionResult {
  GenerateStats stats;
  bool stopped = false;  // by an end token, a stop string or the callback (not the budget or the context)
};

// on_text returns false to stop. Throws owl::Error for an empty prompt or one longer than n_ctx.
CompletionResult complete(const LoadedModel& model, ThreadPool& pool, std::span<const int32_t> prompt, Sampler& sampler,
                          const CompletionOptions& options, const std::function<bool(const std::string&)>& on_text);

}  // namespace owl
