// owl pull: a model from Ollama's registry or a Hugging Face repository into the store
// (store/pull.h), with a progress bar per file on a terminal and plain lines otherwise.
#include <cstdio>
#include <memory>
#include <string>

#include "base/error.h"
#include "commands.h"
#include "progress_bar.h"
#include "store/pull.h"

namespace owl::app {

namespace {

struct PullArgs {
  std::string name;
  std::string token;
  int connections = 4;
};

void run(const PullArgs& a) {
  store::ModelStore s = store::ModelStore::open_default();
  store::PullOptions o = store::PullOptions::from_environment();
  if (!a.token.empty()) o.hf_token = a.token;
  o.connections = a.connections;
  std::unique_ptr<ProgressBar> bar;
  std::string current;
  o.progress = [&](const store::PullProgress& p) {
    if (p.total > 0 && p.status.starts_with("pulling ")) {
      if (p.status != current) {
        if (bar) bar->finish();
        bar = std::make_unique<ProgressBar>(p.status);
        current = p.status;
      }
      bar->update(p.completed, p.total);
      return;
    }
    if (p.status.starts_with("verifying")) return;
    if (bar) bar->finish();
    bar.reset();
    current.clear();
    std::fprintf(stderr, "%s\n", p.status.c_str());
  };
  try {
    const store::ModelName n = store::pull(s, a.name, o);
    std::printf("%s\n", n.str().c_str());
  } catch (...) {
    if (bar) bar->finish();
    throw;
  }
}

}  // namespace

void add_pull(CLI::App& app) {
  auto a = std::make_shared<PullArgs>();
  CLI::App* cmd = app.add_subcommand("pull", "Download a model into the store (Ollama's registry or Hugging Face)");
  cmd->add_option("name", a->name,
                  "NAME[:TAG] or REGISTRY/NS/NAME[:TAG] (Ollama's registry; $OWL_REGISTRY for a mirror), "
                  "hf.co/OWNER/REPO[:QUANT] or OWNER/REPO[:FILE] (Hugging Face; $HF_ENDPOINT)")
      ->required();
  cmd->add_option("--token", a->token, "Hugging Face token for gated repositories (default: $HF_TOKEN)");
  cmd->add_option("--connections", a->connections, "Connections per large file, each fetching a byte range")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  cmd->callback([a] { run(*a); });
}

}  // namespace owl::app
