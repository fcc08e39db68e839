// owl: one command for the life of an open-weight model. Errors print one line and exit 1.
#include <cstdio>
#include <exception>

#include "base/error.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"owl: run, inspect and convert open-weight language models", "owl"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "owl 0.1.0");
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
    std::fprintf(stderr, "owl: error: %s (see owl --help)\n", e.what());
    return 1;
  } catch (const owl::Error& e) {
    std::fprintf(stderr, "owl: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "owl: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
