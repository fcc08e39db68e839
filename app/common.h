// What several subcommands share: the model option grammar (-m PATH or the first positional
// argument), the generation options, and thread-count defaults.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <limits>
#include <string>
#include <vector>

#include "engine/loaded_model.h"
#include "sampling/sampler.h"

namespace owl::app {

struct ModelArg {
  std::string flag;        // -m/--model
  std::string positional;  // or the first positional argument
  // The path given either way (a stored name resolved to its file or directory); owl::Error when
  // neither or two different paths were given, or a name the store does not hold.
  std::string path() const;
  // The canonical store name when what was given is a stored name rather than a path, else "".
  std::string stored_name() const;

 private:
  const std::string& given() const;
};

// Adds -m/--model and the positional MODEL to a subcommand.
void add_model_option(CLI::App& cmd, ModelArg& arg);

// --lora PATH (repeatable) and --lora-scale S (one for all, or one per --lora).
struct LoraArgs {
  std::vector<std::string> paths;
  std::vector<float> scales;
  // The requests, or owl::Error when the scales do not pair with the adapters.
  std::vector<LoraRequest> requests() const;
};
void add_lora_options(CLI::App& cmd, LoraArgs& args);

// The adapters a model is run with: a stored model's own adapter layers (Ollama's ADAPTER, scale 1),
// then those of --lora.
std::vector<LoraRequest> adapters_for(const ModelArg& model, const LoraArgs& lora);

int default_threads();
// -t N on a command that runs on one thread: accepted (and checked), so that every command takes -t.
void add_single_thread_option(CLI::App& cmd);

// The text of a file, or of stdin for "-"; owl::Error "OPTION PATH: cannot read" otherwise.
std::string read_text_arg(const std::string& option, const std::string& path);

// --chat-template-file FILE (run, chat, serve): the user's Jinja template instead of the model's.
void add_chat_template_option(CLI::App& cmd, std::string& path);
// Applies it when path is not empty (owl::Error naming the file when it cannot be read or parsed).
void apply_chat_template_file(LoadedModel& model, const std::string& path);

// The options every generating command shares (run, chat): -n, -c, -t, sampling, seed, --force.
struct GenerationArgs {
  int64_t n_predict = 128;
  int64_t n_ctx = 0;
  std::string kv_type = "f16";
  int threads = 0;
  SamplingParams sampling;
  int64_t seed = -1;
  bool force = false;
  std::string grammar_file;  // --grammar FILE (GBNF)
  std::string json_schema;   // --json-schema FILE, or the schema itself when it starts with {
  std::string format;        // --format json (Ollama's spelling of JSON mode)
};
void add_generation_options(CLI::App& cmd, GenerationArgs& args);

// What the sampling options accept, on the command line and in owl chat's /set.
struct NumberRange {
  double lo, hi;
};
struct WholeRange {
  int64_t lo, hi;
};
inline constexpr NumberRange kTemperatureRange{0, 100}, kTopPRange{0, 1}, kMinPRange{0, 1}, kRepeatPenaltyRange{0.01, 100};
inline constexpr WholeRange kTopKRange{0, 1 << 30}, kPredictRange{-1, int64_t{1} << 30},
    kSeedRange{0, std::numeric_limits<int64_t>::max()};

// The GBNF that --grammar, --json-schema or --format asks for (empty: none); owl::Error naming the
// option and what is wrong, so that it can be called before the model loads.
std::string structured_output_gbnf(const GenerationArgs& args);
// The sampling parameters with the seed resolved (a random one, printed, when none was given) and
// the structured-output grammar compiled for the model.
SamplingParams resolve_sampling(const GenerationArgs& args, const LoadedModel& model);
// -c (with a warning on stderr when it exceeds the training context), or the model's training
// context capped at 4096.
int64_t context_size(const GenerationArgs& args, const ModelSpec& spec);
// Option checks whose messages say what is wrong: "'abc' is not a number", "-3 is not in [0, 1]",
// "99999999999999999999 is not a whole number in [0, 9223372036854775807]".
CLI::Validator number_in(double lo, double hi);
CLI::Validator whole_number_in(int64_t lo, int64_t hi);

// --kv-type as a type (owl::Error for anything but f16, q8_0, f32).
DType kv_type(const GenerationArgs& args);
// Prints the license line the first time a model is used; refuses a model that would not fit.
void check_model_before_run(const Model& model, int64_t n_ctx, DType kv_type, bool force);

}  // namespace owl::app
