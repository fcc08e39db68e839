// owl detokenize: print the text of token ids (the inverse of owl tokenize): the streaming decoder's
// output, so control tokens print nothing and the SentencePiece dummy-prefix space is dropped.
#include <cstdio>

#include "base/error.h"
#include "commands.h"
#include "common.h"
#include "tokenizer/tokenizer.h"

namespace owl::app {

namespace {
struct DetokenizeArgs {
  ModelArg model;
  std::string tokenizer;
  std::vector<std::string> positional;
};
}  // namespace

void add_detokenize(CLI::App& app) {
  auto a = std::make_shared<DetokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("detokenize", "Print the text of token ids");
  add_single_thread_option(*cmd);
  cmd->add_option("-m,--model", a->model.flag, "Model or vocabulary file (GGUF)");
  cmd->add_option("--tokenizer", a->tokenizer,
                  "Tokenizer file instead of a model: tokenizer.json, tokenizer.model, vocab.json, or a directory");
  cmd->add_option("args", a->positional, "[MODEL] ID...")->required();
  cmd->callback([a] {
    std::vector<std::string> ids_text = a->positional;
    if (a->tokenizer.empty() && a->model.flag.empty() && !ids_text.empty()) {
      a->model.positional = ids_text.front();
      ids_text.erase(ids_text.begin());
    }
    const std::string path = a->tokenizer.empty() ? a->model.path() : a->tokenizer;
    const auto tok = Tokenizer::from_file(path);
    std::vector<int32_t> ids;
    for (const std::string& arg : ids_text) {
      // Ids may be given as separate arguments or as one space- or comma-separated string.
      std::string token;
      for (size_t i = 0; i <= arg.size(); ++i) {
        const char c = i < arg.size() ? arg[i] : ' ';
        if (c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '[' || c == ']') {
          if (token.empty()) continue;
          size_t used = 0;
          long v = 0;
          try {
            v = std::stol(token, &used);
          } catch (const std::exception&) {
            used = 0;
          }
          if (used != token.size() || v < 0 || v >= tok->n_vocab()) {
            fail("detokenize: '{}' is not a token id of {} (0-{})", token, path, tok->n_vocab() - 1);
          }
          ids.push_back(static_cast<int32_t>(v));
          token.clear();
        } else {
          token.push_back(c);
        }
      }
    }
    StreamDecoder stream(*tok);
    std::string text;
    for (int32_t id : ids) text += stream.feed(id);
    text += stream.finish();
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
  });
}

}  // namespace owl::app
