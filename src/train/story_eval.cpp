// Story scores (train/story_eval.h): one training forward per story, cross-entropy over every
// predicted token, and the argmax at each repeated mention of a cast name.
#include "train/story_eval.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "base/error.h"
#include "models/lora_adapter.h"
#include "ops/elementwise.h"
#include "train/story_corpus.h"
#include "train/train_pass.h"

namespace owl::train {

namespace {

// A name's tokens as they stand in running text after a space ("▁G", "oo", "mb", "an" in owl-stories):
// the tokens of "a NAME" after those of "a".
std::vector<int32_t> name_tokens(const Tokenizer& tok, const std::string& name) {
  const std::vector<int32_t> a = tok.encode("a", false);
  std::vector<int32_t> ids = tok.encode("a " + name, false);
  if (ids.size() <= a.size() || !std::equal(a.begin(), a.end(), ids.begin())) return {};
  ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(a.size()));
  return ids;
}

int32_t argmax(const float* row, int64_t n) { return static_cast<int32_t>(ops::argmax(row, n)); }

}  // namespace

StoryScore score_stories(const Model& model, const Tokenizer& tok, uint64_t seed, int64_t first, int64_t count,
                         ThreadPool& pool) {
  const int64_t n_vocab = model.spec().n_vocab;
  const LoraAdapter none;
  TrainPass pass(model, none, pool);
  StoryScore s;
  double nll = 0.0;
  for (int64_t index = first; index < first + count; ++index) {
    const StoryCast cast = story_cast(seed, index);
    std::vector<int32_t> ids = tok.encode(generate_story(seed, index), false);
    if (tok.bos() >= 0) ids.insert(ids.begin(), tok.bos());
    if (tok.eos() >= 0) ids.push_back(tok.eos());
    const std::vector<float> logits = pass.logits(ids);
    const auto row = [&](size_t t) {
      return logits.data() + static_cast<int64_t>(t - 1) * n_vocab;
    };  // predicts ids[t]
    for (size_t t = 1; t < ids.size(); ++t) nll -= ops::log_softmax(row(t), n_vocab).at(row(t)[ids[t]]);
    s.tokens += static_cast<int64_t>(ids.size()) - 1;
    ++s.stories;

    const std::vector<std::vector<int32_t>> names = {name_tokens(tok, cast.hero), name_tokens(tok, cast.helper)};
    std::set<int32_t> said;  // first tokens of the names said so far
    for (size_t t = 1; t < ids.size(); ++t) {
      for (const std::vector<int32_t>& name : names) {
        if (name.empty() || t + name.size() > ids.size() ||
            !std::equal(name.begin(), name.end(), ids.begin() + static_cast<std::ptrdiff_t>(t)))
          continue;
        if (said.count(name.front()) > 0) {
          ++s.name_slots;
          s.consistent += said.count(argmax(row(t), n_vocab)) > 0 ? 1 : 0;
          bool exact = true;
          for (size_t k = 0; k < name.size(); ++k) exact = exact && argmax(row(t + k), n_vocab) == name[k];
          s.exact += exact ? 1 : 0;
        }
        said.insert(name.front());
      }
    }
  }
  if (s.tokens == 0) fail("story scores: no stories to score");
  s.perplexity = std::exp(nll / static_cast<double>(s.tokens));
  return s;
}

}  // namespace owl::train
