// owl tokenize: print the token ids of a text, space-separated, on one line.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "formats/gguf.h"

namespace owl::app {

namespace {
struct TokenizeArgs {
  ModelArg model;
  std::string text;
  bool no_bos = false;
};
}  // namespace

void add_tokenize(CLI::App& app) {
  auto a = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text");
  cmd->add_option("-m,--model", a->model.flag, "Model or vocabulary file (GGUF)")->required();
  cmd->add_option("text", a->text, "Text to tokenize")->required();
  cmd->add_flag("--no-bos", a->no_bos, "Do not prepend the BOS token");
  cmd->callback([a] {
    // Only the vocabulary is needed: vocabulary-only GGUF files work too.
    const auto file = gguf::File::open(a->model.path());
    const auto tok = Tokenizer::from_gguf(*file);
    const std::vector<int32_t> ids = tok->encode(a->text, !a->no_bos);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    std::puts(line.c_str());
  });
}

}  // namespace owl::app
