// Short children's stories from a small hand-written grammar (train/story_words.cpp): the corpus owl trains
// its own tiny language model on. Story `index` of `seed` depends on nothing else, and the generator uses
// only its own integer random numbers, so every platform, compiler and standard library writes the same text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace owl::train {

// Who a story is about: drawn first, for tests and tools that check the corpus.
struct StoryCast {
  std::string hero;       // "Pip"
  std::string hero_kind;  // "fox", "teddy bear", "girl"
  bool hero_is_female = false;
  std::string helper;  // the second character; never the hero's name
  std::string helper_kind;
  bool helper_is_female = false;
};

// Story number `index` of the corpus of `seed`: one paragraph of 60-220 words in plain printable ASCII.
// It depends only on (seed, index), so any slice of the corpus can be made alone, in any order, on any thread.
std::string generate_story(uint64_t seed, int64_t index);

// Stories first .. first+count-1 (none when count <= 0).
std::vector<std::string> generate_stories(uint64_t seed, int64_t first, int64_t count);

// The cast of generate_story(seed, index).
StoryCast story_cast(uint64_t seed, int64_t index);

}  // namespace owl::train
