// bench_grammar: what grammar-constrained sampling costs per token, on one core, with real
// vocabularies (Llama 2's 32k SentencePiece, Llama 3's 128k byte-level BPE), for JSON mode and for
// JSON schemas of the test collection.
//
// For each vocabulary and grammar, documents are first generated from random logits through the
// sampler (which checks the drawn token and builds the mask only when the grammar refuses it;
// random logits make that the common case, the worst for the grammar). Then the documents' tokens
// are replayed twice: as a model that writes valid text would produce them (check and accept only),
// and with the full mask built before every token (what a sampler without the check-first path
// pays; each document starts with empty caches). JSON mode also replays real JSON documents (the
// schema files of the test collection, tokenized). Times are per token, in milliseconds.
//
// Usage: bench_grammar [FIXTURES_DIR] [SOURCE_DIR] [DOCUMENTS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "engine/grammar_vocabulary.h"
#include "grammar/json_schema.h"
#include "grammar/token_matcher.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
  std::vector<double> ms;
  void add(Clock::time_point t0) { ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count()); }
  double mean() const {
    double s = 0;
    for (double x : ms) s += x;
    return ms.empty() ? 0 : s / static_cast<double>(ms.size());
  }
  double quantile(double q) const {
    if (ms.empty()) return 0;
    std::vector<double> v = ms;
    const auto k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
    return v[k];
  }
};

void print(const char* vocab, const std::string& grammar, const std::string& what, const Stats& s) {
  std::printf("%-8s %-20s %-40s %7zu tokens  mean %8.4f ms  p99 %8.4f ms  max %8.3f ms\n", vocab, grammar.c_str(), what.c_str(),
              s.ms.size(), s.mean(), s.quantile(0.99), s.ms.empty() ? 0.0 : *std::max_element(s.ms.begin(), s.ms.end()));
}

// Replays the tokens of documents a model could have written (check and accept each), then the same
// with a full mask before every token.
void replay(const char* vocab_name, const std::string& grammar_name, const char* what,
            const std::shared_ptr<const owl::grammar::TokenGrammar>& tg, const std::vector<std::vector<int32_t>>& docs) {
  std::vector<float> logits(tg->vocabulary->size());
  Stats check, full;
  for (const auto& doc : docs) {
    owl::grammar::TokenMatcher m(*tg);
    std::string so_far;
    for (int32_t t : doc) {
      const auto t0 = Clock::now();
      if (!m.allows(t)) {
        std::fprintf(stderr, "token %d (%s) was refused after: %s\n", t, tg->vocabulary->bytes(t).c_str(), so_far.c_str());
        std::exit(1);
      }
      so_far += tg->vocabulary->bytes(t);
      m.accept(t);
      check.add(t0);
    }
    owl::grammar::TokenMatcher fresh(*tg);
    for (int32_t t : doc) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      const auto t0 = Clock::now();
      fresh.mask(logits);
      fresh.accept(t);
      full.add(t0);
    }
  }
  print(vocab_name, grammar_name, std::string("check + accept, ") + what, check);
  print(vocab_name, grammar_name, std::string("full mask every token, ") + what, full);
}

void bench(const char* vocab_name, const std::shared_ptr<const owl::grammar::TokenVocabulary>& vocab,
           const std::string& grammar_name, const std::string& gbnf, int documents,
           const std::vector<std::vector<int32_t>>& real_documents) {
  const auto tg = std::make_shared<const owl::grammar::TokenGrammar>(
      owl::grammar::TokenGrammar{std::make_shared<const owl::grammar::Grammar>(owl::grammar::parse_gbnf(gbnf)), vocab});
  const size_t n = vocab->size();
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(n);
  std::vector<std::vector<int32_t>> docs;
  Stats constrained, free;
  for (int d = 0; d < documents; ++d) {
    owl::SamplingParams p;
    p.temperature = 1.0f;
    p.seed = static_cast<uint64_t>(d);
    owl::Sampler plain(p);
    p.grammar = tg;
    owl::Sampler sampler(p);
    std::vector<int32_t> doc;
    for (int step = 0; step < 300; ++step) {
      for (float& l : logits) l = normal(rng);
      auto t0 = Clock::now();
      (void)plain.sample(logits);
      free.add(t0);
      t0 = Clock::now();
      const int32_t t = sampler.sample(logits);
      constrained.add(t0);
      if (vocab->end_of_generation(t)) break;
      doc.push_back(t);
    }
    docs.push_back(std::move(doc));
  }
  print(vocab_name, grammar_name, "sampler, no grammar", free);
  print(vocab_name, grammar_name, "sampler + grammar (random logits)", constrained);
  replay(vocab_name, grammar_name, "random documents", tg, docs);
  if (!real_documents.empty()) replay(vocab_name, grammar_name, "real documents", tg, real_documents);
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path fixtures = argc > 1 ? argv[1] : "../shared/fixtures";
  const fs::path source = argc > 2 ? argv[2] : ".";
  const int documents = argc > 3 ? std::stoi(argv[3]) : 12;
  const std::pair<const char*, fs::path> vocabularies[] = {
      {"llama2", fixtures / "llamacpp-vocab" / "ggml-vocab-llama-spm.gguf"},
      {"llama3", fixtures / "llama3-tiktoken" / "tokenizer.model"}};
  std::vector<std::pair<std::string, std::string>> grammars = {{"json", owl::grammar::json_object_gbnf()}};
  for (const char* name : {"03_order", "24_named_entities", "26_comment_thread", "59_batch_tool_calls"}) {
    std::ifstream in(source / "tests" / "grammar" / "schemas" / (std::string(name) + ".json"));
    if (!in) {
      std::fprintf(stderr, "schema %s not found under %s (give the source directory)\n", name, source.c_str());
      return 1;
    }
    grammars.emplace_back(name, owl::grammar::json_schema_to_gbnf(nlohmann::ordered_json::parse(in)));
  }
  for (const auto& [vocab_name, path] : vocabularies) {
    if (!fs::exists(path)) {
      std::fprintf(stderr, "skipping %s: %s not found\n", vocab_name, path.c_str());
      continue;
    }
    const auto tokenizer = owl::Tokenizer::from_file(path.string());
    const auto t0 = Clock::now();
    const auto vocab = owl::grammar_vocabulary(*tokenizer, [&](int32_t id) { return tokenizer->is_end_of_generation(id); });
    std::printf("%s: %d tokens, vocabulary trie of %zu nodes built in %.1f ms\n", vocab_name, tokenizer->n_vocab(),
                vocab->trie().size(), std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    // Real JSON for JSON mode: the schema files themselves, as their tokenizer writes them.
    std::vector<std::vector<int32_t>> real;
    for (const auto& entry : fs::directory_iterator(source / "tests" / "grammar" / "schemas")) {
      std::ifstream in(entry.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      // Tokens as a model writes them after other text: encoded behind a newline (so that no
      // SentencePiece dummy-prefix space sticks to the first one), from where the document starts.
      const std::vector<int32_t> ids = tokenizer->encode("\n" + text, false);
      for (size_t k = 1; k <= std::min<size_t>(3, ids.size()); ++k) {
        std::string rest;
        for (size_t i = k; i < ids.size(); ++i) rest += vocab->bytes(ids[i]);
        if (rest == text) {
          real.emplace_back(ids.begin() + static_cast<ptrdiff_t>(k), ids.end());
          break;
        }
      }
    }
    for (const auto& [name, gbnf] : grammars) {
      bench(vocab_name, vocab, name, gbnf, documents, name == "json" ? real : std::vector<std::vector<int32_t>>{});
    }
  }
  return 0;
}
