// The `owl` subcommands: each file adds one subcommand to the parser and runs it.
#pragma once

#include <CLI/CLI.hpp>

namespace owl::app {

void add_run(CLI::App& app);
void add_chat(CLI::App& app);
void add_tokenize(CLI::App& app);
void add_detokenize(CLI::App& app);
void add_logits(CLI::App& app);
void add_finetune(CLI::App& app);
void add_train(CLI::App& app);
void add_train_tokenizer(CLI::App& app);
void add_stories(CLI::App& app);
void add_story_score(CLI::App& app);
void add_perplexity(CLI::App& app);
void add_imatrix(CLI::App& app);
void add_pull(CLI::App& app);
void add_store_commands(CLI::App& app);
void add_show(CLI::App& app);
void add_ps(CLI::App& app);
void add_completion(CLI::App& app);
void add_merge(CLI::App& app);
void add_info(CLI::App& app);
void add_convert(CLI::App& app);
void add_quantize(CLI::App& app);
void add_bench(CLI::App& app);
void add_template(CLI::App& app);
void add_check(CLI::App& app);
void add_inspect(CLI::App& app);
void add_serve(CLI::App& app);
void add_bench_serve(CLI::App& app);

}  // namespace owl::app
