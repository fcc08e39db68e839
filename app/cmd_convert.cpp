// owl convert: import other checkpoint formats as GGUF (llama2.c for now).
#include <cstdio>

#include "base/error.h"
#include "commands.h"
#include "common.h"
#include "tools/llama2c_import.h"

namespace owl::app {

namespace {
struct ConvertArgs {
  std::string from;
  std::string input;
  std::string tokenizer;
  std::string output;
  std::string type = "f32";
  int threads = 0;
};
}  // namespace

void add_convert(CLI::App& app) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert a checkpoint to GGUF");
  cmd->add_option("--from", a->from, "Source format: llama2c")->required()->check(CLI::IsMember({"llama2c"}));
  cmd->add_option("input", a->input, "Checkpoint file (llama2.c MODEL.bin)")->required();
  cmd->add_option("--tokenizer", a->tokenizer, "llama2.c tokenizer.bin")->required();
  cmd->add_option("-o,--output", a->output, "Output GGUF file")->required();
  cmd->add_option("--type", a->type, "Matrix type: f32, f16 or q8_0")->capture_default_str();
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([a] {
    const auto type = dtype_from_name(a->type);
    if (!type) fail("--type: unknown type '{}'", a->type);
    Llama2cImport o{a->input, a->tokenizer, a->output, *type, a->threads > 0 ? a->threads : default_threads()};
    import_llama2c(o);
    std::fprintf(stderr, "wrote %s\n", a->output.c_str());
  });
}

}  // namespace owl::app
