// owl check: may I use this model, will it fit, and what else can load it. Exit status 0 when all
// is well, 2 with conditions or warnings, 3 when the use is not allowed or the model does not fit.
#include <cstdio>
#include <cstdlib>

#include "base/error.h"
#include "commands.h"
#include "common.h"
#include "model_reports.h"
#include "formats/gguf.h"
#include "models/kv_cache.h"
#include "models/model_source.h"
#include "tools/check/check.h"

namespace owl::app {

check::CheckReport model_check(const std::string& path, const check::CheckOptions& options) {
  // Measured before anything else is loaded: the process baseline and what loading the model adds.
  check::FitEnvironment env;
  env.baseline = check::process_rss_bytes();
  const check::LoadCost load = check::measure_model_load(path);
  env.model_load = load.bytes;
  env.memory = check::system_memory();
  const auto file = open_model_file(path);
  return check::run_check(*file, options, env, load);
}

namespace {
struct CheckArgs {
  ModelArg model;
  int64_t n_ctx = 0;
  int64_t parallel = 1;
  int threads = 0;
  std::string kv_type = "f16";
  std::string use = "personal";
  int64_t users = -1;
  bool json = false;
};
}  // namespace

void add_check(CLI::App& app) {
  auto a = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check",
      "License, openness, memory fit and ecosystem of a model.\n"
      "Exit status: 0 all is well; 2 allowed with conditions, unknown license or other warnings;\n"
      "3 the declared use is not allowed or the model does not fit; 1 error.");
  add_model_option(*cmd, a->model);
  cmd->add_option("-c,--ctx-size", a->n_ctx, "Context size in tokens (default: what owl run uses)")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--parallel", a->parallel, "Sequences served at once, each with its own KV cache")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--kv-type", a->kv_type, "KV cache type to size, as owl run --kv-type stores it: f16, q8_0 or f32")
      ->capture_default_str();
  cmd->add_option("--use", a->use, "Intended use: personal, research or commercial")
      ->capture_default_str()
      ->check(CLI::IsMember({"personal", "research", "commercial"}));
  cmd->add_option("--users", a->users, "Monthly active users of your product (for user-count limits)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", a->json, "Machine-readable report on stdout (schema: docs/check-json.md)");
  cmd->callback([a] {
    const std::string path = a->model.path();
    check::CheckOptions o;
    o.fit.n_ctx = a->n_ctx;
    o.fit.parallel = a->parallel;
    o.fit.threads = a->threads;
    o.fit.kv_type = kv_type_from_name(a->kv_type);
    o.use = *check::use_from_name(a->use);
    if (a->users >= 0) o.users = a->users;
    const check::CheckReport r = model_check(path, o);
    if (a->json) {
      const std::string s = check::to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      std::fputs(s.c_str(), stdout);
    } else {
      std::fputs(check::to_text(r).c_str(), stdout);
    }
    std::fflush(stdout);
    // The documented statuses 2 and 3 are results, not errors: leave with them directly.
    if (r.exit_status() != check::kExitOk) std::exit(r.exit_status());
  });
}

}  // namespace owl::app
