// owl inspect: every metadata key, hyperparameters, tensor table, chat template and tokenizer of a
// GGUF file, with optional per-tensor statistics. Works on any GGUF, runnable by owl or not.
#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "common.h"
#include "formats/gguf.h"
#include "models/model_source.h"
#include "tools/inspect.h"

namespace owl::app {

namespace {
struct InspectArgs {
  ModelArg model;
  bool tensors = false;
  bool stats = false;
  bool json = false;
  int threads = 0;
};
}  // namespace

void add_inspect(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Everything a GGUF file says: metadata, hyperparameters, tensors, tokenizer");
  add_model_option(*cmd, a->model);
  cmd->add_flag("--tensors", a->tensors, "List every tensor (name, shape, type, offset, bytes)");
  cmd->add_flag("--stats", a->stats, "Per-tensor min / max / mean / std and NaN / Inf counts (reads every weight)");
  cmd->add_flag("--json", a->json, "Machine-readable output on stdout");
  cmd->add_option("-t,--threads", a->threads, "Threads for --stats (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([a] {
    const auto file = open_model_file(a->model.path());
    InspectOptions o;
    o.tensors = a->tensors;
    o.stats = a->stats;
    o.threads = a->threads;
    if (a->stats && ::isatty(STDERR_FILENO) != 0) {  // a line rewritten in place; nothing into files and pipes
      o.progress = [](size_t done, size_t total) {
        std::fprintf(stderr, "\rstats: %zu/%zu tensors", done, total);
        if (done == total) std::fputc('\n', stderr);
      };
    }
    const nlohmann::json j = inspect_json(*file, o);
    const std::string out = a->json ? j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n" : inspect_text(j, o);
    std::fwrite(out.data(), 1, out.size(), stdout);
  });
}

}  // namespace owl::app
