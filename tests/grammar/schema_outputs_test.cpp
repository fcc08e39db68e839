// Generation under every collected schema, on random-weight models (which write garbage unless
// constrained, so the grammar does all the work), over several seeds and temperatures; every output
// that finished is validated by an independent validator (python3-jsonschema, through
// tests/grammar/validate_json_outputs.py).

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "base/thread_pool.h"
#include "engine/completion.h"
#include "engine/loaded_model.h"
#include "fixtures.h"
#include "formats/model_file.h"
#include "models/model_source.h"
#include "grammar/json_schema.h"
#include "models/random_llama.h"
#include "test_files.h"

namespace {

using ordered = nlohmann::ordered_json;
namespace fs = std::filesystem;

const fs::path kSource = OWL_SOURCE_DIR;

// A small Llama with random weights and the tokenizer of another GGUF file.
fs::path random_model_with_tokenizer(const fs::path& tokenizer_source, const std::string& name) {
  const fs::path out = scratch_path(name + ".gguf");
  if (fs::exists(out)) return out;
  const auto source = owl::open_model_file(tokenizer_source.string());
  RandomLlamaShape shape;
  shape.n_vocab = static_cast<int64_t>(source->get_array("tokenizer.ggml.tokens").items.size());
  shape.n_embd = 64;
  shape.n_ff = 128;
  shape.n_layer = 1;
  shape.n_head = 2;
  shape.n_head_kv = 1;
  write_random_llama(out, shape, 7, [&](owl::gguf::Writer& w) {
    for (const auto& [key, value] : source->metadata()) {
      if (key.starts_with("tokenizer.")) w.set(key, value);
    }
  });
  return out;
}

bool python_has_jsonschema() { return std::system("python3 -c 'import jsonschema' >/dev/null 2>&1") == 0; }

struct Outcome {
  int runs = 0;
  int finished = 0;
};

// Generates under each schema with each (seed, temperature); appends finished outputs to jsonl.
Outcome generate_all(const fs::path& model_path, const std::vector<std::pair<uint64_t, float>>& settings,
                     std::ofstream& jsonl, const std::string& tag) {
  const auto model = owl::LoadedModel::load(model_path.string());
  owl::ThreadPool pool(1);
  Outcome o;
  for (const auto& entry : fs::directory_iterator(kSource / "tests" / "grammar" / "schemas")) {
    std::ifstream in(entry.path());
    const ordered schema = ordered::parse(in);
    const auto grammar = model->compile_grammar(owl::grammar::json_schema_to_gbnf(schema));
    for (const auto& [seed, temperature] : settings) {
      owl::SamplingParams p;
      p.temperature = temperature;
      p.top_k = 0;
      p.top_p = 1.0f;
      p.min_p = 0.0f;
      p.seed = seed;
      p.grammar = grammar;
      owl::Sampler sampler(p);
      owl::CompletionOptions co;
      co.n_ctx = 2048;
      co.n_predict = 1500;
      co.continues_prompt = false;
      std::string text;
      owl::CompletionResult r;
      try {
        r = owl::complete(*model, pool, model->encode_prompt("JSON:"), sampler, co, [&](const std::string& s) {
          text += s;
          return true;
        });
      } catch (const std::exception& e) {
        ADD_FAILURE() << entry.path().filename() << " seed " << seed << ": " << e.what() << " after: " << text;
        continue;
      }
      ++o.runs;
      if (!r.stopped) continue;  // ran out of tokens (free-form keys can run long): a prefix, not a document
      ++o.finished;
      EXPECT_TRUE(sampler.grammar_accepting()) << entry.path().filename() << ": " << text;
      jsonl << ordered{{"id", tag + "/" + entry.path().filename().string() + "/" + std::to_string(seed)},
                       {"schema", schema},
                       {"output", text}}
                   .dump(-1, ' ', false, ordered::error_handler_t::replace)
            << "\n";
    }
  }
  return o;
}

TEST(SchemaOutputs, EveryFinishedOutputValidatesAgainstItsSchema) {
  if (!python_has_jsonschema()) {
    GTEST_SKIP() << "python3 with jsonschema is not installed (scripts/setup.sh installs python3-jsonschema)";
  }
  const fs::path jsonl_path = scratch_path("schema_outputs.jsonl");
  std::ofstream jsonl(jsonl_path);
  // owl's own model's tokenizer (1,536 pieces, always in the clone), greedy and sampled.
  const fs::path small = random_model_with_tokenizer(kStoriesModel, "random-owl-vocab");
  Outcome o = generate_all(small, {{1, 0.0f}, {2, 0.7f}, {3, 1.0f}, {4, 1.5f}}, jsonl, "owl-vocab");
  // Llama 2's 32k vocabulary when the fixtures are there.
  const auto fixtures = owl_fixtures();
  const fs::path llama_vocab = fixtures ? *fixtures / "llamacpp-vocab" / "ggml-vocab-llama-spm.gguf" : fs::path();
  if (fixtures && fs::exists(llama_vocab)) {
    const Outcome big = generate_all(random_model_with_tokenizer(llama_vocab, "random-llama-vocab"), {{5, 1.0f}}, jsonl,
                                     "llama-vocab");
    o.runs += big.runs;
    o.finished += big.finished;
  }
  jsonl.close();
  // Most runs finish within the budget (the schemas bound their strings and lists; keys under
  // additionalProperties are free text, which a random model rarely closes).
  EXPECT_GE(o.finished * 10, o.runs * 9) << o.finished << " of " << o.runs << " finished";
  const fs::path report = scratch_path("schema_outputs_report.jsonl");
  const std::string cmd = "python3 '" + (kSource / "tests" / "grammar" / "validate_json_outputs.py").string() + "' < '" +
                          jsonl_path.string() + "' > '" + report.string() + "'";
  const int status = std::system(cmd.c_str());
  std::istringstream lines(read_file(report));
  int valid = 0, total = 0;
  for (std::string line; std::getline(lines, line);) {
    const ordered r = ordered::parse(line);
    ++total;
    if (r["valid"].get<bool>()) {
      ++valid;
    } else {
      ADD_FAILURE() << r.dump();
    }
  }
  EXPECT_EQ(total, o.finished);
  EXPECT_EQ(valid, total);
  EXPECT_EQ(status, 0);
  std::printf("schema outputs: %d runs, %d finished, %d valid\n", o.runs, o.finished, valid);
}

}  // namespace
