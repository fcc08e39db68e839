// owl run: generate text from a prompt (or one reply to a JSON conversation, rendered with the
// model's chat template), streaming to stdout; speeds go to stderr.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "engine/completion.h"

namespace owl::app {

namespace {
struct RunArgs {
  ModelArg model;
  LoraArgs lora;
  std::string prompt;
  std::string messages_file;
  GenerationArgs gen;
  bool no_prompt = false;
};

// The conversation in FILE.json ({"messages": [...], "tools": [...]} or a bare message list),
// encoded with the model's template and a generation prompt.
std::vector<int32_t> encode_messages_file(const std::string& path, const LoadedModel& model) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open", path);
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  nlohmann::ordered_json messages = j;
  nlohmann::ordered_json tools = nullptr;
  if (j.is_object()) {
    if (!j.contains("messages")) fail("{}: no \"messages\" list", path);
    messages = j["messages"];
    if (j.contains("tools")) tools = j["tools"];
  }
  if (!messages.is_array()) fail("{}: \"messages\" must be a list", path);
  return model.encode_chat(messages, tools);
}

void run(const RunArgs& a) {
  validate(a.gen.sampling);  // before the (possibly slow) model load
  const auto m = LoadedModel::load(a.model.path(), a.lora.requests());
  const ModelSpec& spec = m->spec();

  const bool chat = !a.messages_file.empty();
  const std::vector<int32_t> prompt = chat ? encode_messages_file(a.messages_file, *m) : m->encode_prompt(a.prompt);
  if (prompt.empty()) fail("the prompt encodes to no tokens and the model has no BOS token");
  const int64_t n_ctx = context_size(a.gen, spec);
  check_model_before_run(m->model(), n_ctx, kv_type(a.gen), a.gen.force);

  ThreadPool pool(a.gen.threads > 0 ? a.gen.threads : default_threads());
  Sampler sampler(resolve_sampling(a.gen));
  CompletionOptions co;
  co.n_ctx = n_ctx;
  co.kv_type = kv_type(a.gen);
  co.n_predict = a.gen.n_predict;
  // A reply to a conversation starts fresh; a completion continues (and shows) the prompt's text.
  co.emit_prompt = !chat && !a.no_prompt;
  co.continues_prompt = !chat;
  const auto emit = [](const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  const GenerateStats st = complete(*m, pool, prompt, sampler, co, emit).stats;
  emit("\n");
  if (st.context_full) std::fprintf(stderr, "owl: stopped: the context of %lld tokens is full\n", static_cast<long long>(n_ctx));
  std::fprintf(stderr, "prompt: %lld tokens, %.1f tok/s | generation: %lld tokens, %.1f tok/s | %d threads\n",
               static_cast<long long>(st.n_prompt), st.prompt_tokens_per_second(),
               static_cast<long long>(st.n_generated), st.generate_tokens_per_second(), pool.size());
}
}  // namespace

void add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt, or one reply to a conversation");
  add_model_option(*cmd, a->model);
  add_lora_options(*cmd, a->lora);
  auto* p = cmd->add_option("-p,--prompt", a->prompt, "Prompt text (may be empty)");
  auto* msg = cmd->add_option("--messages", a->messages_file,
                              "Conversation JSON ({\"messages\": [...]} or a list): generate the assistant's reply");
  p->excludes(msg);
  add_generation_options(*cmd, a->gen);
  cmd->add_flag("--no-prompt", a->no_prompt, "Print only the generated text, not the prompt");
  cmd->callback([a] { run(*a); });
}

}  // namespace owl::app
