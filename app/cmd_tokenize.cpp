// owl tokenize: print the token ids of a text, space-separated, on one line.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "formats/gguf.h"

namespace owl::app {

namespace {
struct TokenizeArgs {
  ModelArg model;
  std::vector<std::string> positional;
  bool no_bos = false;
};
}  // namespace

void add_tokenize(CLI::App& app) {
  auto a = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text");
  // The model may be -m PATH or the first positional argument: `owl tokenize MODEL TEXT`.
  cmd->add_option("-m,--model", a->model.flag, "Model or vocabulary file (GGUF)");
  cmd->add_option("args", a->positional, "[MODEL] TEXT")->required()->expected(1, 2);
  cmd->add_flag("--no-bos", a->no_bos, "Do not prepend the BOS token");
  cmd->callback([a] {
    // Only the vocabulary is needed: vocabulary-only GGUF files work too.
    if (a->positional.size() == 2) a->model.positional = a->positional[0];
    const std::string& text = a->positional.back();
    const auto file = gguf::File::open(a->model.path());
    const auto tok = Tokenizer::from_gguf(*file);
    const std::vector<int32_t> ids = tok->encode(text, !a->no_bos);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    std::puts(line.c_str());
  });
}

}  // namespace owl::app
