// owl serve: the OpenAI- and Ollama-compatible HTTP server (src/server/) over one model, a folder of
// them, or the store (its names, and pulls, copies and deletes through Ollama's routes). Prints
// "owl serve: listening on http://HOST:PORT" once it accepts connections.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "commands.h"
#include "common.h"
#include "models/kv_cache.h"
#include "server/server.h"
#include "store/catalog.h"

namespace owl::app {

namespace {
struct ServeArgs {
  ModelArg model;
  std::string models_dir;
  bool serve_store = false;
  server::ServerOptions http;
  server::ModelPoolOptions pool;
  int64_t keep_alive_seconds = 300;
  int64_t max_body_mib = 8;
  std::string kv_type = "f16";
  std::string chat_template_file;
  LoraArgs lora;
};

// The signal handler only sets a flag (all it may safely do); a watcher thread stops the server.
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

void serve(ServeArgs& a) {
  if (a.http.api_key.empty()) {
    if (const char* k = std::getenv("OWL_API_KEY"); k != nullptr) a.http.api_key = k;
  }
  a.pool.keep_alive = std::chrono::seconds(a.keep_alive_seconds);
  a.http.max_body_bytes = static_cast<size_t>(a.max_body_mib) << 20;
  if (a.pool.scheduler.threads <= 0) a.pool.scheduler.threads = default_threads();
  a.pool.scheduler.kv_type = kv_type_from_name(a.kv_type);
  if (!a.chat_template_file.empty()) {  // read now: a missing file is an error at startup, not at first use
    a.pool.chat_template = read_text_arg("--chat-template-file", a.chat_template_file);
    a.pool.chat_template_file = a.chat_template_file;
  }
  const bool model_given = !a.model.flag.empty() || !a.model.positional.empty();
  a.pool.loras = a.lora.requests();
  for (const LoraRequest& l : a.pool.loras) {  // models load on first use: say now what is missing
    std::error_code ec;
    if (!std::filesystem::exists(l.path, ec)) fail("--lora {}: no such file or directory", l.path);
  }
  if (!a.pool.loras.empty() && !a.models_dir.empty()) fail("--lora: serve one model with adapters, not --models DIR");
  server::ModelPool pool(a.pool);
  // Without a model or folder, the store is served (as ollama serve does), empty or not: clients
  // pull into it through /api/pull.
  if (a.serve_store || (!model_given && a.models_dir.empty())) pool.serve_store(store::ModelStore::open_default());
  if (!a.models_dir.empty()) pool.add_dir(a.models_dir);
  if (model_given) {
    const std::string path = a.model.path();  // owl::Error naming what is missing
    const std::string name = a.model.stored_name();
    // A stored name is served by that name, with what the store keeps beside it (parameters,
    // license, adapter layers).
    const auto stored = name.empty() ? std::nullopt
                                     : store::find_stored_model(store::ModelStore::open_default(), store::parse_model_name(name));
    if (stored) {
      pool.add_stored(*stored);
    } else {
      pool.add_file(path);
    }
  }

  if (a.http.http_threads <= 0) {
    a.http.http_threads = static_cast<int>(std::clamp<int64_t>(a.pool.scheduler.n_parallel + a.pool.scheduler.max_queue + 16, 16, 512));
  }
  server::Server srv(pool, a.http);
  const int port = srv.bind();
  if (!server::is_loopback_host(a.http.host)) {
    std::fprintf(stderr, "owl serve: warning: listening on %s, reachable from other machines%s\n", a.http.host.c_str(),
                 a.http.api_key.empty() ? " without an API key (--api-key)" : "");
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!g_stop && !done) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (done) return;
    std::fprintf(stderr, "owl serve: stopping: cancelling running requests\n");
    pool.shutdown();  // streams end now instead of generating to the end
    srv.stop();
  });
  std::fprintf(stderr, "owl serve: %zu model(s), %lld slots\n", pool.available().size(),
               static_cast<long long>(a.pool.scheduler.n_parallel));
  std::fprintf(stderr, "owl serve: listening on http://%s:%d\n", a.http.host.c_str(), port);
  std::fflush(stderr);
  const bool listened = srv.listen();
  done = true;
  watcher.join();
  if (!listened && !g_stop) fail("the server stopped: listening failed");
  std::fprintf(stderr, "owl serve: stopped\n");
}
}  // namespace

void add_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve models over the OpenAI and Ollama HTTP APIs");
  add_model_option(*cmd, a->model);
  cmd->add_option("--models", a->models_dir, "Serve every .gguf in this folder (named by file stem)");
  cmd->add_flag("--store", a->serve_store, "Also serve the store's models by name (the default without a model or --models)");
  cmd->add_option("--host", a->http.host, "Address to listen on (loopback unless you say otherwise)")->capture_default_str();
  cmd->add_option("--port", a->http.port, "Port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", a->http.api_key, "Require 'Authorization: Bearer KEY' (also $OWL_API_KEY)");
  cmd->add_option("--cors-origin", a->http.cors_origins, "Origins whose pages may call the API ('*' for any)");
  cmd->add_option("-c,--ctx-size", a->pool.scheduler.n_ctx, "Context of each slot (default: the model's, at most 2048)")
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_option("--kv-type", a->kv_type, "KV cache type of every slot: f16, q8_0 (about a quarter of f32) or f32")
      ->capture_default_str();
  cmd->add_option("--parallel", a->pool.scheduler.n_parallel, "Requests generated at once, one slot each")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-queue", a->pool.scheduler.max_queue, "Requests that may wait for a slot (then 503)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("-b,--batch-size", a->pool.scheduler.prompt_tokens_per_step, "Prompt tokens evaluated per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("-t,--threads", a->pool.scheduler.threads, "Threads per model (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--keep-alive", a->keep_alive_seconds, "Seconds an idle model stays loaded (negative: forever)")
      ->capture_default_str();
  cmd->add_option("--max-models", a->pool.max_models, "Models resident at once")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--max-body", a->max_body_mib, "Largest request body in MiB")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_flag("--no-webui{false}", a->http.webui, "Do not serve the chat page at /");
  cmd->add_flag("--force", a->pool.force, "Load models even when predicted not to fit in memory");
  add_chat_template_option(*cmd, a->chat_template_file);
  add_lora_options(*cmd, a->lora);  // a request's "lora": [{"id", "scale"}] overrides the scales
  cmd->callback([a] { serve(*a); });
}

}  // namespace owl::app
