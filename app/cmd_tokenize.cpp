// owl tokenize: print the token ids of a text, space-separated, on one line (or one "id piece" line
// per token with --pieces). The tokenizer comes from a model (GGUF) or any tokenizer file
// (--tokenizer: tokenizer.json, tokenizer.model, vocab.json, a Hugging Face directory).
#include <cstdio>

#include "base/error.h"
#include "commands.h"
#include "common.h"
#include "tokenizer/tokenizer.h"

namespace owl::app {

namespace {
struct TokenizeArgs {
  ModelArg model;
  std::string tokenizer;
  std::vector<std::string> positional;
  bool no_bos = false;
  bool special = false;
  bool ids = false;
  bool pieces = false;
};

// A piece made printable: control bytes and invalid UTF-8 as \xNN, quotes escaped.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\' || c == '\'') out += std::string("\\") + static_cast<char>(c);
    else if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02X}", c);
    else out.push_back(static_cast<char>(c));
  }
  return out;
}
}  // namespace

void add_tokenize(CLI::App& app) {
  auto a = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text");
  add_single_thread_option(*cmd);
  // The model may be -m PATH or the first positional argument: `owl tokenize MODEL TEXT`.
  cmd->add_option("-m,--model", a->model.flag, "Model or vocabulary file (GGUF)");
  cmd->add_option("--tokenizer", a->tokenizer,
                  "Tokenizer file instead of a model: tokenizer.json, tokenizer.model, vocab.json, or a directory");
  cmd->add_option("text", a->positional, "[MODEL] TEXT")->required()->expected(1, 2);
  cmd->add_flag("--no-bos", a->no_bos, "Do not prepend the BOS token");
  cmd->add_flag("--special", a->special, "Recognise control tokens spelled in the text (<|im_start|>, [INST], ...)");
  cmd->add_flag("--ids", a->ids, "Print the ids on one line (the default)");
  cmd->add_flag("--pieces", a->pieces, "Print one line per token: id and piece");
  cmd->callback([a] {
    if (a->positional.size() == 2) a->model.positional = a->positional[0];
    const std::string& text = a->positional.back();
    // Only the vocabulary is needed: vocabulary-only GGUF files and bare tokenizer files work too.
    const std::string path = a->tokenizer.empty() ? a->model.path() : a->tokenizer;
    if (!a->tokenizer.empty() && (!a->model.flag.empty() || !a->model.positional.empty())) {
      fail("give either a model or --tokenizer, not both");
    }
    const auto tok = Tokenizer::from_file(path);
    // BOS as the model's configuration asks (tokenizer.ggml.add_bos_token), as owl run feeds it.
    std::vector<int32_t> ids = tok->encode(text, !a->no_bos && tok->add_bos_by_default(), a->special);
    if (tok->add_eos_by_default() && tok->eos() >= 0) ids.push_back(tok->eos());
    if (a->pieces) {
      for (int32_t id : ids) {  // control tokens decode to nothing: show their spelling
        const std::string piece = tok->token_type(id) == TokenType::control ? std::string(tok->piece(id)) : tok->token_to_piece(id);
        std::printf("%d '%s'\n", id, printable(piece).c_str());
      }
      return;
    }
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    std::puts(line.c_str());
  });
}

}  // namespace owl::app
