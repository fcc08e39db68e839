// owl stories: the project's own training corpus (train/story_corpus.h), written as JSONL
// {"text": ...} lines, train.jsonl and valid.jsonl from disjoint story numbers of one seed.
// owl story-score: how a model tells held-out stories of that corpus (train/story_eval.h).
// owl train-tokenizer: an SPM-style BPE vocabulary trained on JSONL or plain text
// (train/tokenizer_trainer.h), written as a vocabulary-only GGUF that owl train and every
// tokenizer command read.
#include <filesystem>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "formats/gguf.h"
#include "tokenizer/gguf_export.h"
#include "train/dataset.h"
#include "train/story_corpus.h"
#include "train/story_eval.h"
#include "train/tokenizer_trainer.h"

namespace owl::app {

namespace fs = std::filesystem;

namespace {

struct StoriesArgs {
  std::string output;
  int64_t train = 20000, valid = 500;
  uint64_t seed = 1;
};

std::string jsonl(uint64_t seed, int64_t first, int64_t count) {
  std::string out;
  for (const std::string& story : train::generate_stories(seed, first, count)) {
    out += nlohmann::json{{"text", story}}.dump() + "\n";
  }
  return out;
}

void stories_command(const StoriesArgs& a) {
  std::error_code ec;
  fs::create_directories(a.output, ec);
  if (ec || !fs::is_directory(a.output)) fail("-o {}: cannot make this directory", a.output);
  atomic_write(fs::path(a.output) / "train.jsonl", jsonl(a.seed, 0, a.train));
  if (a.valid > 0) atomic_write(fs::path(a.output) / "valid.jsonl", jsonl(a.seed, a.train, a.valid));
  std::fprintf(stderr, "stories: %lld training and %lld validation stories (seed %llu) in %s\n",
               static_cast<long long>(a.train), static_cast<long long>(a.valid),
               static_cast<unsigned long long>(a.seed), a.output.c_str());
}

struct ScoreArgs {
  ModelArg model;
  uint64_t seed = 2;
  int64_t first = 0, count = 60;
  int threads = 0;
  bool json = false;
};

void score_command(const ScoreArgs& a) {
  const auto m = LoadedModel::load(a.model.path(), {});
  ThreadPool pool(a.threads > 0 ? a.threads : default_threads());
  const train::StoryScore s = train::score_stories(m->model(), m->tokenizer(), a.seed, a.first, a.count, pool);
  const auto share = [](int64_t part, int64_t whole) {
    return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
  };
  if (a.json) {
    std::printf("%s\n", nlohmann::json{{"stories", s.stories},
                                       {"tokens", s.tokens},
                                       {"perplexity", s.perplexity},
                                       {"name_slots", s.name_slots},
                                       {"names_consistent", share(s.consistent, s.name_slots)},
                                       {"names_exact", share(s.exact, s.name_slots)}}
                            .dump()
                            .c_str());
    return;
  }
  std::printf("%lld stories (seed %llu, from %lld), %lld tokens: perplexity %.4f\n", static_cast<long long>(s.stories),
              static_cast<unsigned long long>(a.seed), static_cast<long long>(a.first),
              static_cast<long long>(s.tokens), s.perplexity);
  std::printf("names kept at %lld repeated mentions: %.1f%% a name the story has said, %.1f%% the very name\n",
              static_cast<long long>(s.name_slots), 100.0 * share(s.consistent, s.name_slots),
              100.0 * share(s.exact, s.name_slots));
}

struct TokenizerArgs {
  std::vector<std::string> data;
  std::string output;
  train::TokenizerTrainOptions o;
};

void tokenizer_command(TokenizerArgs& a) {
  std::vector<std::string> texts;
  for (const std::string& d : a.data) {
    std::vector<std::string> more = train::load_texts(fs::is_directory(d) ? (fs::path(d) / "train.jsonl").string() : d);
    texts.insert(texts.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  const Vocab v = train::train_spm_bpe(texts, a.o);
  gguf::Writer w;
  w.set("general.architecture", gguf::Value{std::string("llama")});
  w.set("general.type", gguf::Value{std::string("vocab")});
  for (auto& [key, value] : vocab_metadata(v)) w.set(key, std::move(value));
  w.write(a.output);
  std::fprintf(stderr, "train-tokenizer: %d pieces from %zu texts written to %s\n", v.size(), texts.size(),
               a.output.c_str());
}

}  // namespace

void add_stories(CLI::App& app) {
  auto a = std::make_shared<StoriesArgs>();
  CLI::App* cmd =
      app.add_subcommand("stories", "Write owl's own training corpus: generated children's stories (JSONL)");
  cmd->add_option("-o,--output", a->output, "Directory for train.jsonl and valid.jsonl")->required();
  cmd->add_option("--train", a->train, "Training stories")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 32));
  cmd->add_option("--valid", a->valid, "Validation stories (the numbers after the training ones)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 32));
  cmd->add_option("--seed", a->seed, "Corpus seed: the same seed writes the same stories")->capture_default_str();
  cmd->callback([a] { stories_command(*a); });
}

void add_story_score(CLI::App& app) {
  auto a = std::make_shared<ScoreArgs>();
  CLI::App* cmd =
      app.add_subcommand("story-score", "Score a model on held-out generated stories: perplexity and kept names");
  add_model_option(*cmd, a->model);
  cmd->add_option("--seed", a->seed, "Corpus seed of the stories (pick one the model was not trained on)")
      ->capture_default_str();
  cmd->add_option("--first", a->first, "First story number")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 32));
  cmd->add_option("--count", a->count, "Stories to score")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", a->json, "One JSON object");
  cmd->callback([a] { score_command(*a); });
}

void add_train_tokenizer(CLI::App& app) {
  auto a = std::make_shared<TokenizerArgs>();
  CLI::App* cmd = app.add_subcommand("train-tokenizer", "Train a SentencePiece-style BPE tokenizer on your text");
  cmd->add_option("--data", a->data, "JSONL ({\"text\"} lines), a directory with train.jsonl, or text files")->required();
  cmd->add_option("-o,--output", a->output, "Vocabulary GGUF to write")->required();
  cmd->add_option("--vocab-size", a->o.vocab_size, "Pieces in all (specials, 256 bytes, characters, merges)")
      ->capture_default_str()->check(CLI::Range(int64_t{300}, int64_t{1000000}));
  cmd->add_option("--min-frequency", a->o.min_frequency, "Never merge a pair seen fewer times")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->callback([a] { tokenizer_command(*a); });
}

}  // namespace owl::app
