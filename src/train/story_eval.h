// How well a model tells owl's stories (train/story_corpus.h): perplexity on stories it never saw,
// and whether it keeps its characters' names. At each repeated mention of the hero's or the helper's
// name, the model's most likely next token (given the story so far) should begin one of the names
// the story has already said (consistent; some slots fit either character), and should be every
// token of the very name the story says (exact: greedy decoding would write it).
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace owl::train {

struct StoryScore {
  int64_t stories = 0;
  int64_t tokens = 0;       // predicted tokens (each story's tokens after BOS, EOS included)
  double perplexity = 0.0;  // exp of the mean cross-entropy over those tokens
  int64_t name_slots = 0;   // repeated mentions of the hero's or the helper's name
  int64_t consistent = 0;   // ... where the argmax begins a name the story has already said
  int64_t exact = 0;        // ... where the argmax is each token of the name the story says
};

// Scores stories first .. first+count-1 of corpus `seed` (full training forward, `pool`'s threads).
StoryScore score_stories(const Model& model, const Tokenizer& tok, uint64_t seed, int64_t first, int64_t count,
                         ThreadPool& pool);

}  // namespace owl::train
