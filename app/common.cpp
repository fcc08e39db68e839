// Shared CLI helpers.
#include "common.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <iostream>
#include <iterator>
#include <random>
#include <thread>

#include "base/error.h"
#include "grammar/grammar.h"
#include "store/catalog.h"
#include "grammar/json_schema.h"
#include "models/kv_cache.h"
#include "tools/check/check.h"

namespace owl::app {

const std::string& ModelArg::given() const {
  if (!flag.empty() && !positional.empty() && flag != positional) {
    fail("the model is given twice ('{}' and '{}')", flag, positional);
  }
  if (flag.empty() && positional.empty()) fail("no model given: use -m MODEL.gguf");
  return flag.empty() ? positional : flag;
}

std::string ModelArg::stored_name() const {
  // A path that exists is a path; otherwise a name spelled as one is looked up in the store.
  std::error_code ec;
  const std::string& g = given();
  if (std::filesystem::exists(g, ec) || !store::looks_like_model_name(g)) return "";
  return store::parse_model_name(g).str();
}

std::string ModelArg::path() const {
  const std::string name = stored_name();
  if (name.empty()) return given();
  const auto stored = store::find_stored_model(store::ModelStore::open_default(), store::parse_model_name(name));
  if (!stored) fail("{}: no such file, and no model of that name in the store (owl pull {})", given(), given());
  return stored->path.string();
}

void add_model_option(CLI::App& cmd, ModelArg& arg) {
  cmd.add_option("-m,--model", arg.flag, "Model: a GGUF file, a Hugging Face or MLX directory, or a stored name");
  cmd.add_option("model", arg.positional, "Model (GGUF file, HF or MLX directory, stored name), instead of -m");
}

void add_lora_options(CLI::App& cmd, LoraArgs& args) {
  cmd.add_option("--lora", args.paths, "A LoRA adapter to apply (PEFT directory); repeat for several");
  cmd.add_option("--lora-scale", args.scales, "Scale of the adapters' terms (default 1; one, or one per --lora)")
      ->check(CLI::Range(-100.0, 100.0));
}

std::vector<LoraRequest> LoraArgs::requests() const {
  if (scales.size() > 1 && scales.size() != paths.size()) {
    fail("--lora-scale: {} scales for {} adapters (give one for all, or one per --lora)", scales.size(), paths.size());
  }
  if (!scales.empty() && paths.empty()) fail("--lora-scale: no --lora adapter to scale");
  std::vector<LoraRequest> out;
  for (size_t i = 0; i < paths.size(); ++i) {
    out.push_back({paths[i], scales.empty() ? 1.0f : scales.size() == 1 ? scales[0] : scales[i]});
  }
  return out;
}

std::vector<LoraRequest> adapters_for(const ModelArg& model, const LoraArgs& lora) {
  std::vector<LoraRequest> out;
  if (const std::string name = model.stored_name(); !name.empty()) {
    if (const auto m = store::find_stored_model(store::ModelStore::open_default(), store::parse_model_name(name))) {
      for (const auto& a : store::stored_extras(*m).adapters) out.push_back({a.string(), 1.0f});
    }
  }
  for (LoraRequest& r : lora.requests()) out.push_back(std::move(r));
  return out;
}

CLI::Validator number_in(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& in) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(in.c_str(), &end);
        if (in.empty() || end != in.c_str() + in.size() || errno == ERANGE || std::isnan(v)) {
          return "'" + in + "' is not a number";
        }
        if (v < lo || v > hi) return fmt::format("{} is not in [{:g}, {:g}]", in, lo, hi);
        return "";
      },
      fmt::format("NUMBER in [{:g}, {:g}]", lo, hi));
}

CLI::Validator whole_number_in(int64_t lo, int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& in) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(in.c_str(), &end, 10);
        if (in.empty() || end != in.c_str() + in.size() || errno == ERANGE || v < lo || v > hi) {
          return fmt::format("{} is not a whole number in [{}, {}]", in, lo, hi);
        }
        return "";
      },
      fmt::format("INT in [{}, {}]", lo, hi));
}

void add_generation_options(CLI::App& cmd, GenerationArgs& a) {
  cmd.add_option("-n,--n-predict", a.n_predict, "Tokens to generate (-1: until end of text or context full)")
      ->capture_default_str()
      ->check(whole_number_in(kPredictRange.lo, kPredictRange.hi));
  cmd.add_option("-c,--ctx-size", a.n_ctx, "Context size in tokens (default: the model's, at most 4096)")
      ->check(whole_number_in(0, int64_t{1} << 30));
  cmd.add_option("--kv-type", a.kv_type, "KV cache type: f16 (half the memory of f32), q8_0 (about a quarter) or f32")
      ->capture_default_str();
  cmd.add_option("-t,--threads", a.threads, "Threads (default: all cores)")->check(whole_number_in(1, 1024));
  SamplingParams& s = a.sampling;
  cmd.add_option("--temp", s.temperature, "Temperature (0: greedy)")->capture_default_str()->check(number_in(kTemperatureRange.lo, kTemperatureRange.hi));
  cmd.add_option("--top-k", s.top_k, "Top-k (0: off)")->capture_default_str()->check(whole_number_in(kTopKRange.lo, kTopKRange.hi));
  cmd.add_option("--top-p", s.top_p, "Top-p (1: off)")->capture_default_str()->check(number_in(kTopPRange.lo, kTopPRange.hi));
  cmd.add_option("--min-p", s.min_p, "Min-p (0: off)")->capture_default_str()->check(number_in(kMinPRange.lo, kMinPRange.hi));
  cmd.add_option("--repeat-penalty", s.repeat_penalty, "Repetition penalty (1: off)")
      ->capture_default_str()
      ->check(number_in(kRepeatPenaltyRange.lo, kRepeatPenaltyRange.hi));
  cmd.add_option("--repeat-last-n", s.penalty_last_n, "Tokens the penalties look back over (-1: all)")
      ->capture_default_str()
      ->check(whole_number_in(-1, 1 << 30));
  cmd.add_option("--presence-penalty", s.presence_penalty, "Presence penalty (0: off)")
      ->capture_default_str()
      ->check(number_in(-100.0, 100.0));
  cmd.add_option("--frequency-penalty", s.frequency_penalty, "Frequency penalty (0: off)")
      ->capture_default_str()
      ->check(number_in(-100.0, 100.0));
  cmd.add_option("-s,--seed", a.seed, "Random seed (default: random, printed)")
      ->check(whole_number_in(kSeedRange.lo, kSeedRange.hi));
  cmd.add_flag("--force", a.force, "Run even when the model is predicted not to fit in memory");
  cmd.add_option("--grammar", a.grammar_file, "Constrain the output to a GBNF grammar (llama.cpp's format) in FILE");
  cmd.add_option("--json-schema", a.json_schema,
                 "Constrain the output to JSON valid against this JSON Schema (a FILE, or the schema itself)");
  cmd.add_option("--format", a.format, "json: constrain the output to a JSON object (as ollama run --format json)");
}

std::string structured_output_gbnf(const GenerationArgs& a) {
  if (!a.grammar_file.empty() + !a.json_schema.empty() + !a.format.empty() > 1) {
    fail("give one of --grammar, --json-schema and --format");
  }
  if (!a.format.empty()) {
    if (a.format != "json") fail("--format must be json (for a schema, use --json-schema)");
    return grammar::json_object_gbnf();
  }
  if (!a.grammar_file.empty()) {
    std::string text = read_text_arg("--grammar", a.grammar_file);
    try {
      grammar::parse_gbnf(text);
    } catch (const Error& e) {
      fail("--grammar {}: {}", a.grammar_file, e.what());
    }
    return text;
  }
  if (a.json_schema.empty()) return "";
  const bool inline_schema = a.json_schema.front() == '{';
  const std::string origin = inline_schema ? std::string("--json-schema") : "--json-schema " + a.json_schema;
  const std::string text = inline_schema ? a.json_schema : read_text_arg("--json-schema", a.json_schema);
  nlohmann::ordered_json schema;
  try {
    schema = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", origin, e.what());
  }
  try {
    return grammar::json_schema_to_gbnf(schema);
  } catch (const Error& e) {
    fail("{}: {}", origin, e.what());
  }
}

SamplingParams resolve_sampling(const GenerationArgs& a, const LoadedModel& model) {
  SamplingParams sp = a.sampling;
  sp.seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
  validate(sp);
  if (const std::string gbnf = structured_output_gbnf(a); !gbnf.empty()) sp.grammar = model.compile_grammar(gbnf);
  if (a.seed < 0 && sp.temperature > 0.0f) std::fprintf(stderr, "seed: %llu\n", static_cast<unsigned long long>(sp.seed));
  return sp;
}

int64_t context_size(const GenerationArgs& a, const ModelSpec& spec) {
  if (a.n_ctx > 0 && spec.n_ctx_train > 0 && a.n_ctx > spec.n_ctx_train) {
    std::fprintf(stderr, "owl: warning: -c %lld is beyond the %lld tokens the model was trained on; "
                 "what it writes past them may fall apart\n", static_cast<long long>(a.n_ctx),
                 static_cast<long long>(spec.n_ctx_train));
  }
  return a.n_ctx > 0 ? a.n_ctx : std::min<int64_t>(spec.n_ctx_train, 4096);
}

DType kv_type(const GenerationArgs& a) { return kv_type_from_name(a.kv_type); }

void check_model_before_run(const Model& model, int64_t n_ctx, DType kv_type, bool force) {
  if (const std::string line = check::check_before_run(model, n_ctx, kv_type, force); !line.empty()) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

std::string read_text_arg(const std::string& option, const std::string& path) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{} {}: cannot read this file", option, path);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) fail("{} {}: read error", option, path);
  return text;
}

void add_chat_template_option(CLI::App& cmd, std::string& path) {
  cmd.add_option("--chat-template-file", path, "Jinja chat template to use instead of the model's own");
}

void apply_chat_template_file(LoadedModel& model, const std::string& path) {
  if (!path.empty()) model.set_chat_template(read_text_arg("--chat-template-file", path), path);
}

void add_single_thread_option(CLI::App& cmd) {
  cmd.add_option_function<int>("-t,--threads", [](const int&) {}, "Threads (accepted; this command uses one)")
      ->check(whole_number_in(1, 1024));
}

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace owl::app
