// Shared CLI helpers.
#include "common.h"

#include <thread>

#include "base/error.h"

namespace owl::app {

std::string ModelArg::path() const {
  if (!flag.empty() && !positional.empty() && flag != positional) {
    fail("the model is given twice ('{}' and '{}')", flag, positional);
  }
  if (flag.empty() && positional.empty()) fail("no model given: use -m MODEL.gguf");
  return flag.empty() ? positional : flag;
}

void add_model_option(CLI::App& cmd, ModelArg& arg) {
  cmd.add_option("-m,--model", arg.flag, "Model file (GGUF)");
  cmd.add_option("model", arg.positional, "Model file (GGUF), instead of -m");
}

LoadedModel load_model(const std::string& path) {
  LoadedModel m;
  m.model = Model::load(path);
  m.tokenizer = Tokenizer::from_gguf(m.model->file());
  if (m.tokenizer->n_vocab() != m.model->spec().n_vocab) {
    fail("{}: the tokenizer has {} tokens but token_embd.weight has {} rows", path, m.tokenizer->n_vocab(),
         m.model->spec().n_vocab);
  }
  return m;
}

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace owl::app
