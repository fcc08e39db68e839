// owl perplexity: llama-perplexity's measure of a model on a text (tools/perplexity.h), with the
// running estimate after each chunk, the final value and its error; --kl-divergence-base saves the
// base model's log-probabilities, and --kl-divergence compares another model (a quantization) to them.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "models/kv_cache.h"
#include "tools/perplexity.h"

namespace owl::app {

namespace {

struct PerplexityArgs {
  ModelArg model;
  std::string file;
  PerplexityOptions o;
  std::string kv_type = "f16";
  std::string kl_base;
  bool kl = false;
  int threads = 0;
  bool json = false;
};

nlohmann::json to_json(const PerplexityReport& r) {
  nlohmann::json j = {{"n_ctx", r.n_ctx},           {"chunks", r.n_chunks},     {"scored_per_chunk", r.scored_per_chunk},
                      {"perplexity", r.perplexity}, {"perplexity_error", r.error}, {"running", r.running}};
  if (r.kl) {
    j["kl_divergence"] = {{"mean", r.kl->kl.mean}, {"error", r.kl->kl.error}};
    j["same_top_token"] = {{"mean", r.kl->same_top.mean}, {"error", r.kl->same_top.error}};
    j["base_perplexity"] = r.kl->base_perplexity;
    j["perplexity_ratio"] = r.kl->perplexity_ratio;
  }
  return j;
}

void run(PerplexityArgs& a) {
  if (a.kl && a.kl_base.empty()) fail("--kl-divergence needs --kl-divergence-base FILE (saved by a run of the base model)");
  if (!a.kl && a.file.empty()) fail("-f FILE is required (the text to measure; - for stdin)");
  a.o.kv_type = kv_type_from_name(a.kv_type);
  const auto m = LoadedModel::load(a.model.path());
  ThreadPool pool(a.threads > 0 ? a.threads : default_threads());
  const auto progress = [&](const PerplexityReport& r) {
    if (a.json) return;
    std::printf("[%zu]%.4f,", r.running.size(), r.running.back());
    std::fflush(stdout);
  };
  PerplexityReport r;
  if (a.kl) {
    if (!a.file.empty()) std::fprintf(stderr, "perplexity: the tokens come from %s; -f is not read\n", a.kl_base.c_str());
    r = perplexity_against_base(m->model(), a.kl_base, a.o, pool, progress);
  } else {
    const std::vector<int32_t> tokens = perplexity_tokens(m->tokenizer(), read_text_arg("-f", a.file), a.o);
    if (!a.json) {
      std::fprintf(stderr, "perplexity: %zu tokens; chunks of %lld, the last %lld of each scored\n", tokens.size(),
                   static_cast<long long>(a.o.n_ctx), static_cast<long long>(a.o.n_ctx - 1 - a.o.n_ctx / 2));
    }
    r = perplexity(m->model(), tokens, a.o, pool, progress, a.kl_base);
  }
  if (a.json) {
    std::printf("%s\n", to_json(r).dump(2).c_str());
    return;
  }
  std::printf("\nFinal estimate: PPL = %.4f +/- %.5f (%lld chunks of %lld)\n", r.perplexity, r.error,
              static_cast<long long>(r.n_chunks), static_cast<long long>(r.n_ctx));
  if (r.kl) {
    std::printf("PPL(base) = %.4f; PPL(model)/PPL(base) = %.4f\n", r.kl->base_perplexity, r.kl->perplexity_ratio);
    std::printf("Mean KLD: %.6f +/- %.6f\n", r.kl->kl.mean, r.kl->kl.error);
    std::printf("Same top token: %.3f%% +/- %.3f%%\n", 100.0 * r.kl->same_top.mean, 100.0 * r.kl->same_top.error);
  } else if (!a.kl_base.empty()) {
    std::fprintf(stderr, "perplexity: KL base saved to %s\n", a.kl_base.c_str());
  }
}

}  // namespace

void add_perplexity(CLI::App& app) {
  auto a = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Perplexity of a model on a text, as llama-perplexity measures it");
  add_model_option(*cmd, a->model);
  cmd->add_option("-f,--file", a->file, "Text to measure (- for stdin)");
  cmd->add_option("-c,--ctx-size", a->o.n_ctx, "Tokens per chunk; the second half of each is scored")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{4}, int64_t{1} << 24));
  cmd->add_option("--chunks", a->o.max_chunks, "Chunks to score at most (0: all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("-b,--batch-size", a->o.n_batch, "Tokens per evaluation (the result does not depend on it)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--kv-type", a->kv_type, "KV cache type: f16, q8_0 or f32")->capture_default_str();
  cmd->add_option("--kl-divergence-base", a->kl_base,
                  "Save the log-probabilities here (or, with --kl-divergence, compare against them)");
  cmd->add_flag("--kl-divergence", a->kl, "Compare with --kl-divergence-base: KL divergence, same top token, PPL ratio");
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", a->json, "One JSON object on stdout");
  cmd->callback([a] { run(*a); });
}

}  // namespace owl::app
