// What several subcommands share: the model option grammar (-m PATH or the first positional
// argument), loading a model with its tokenizer, and thread-count defaults.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace owl::app {

struct ModelArg {
  std::string flag;        // -m/--model
  std::string positional;  // or the first positional argument
  // The path given either way; owl::Error when neither or two different paths were given.
  std::string path() const;
};

// Adds -m/--model and the positional MODEL to a subcommand.
void add_model_option(CLI::App& cmd, ModelArg& arg);

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};
LoadedModel load_model(const std::string& path);

int default_threads();

}  // namespace owl::app
