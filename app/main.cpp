// owl: one command for the life of an open-weight model. Errors print one line and exit 1.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "base/error.h"
#include "commands.h"
#include "kernels/cpu/kernels.h"
#include "owl_version.h"

namespace {

// "owl 0.1.0 (commit 5685981a1b2c; kernels built: ref, avx2, avx512; this CPU: avx2)".
std::string version() {
  namespace kn = owl::kernels;
  std::string best = "ref";
  for (kn::Isa isa : {kn::Isa::avx2, kn::Isa::avx512}) {
    if (kn::isa_supported(isa)) best = std::string(kn::isa_name(isa));
  }
  return std::string("owl 0.1.0 (commit ") + kOwlCommit + "; kernels built: ref, avx2, avx512; this CPU: " + best + ")";
}

}  // namespace

static int run_command(int argc, char** argv) {
  CLI::App app{"owl: run, inspect and convert open-weight language models", "owl"};
  app.require_subcommand(1);
  // A repeated option: the last one wins, as in most tools (list options such as --stop keep all).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", version());
  owl::app::add_run(app);
  owl::app::add_chat(app);
  owl::app::add_tokenize(app);
  owl::app::add_detokenize(app);
  owl::app::add_logits(app);
  owl::app::add_finetune(app);
  owl::app::add_train(app);
  owl::app::add_train_tokenizer(app);
  owl::app::add_stories(app);
  owl::app::add_story_score(app);
  owl::app::add_perplexity(app);
  owl::app::add_imatrix(app);
  owl::app::add_pull(app);
  owl::app::add_store_commands(app);
  owl::app::add_show(app);
  owl::app::add_ps(app);
  owl::app::add_merge(app);
  owl::app::add_info(app);
  owl::app::add_convert(app);
  owl::app::add_quantize(app);
  owl::app::add_bench(app);
  owl::app::add_template(app);
  owl::app::add_check(app);
  owl::app::add_inspect(app);
  owl::app::add_serve(app);
  owl::app::add_bench_serve(app);
  owl::app::add_completion(app);
  const auto named = [&](const std::string& name) {
    return !app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(name); }).empty();
  };
  if (argc > 1 && argv[1][0] != '-' && !named(argv[1])) {
    std::fprintf(stderr, "owl: error: unknown command '%s' (owl --help lists the commands)\n", argv[1]);
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::puts(e.what());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string where = "owl";  // the help of the subcommand being parsed
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::fprintf(stderr, "owl: error: %s (see %s --help)\n", e.what(), where.c_str());
    return 1;
  } catch (const owl::Error& e) {
    std::fprintf(stderr, "owl: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "owl: error: %s\n", e.what());
    return 1;
  }
  // Output that could not be written (a full disk, a closed pipe) is an error, never a silent truncation.
  std::cout.flush();
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
    std::fprintf(stderr, "owl: error: writing the output failed%s%s\n", errno != 0 ? ": " : "",
                 errno != 0 ? std::strerror(errno) : "");
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run_command(argc, argv);
  } catch (const std::exception& e) {  // building the parser itself failed
    std::fprintf(stderr, "owl: error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "owl: error: an unknown exception\n");
  }
  return 1;
}
