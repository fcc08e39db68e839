// owl run: generate text from a prompt, streaming to stdout; speeds go to stderr.
#include <cstdio>
#include <random>

#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "engine/generator.h"
#include "tools/check/check.h"

namespace owl::app {

namespace {
struct RunArgs {
  ModelArg model;
  std::string prompt;
  int64_t n_predict = 128;
  int64_t n_ctx = 0;
  int threads = 0;
  SamplingParams sampling;
  int64_t seed = -1;
  bool no_prompt = false;
  bool force = false;
};

void run(const RunArgs& a) {
  validate(a.sampling);  // before the (possibly slow) model load
  LoadedModel m = load_model(a.model.path());
  const ModelSpec& spec = m.model->spec();
  const Tokenizer& tok = *m.tokenizer;

  SamplingParams sp = a.sampling;
  sp.seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();

  const std::vector<int32_t> prompt = tok.encode(a.prompt, true);
  if (prompt.empty()) fail("the prompt encodes to no tokens and the model has no BOS token");
  const int64_t n_ctx = a.n_ctx > 0 ? a.n_ctx : std::min<int64_t>(spec.n_ctx_train, 4096);
  // The license line the first time this model is used; refuse a model that would not fit.
  if (const std::string line = check::check_before_run(*m.model, n_ctx, a.force); !line.empty()) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  if (static_cast<int64_t>(prompt.size()) > n_ctx) {
    fail("the prompt has {} tokens, more than the context size {} (use -c)", prompt.size(), n_ctx);
  }

  ThreadPool pool(a.threads > 0 ? a.threads : default_threads());
  Decoder decoder(*m.model, pool);
  KvCache cache(spec, n_ctx);
  Sampler sampler(sp);
  if (a.seed < 0) std::fprintf(stderr, "seed: %llu\n", static_cast<unsigned long long>(sp.seed));
  StreamDecoder out(tok);
  auto emit = [](const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  };
  for (int32_t id : prompt) {
    const std::string s = out.feed(id);
    if (!a.no_prompt) emit(s);
  }
  GenerateOptions go;
  go.n_predict = a.n_predict;
  if (tok.eos() >= 0) go.stop_tokens.push_back(tok.eos());
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    if (tok.is_end_of_generation(id) && id != tok.eos()) go.stop_tokens.push_back(id);
  }
  const GenerateStats st = generate(decoder, cache, sampler, prompt, go, [&](int32_t id) {
    emit(out.feed(id));
    return true;
  });
  emit(out.finish());
  emit("\n");
  if (st.context_full) std::fprintf(stderr, "owl: stopped: the context of %lld tokens is full\n", static_cast<long long>(n_ctx));
  std::fprintf(stderr, "prompt: %lld tokens, %.1f tok/s | generation: %lld tokens, %.1f tok/s | %d threads\n",
               static_cast<long long>(st.n_prompt), st.prompt_tokens_per_second(),
               static_cast<long long>(st.n_generated), st.generate_tokens_per_second(), pool.size());
}
}  // namespace

void add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt");
  add_model_option(*cmd, a->model);
  cmd->add_option("-p,--prompt", a->prompt, "Prompt text (may be empty)");
  cmd->add_option("-n,--n-predict", a->n_predict, "Tokens to generate (-1: until end of text or context full)")
      ->capture_default_str();
  cmd->add_option("-c,--ctx-size", a->n_ctx, "Context size in tokens (default: the model's, at most 4096)")
      ->check(CLI::Range(0, 1 << 30));
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--temp", a->sampling.temperature, "Temperature (0: greedy)")->capture_default_str()->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k", a->sampling.top_k, "Top-k (0: off)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", a->sampling.top_p, "Top-p (1: off)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-p", a->sampling.min_p, "Min-p (0: off)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--repeat-penalty", a->sampling.repeat_penalty, "Repetition penalty (1: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 100.0));
  cmd->add_option("--repeat-last-n", a->sampling.penalty_last_n, "Tokens the penalties look back over (-1: all)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 1 << 30));
  cmd->add_option("--presence-penalty", a->sampling.presence_penalty, "Presence penalty (0: off)")->capture_default_str();
  cmd->add_option("--frequency-penalty", a->sampling.frequency_penalty, "Frequency penalty (0: off)")->capture_default_str();
  cmd->add_option("-s,--seed", a->seed, "Random seed (default: random, printed)");
  cmd->add_flag("--no-prompt", a->no_prompt, "Print only the generated text, not the prompt");
  cmd->add_flag("--force", a->force, "Run even when the model is predicted not to fit in memory");
  cmd->callback([a] { run(*a); });
}

}  // namespace owl::app
