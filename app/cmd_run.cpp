// owl run: generate text from a prompt (or one reply to a conversation, rendered with the model's
// chat template), streaming to stdout; load time and speeds go to stderr, or everything into one
// JSON object with --json.
#include <chrono>
#include <cstdio>
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
  std::string prompt_file;
  std::string messages_file;
  std::string system;
  std::vector<std::string> stop;
  std::string chat_template_file;
  GenerationArgs gen;
  bool no_prompt = false;
  bool json = false;
};

// The conversation in a JSON text ({"messages": [...], "tools": [...]} or a bare message list),
// encoded with the model's template and a generation prompt.
std::vector<int32_t> encode_messages(const std::string& text, const std::string& origin, const LoadedModel& model) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", origin, e.what());
  }
  nlohmann::ordered_json messages = j;
  nlohmann::ordered_json tools = nullptr;
  if (j.is_object()) {
    if (!j.contains("messages")) fail("{}: no \"messages\" list", origin);
    messages = j["messages"];
    if (j.contains("tools")) tools = j["tools"];
  }
  if (!messages.is_array()) fail("{}: \"messages\" must be a list", origin);
  return model.encode_chat(messages, tools);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(const RunArgs& a) {
  validate(a.gen.sampling);  // before the (possibly slow) model load
  structured_output_gbnf(a.gen);
  const DType kv = kv_type(a.gen);
  if (!a.prompt_file.empty() && !a.prompt.empty()) fail("give the prompt with -p or -f, not both");
  const auto t0 = std::chrono::steady_clock::now();
  const auto m = LoadedModel::load(a.model.path(), adapters_for(a.model, a.lora));
  apply_chat_template_file(*m, a.chat_template_file);
  const double load_seconds = seconds_since(t0);
  const ModelSpec& spec = m->spec();

  // A reply to a conversation (--messages, or --system with the prompt as the user's message), or a
  // plain completion of the prompt.
  const std::string prompt_text = !a.prompt_file.empty() ? read_text_arg("-f", a.prompt_file)
                                  : a.prompt == "-"      ? read_text_arg("-p", "-")
                                                         : a.prompt;
  const bool chat = !a.messages_file.empty() || !a.system.empty();
  std::vector<int32_t> prompt;
  if (!a.messages_file.empty()) {
    prompt = encode_messages(read_text_arg("--messages", a.messages_file), a.messages_file, *m);
  } else if (!a.system.empty()) {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    messages.push_back({{"role", "system"}, {"content", a.system}});
    messages.push_back({{"role", "user"}, {"content", prompt_text}});
    prompt = m->encode_chat(messages);
  } else {
    prompt = m->encode_prompt(prompt_text);
  }
  if (prompt.empty()) fail("the prompt encodes to no tokens and the model has no BOS token");
  const int64_t n_ctx = context_size(a.gen, spec);
  check_model_before_run(m->model(), n_ctx, kv, a.gen.force);

  ThreadPool pool(a.gen.threads > 0 ? a.gen.threads : default_threads());
  Sampler sampler(resolve_sampling(a.gen, *m));
  CompletionOptions co;
  co.n_ctx = n_ctx;
  co.kv_type = kv;
  co.n_predict = a.gen.n_predict;
  co.stop = a.stop;
  // A reply to a conversation starts fresh; a completion continues (and shows) the prompt's text.
  co.emit_prompt = !chat && !a.no_prompt && !a.json;
  co.continues_prompt = !chat;
  std::string text;
  const auto emit = [&](const std::string& s) {
    if (a.json) {
      text += s;
    } else {
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  };
  const CompletionResult result = complete(*m, pool, prompt, sampler, co, emit);
  const GenerateStats& st = result.stats;
  const char* reason = result.stopped ? "stop" : st.context_full ? "context" : "length";
  if (a.json) {
    const nlohmann::ordered_json j = {{"text", text},
                                      {"stop_reason", reason},
                                      {"prompt_tokens", st.n_prompt},
                                      {"generated_tokens", st.n_generated},
                                      {"load_seconds", load_seconds},
                                      {"prompt_tokens_per_second", st.prompt_tokens_per_second()},
                                      {"generated_tokens_per_second", st.generate_tokens_per_second()},
                                      {"n_ctx", n_ctx},
                                      {"kv_type", std::string(dtype_name(kv))},
                                      {"threads", pool.size()}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  emit("\n");
  if (st.context_full) std::fprintf(stderr, "owl: stopped: the context of %lld tokens is full\n", static_cast<long long>(n_ctx));
  std::fprintf(stderr, "load: %.2f s | prompt: %lld tokens, %.1f tok/s | generation: %lld tokens, %.1f tok/s | %d threads\n",
               load_seconds, static_cast<long long>(st.n_prompt), st.prompt_tokens_per_second(),
               static_cast<long long>(st.n_generated), st.generate_tokens_per_second(), pool.size());
}
}  // namespace

void add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt, or one reply to a conversation");
  add_model_option(*cmd, a->model);
  add_lora_options(*cmd, a->lora);
  auto* p = cmd->add_option("-p,--prompt", a->prompt, "Prompt text (may be empty; - reads it from stdin)");
  auto* f = cmd->add_option("-f,--file", a->prompt_file, "Read the prompt from this file (- for stdin)");
  auto* msg = cmd->add_option("--messages", a->messages_file,
                              "Conversation JSON file ({\"messages\": [...]} or a list; - for stdin): generate the "
                              "assistant's reply");
  auto* sys = cmd->add_option("--system", a->system, "System message: the prompt becomes the user's message in a chat");
  p->excludes(msg);
  f->excludes(msg);
  sys->excludes(msg);
  cmd->add_option("--stop", a->stop, "Stop before this text (repeatable)");
  add_chat_template_option(*cmd, a->chat_template_file);
  add_generation_options(*cmd, a->gen);
  cmd->add_flag("--no-prompt", a->no_prompt, "Print only the generated text, not the prompt");
  cmd->add_flag("--json", a->json, "Print one JSON object: the text, stop reason, token counts, load time and speeds");
  cmd->callback([a] { run(*a); });
}

}  // namespace owl::app
