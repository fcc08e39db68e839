// The story generator (train/story_corpus.h): stories follow from (seed, index) alone, vary, and keep the
// grammar a tiny model should learn (plain ASCII, bounded length, capitals, "a"/"an", a recurring cast with
// consistent pronouns, a small vocabulary besides many rare names); a pin on the exact text notices any change
// to the generator.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "train/story_corpus.h"

namespace {

namespace tr = owl::train;

constexpr uint64_t kSeed = 2024;
constexpr int64_t kCorpusSize = 2000;

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> stories = tr::generate_stories(kSeed, 0, kCorpusSize);
  return stories;
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || is_upper(c); }

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

// The word lowercased, without the punctuation around it ("\"Oh," -> "oh"; "Pip's" stays "pip's").
std::string bare_word(const std::string& word) {
  size_t b = 0, e = word.size();
  while (b < e && !is_letter(word[b])) ++b;
  while (e > b && !is_letter(word[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) out += is_upper(word[i]) ? static_cast<char>(word[i] - 'A' + 'a') : word[i];
  return out;
}

size_t count_word(const std::string& text, const std::string& name) {
  size_t n = 0;
  for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
    const bool starts = at == 0 || !is_letter(text[at - 1]);
    const bool ends = at + name.size() == text.size() || !is_letter(text[at + name.size()]);
    if (starts && ends) ++n;
  }
  return n;
}

// The text up to and including the first ". " outside quotation marks.
std::string first_sentence(const std::string& text) {
  bool in_quote = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') in_quote = !in_quote;
    if (!in_quote && text[i] == '.' && (i + 1 == text.size() || text[i + 1] == ' ')) return text.substr(0, i + 1);
  }
  return text;
}

// An empty string if every sentence and every quotation starts with a capital; else what is wrong. After a
// quotation closed by "!" or "?" the sentence may go on with its speech tag ("Help!" cried Pip).
std::string capital_error(const std::string& s) {
  static const std::set<std::string> tags = {"said",   "asked",    "cried",     "shouted", "called", "laughed",
                                             "sighed", "wondered", "whispered", "worried", "he",     "she"};
  if (s.empty()) return "empty story";
  if (!is_upper(s[0]) && !(s[0] == '"' && s.size() > 1 && is_upper(s[1]))) return "first letter";
  bool in_quote = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      in_quote = !in_quote;
      if (in_quote && (i + 1 >= s.size() || !is_upper(s[i + 1]))) return "quotation at " + std::to_string(i);
      continue;
    }
    if (c != '.' && c != '!' && c != '?') continue;
    size_t j = i + 1;
    const bool closes = in_quote && j < s.size() && s[j] == '"';
    if (closes) ++j;
    if (j >= s.size() || s[j] != ' ') continue;
    size_t k = j + 1;
    if (k < s.size() && s[k] == '"') ++k;
    if (k >= s.size()) return "ends in a space";
    if (is_upper(s[k])) continue;
    const size_t end = s.find_first_of(" ,.", k);
    const std::string next = s.substr(k, end == std::string::npos ? std::string::npos : end - k);
    if (closes && c != '.' && tags.count(next)) continue;
    return "lowercase \"" + next + "\" at " + std::to_string(k);
  }
  return "";
}

TEST(StoryCorpus, SameSeedAndIndexGiveTheSameStory) {
  EXPECT_EQ(tr::generate_story(7, 123), tr::generate_story(7, 123));
  EXPECT_EQ(tr::generate_story(0, 0), tr::generate_story(0, 0));
  // Out of order and in slices: story i does not depend on what was made before it.
  const std::vector<std::string> slice = tr::generate_stories(kSeed, 1500, 20);
  ASSERT_EQ(slice.size(), 20u);
  for (size_t i = 0; i < slice.size(); ++i) EXPECT_EQ(slice[i], corpus()[1500 + i]) << i;
  EXPECT_EQ(tr::generate_story(kSeed, 1999), corpus()[1999]);
  EXPECT_TRUE(tr::generate_stories(kSeed, 5, 0).empty());
  EXPECT_TRUE(tr::generate_stories(kSeed, 5, -3).empty());
}

TEST(StoryCorpus, SeedsAndIndicesChangeTheStory) {
  for (int64_t i = 0; i < 50; ++i) {
    EXPECT_NE(tr::generate_story(1, i), tr::generate_story(2, i)) << i;
    EXPECT_NE(tr::generate_story(1, i), tr::generate_story(1, i + 1)) << i;
  }
  EXPECT_NE(tr::generate_story(1, -1), tr::generate_story(1, 1));
  EXPECT_NE(tr::generate_story(0, 0), tr::generate_story(UINT64_MAX, 0));
}

TEST(StoryCorpus, ThreadsMakeTheSameStories) {
  std::vector<std::vector<std::string>> parts(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < parts.size(); ++t)
    threads.emplace_back([&parts, t] { parts[t] = tr::generate_stories(kSeed, static_cast<int64_t>(t) * 50, 50); });
  for (std::thread& thread : threads) thread.join();
  for (size_t t = 0; t < parts.size(); ++t)
    for (size_t i = 0; i < 50; ++i) EXPECT_EQ(parts[t][i], corpus()[t * 50 + i]);
}

TEST(StoryCorpus, AlmostEveryStoryIsDistinct) {
  const std::set<std::string> distinct(corpus().begin(), corpus().end());
  EXPECT_GE(distinct.size(), 1990u);
}

TEST(StoryCorpus, StoriesArePlainAsciiOfBoundedLength) {
  const std::string_view allowed = " .,!?'\"-:";
  for (size_t n = 0; n < corpus().size(); ++n) {
    const std::string& story = corpus()[n];
    for (char c : story) {
      const bool ok = is_letter(c) || (c >= '0' && c <= '9') || allowed.find(c) != std::string_view::npos;
      ASSERT_TRUE(ok) << "story " << n << " has character " << static_cast<int>(c) << ": " << story;
    }
    const size_t words = split_words(story).size();
    EXPECT_GE(words, 60u) << story;
    EXPECT_LE(words, 220u) << story;
    EXPECT_EQ(story.find("  "), std::string::npos) << story;
    ASSERT_FALSE(story.empty());
    EXPECT_NE(std::string_view(".!?").find(story.back()), std::string_view::npos) << story;
  }
}

TEST(StoryCorpus, NoSlotIsLeftUnfilled) {
  for (const std::string& story : corpus()) {
    EXPECT_EQ(story.find_first_of("{}<>_[]"), std::string::npos) << story;
    EXPECT_EQ(story.find("\n"), std::string::npos) << story;
  }
}

TEST(StoryCorpus, SentencesAndQuotationsStartWithCapitals) {
  for (const std::string& story : corpus()) EXPECT_EQ(capital_error(story), "") << story;
  // The checker itself catches what it should.
  EXPECT_NE(capital_error("Pip ran. he fell."), "");
  EXPECT_NE(capital_error("Pip said, \"hello.\""), "");
  EXPECT_NE(capital_error("\"Stop.\" then Pip ran."), "");
  EXPECT_EQ(capital_error("\"Help!\" cried Pip. \"Ouch,\" said Mia."), "");
}

TEST(StoryCorpus, ArticlesMatchTheNextWord) {
  for (const std::string& story : corpus()) {
    const std::vector<std::string> words = split_words(story);
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      const std::string w = bare_word(words[i]);
      if (w != "a" && w != "an") continue;
      const std::string next = bare_word(words[i + 1]);
      ASSERT_FALSE(next.empty()) << story;
      const bool vowel = std::string_view("aeiou").find(next[0]) != std::string_view::npos;
      EXPECT_EQ(w == "an", vowel) << "\"" << words[i] << " " << words[i + 1] << "\" in: " << story;
    }
  }
}

TEST(StoryCorpus, TheCastRecursUnderDifferentNames) {
  for (int64_t n = 0; n < kCorpusSize; ++n) {
    const std::string& story = corpus()[static_cast<size_t>(n)];
    const tr::StoryCast cast = tr::story_cast(kSeed, n);
    ASSERT_FALSE(cast.hero.empty());
    EXPECT_NE(cast.hero, cast.helper) << story;
    EXPECT_GE(count_word(story, cast.hero), 3u) << cast.hero << ": " << story;
    EXPECT_GE(count_word(story, cast.helper), 2u) << cast.helper << ": " << story;
    // The hero is introduced by name in the first two sentences.
    const std::string opening = first_sentence(story);
    const std::string two = first_sentence(story.substr(std::min(story.size(), opening.size() + 1)));
    EXPECT_GE(count_word(opening + " " + two, cast.hero), 1u) << story;
  }
}

TEST(StoryCorpus, PronounsFollowTheCast) {
  int both_she = 0, both_he = 0;
  for (int64_t n = 0; n < kCorpusSize; ++n) {
    const std::string& story = corpus()[static_cast<size_t>(n)];
    const tr::StoryCast cast = tr::story_cast(kSeed, n);
    if (cast.hero_is_female != cast.helper_is_female) continue;
    const std::set<std::string> wrong = cast.hero_is_female ? std::set<std::string>{"he", "his", "him", "himself"}
                                                            : std::set<std::string>{"she", "her", "herself"};
    (cast.hero_is_female ? both_she : both_he)++;
    for (const std::string& word : split_words(story)) EXPECT_EQ(wrong.count(bare_word(word)), 0u) << story;
  }
  EXPECT_GT(both_she, 100);
  EXPECT_GT(both_he, 100);
}

// Names aside: they are meant to be many (see the next test).
TEST(StoryCorpus, VocabularyIsSmallButNotTiny) {
  std::set<std::string> vocabulary;
  size_t total = 0;
  for (int64_t n = 0; n < kCorpusSize; ++n) {
    const tr::StoryCast cast = tr::story_cast(kSeed, n);
    for (const std::string& word : split_words(corpus()[static_cast<size_t>(n)])) {
      ++total;
      const std::string bare = bare_word(word);
      if (bare != bare_word(cast.hero) && bare != bare_word(cast.helper) && bare != bare_word(cast.hero) + "'s" &&
          bare != bare_word(cast.helper) + "'s")
        vocabulary.insert(bare);
    }
  }
  EXPECT_GE(vocabulary.size(), 500u);
  EXPECT_LE(vocabulary.size(), 3000u);
  const size_t mean = total / corpus().size();
  EXPECT_GE(mean, 90u);
  EXPECT_LE(mean, 200u);
}

// Most names are rare, so a model has to copy a character's name from its story: no name is more than 2% of
// the characters, most of them appear once in 2000 stories, and a name is never also a kind of character.
TEST(StoryCorpus, NamesAreManyAndRare) {
  std::map<std::string, int> uses;
  std::set<std::string> kinds;
  for (int64_t n = 0; n < kCorpusSize; ++n) {
    const tr::StoryCast cast = tr::story_cast(kSeed, n);
    ++uses[cast.hero];
    ++uses[cast.helper];
    kinds.insert(cast.hero_kind);
    kinds.insert(cast.helper_kind);
  }
  int once = 0;
  for (const auto& [name, count] : uses) {
    EXPECT_LE(count, 2 * kCorpusSize * 2 / 100) << name;
    EXPECT_EQ(kinds.count(bare_word(name)), 0u) << name;
    once += count == 1 ? 1 : 0;
  }
  EXPECT_GE(uses.size(), 1500u);
  EXPECT_GE(once, 1000);
}

// FNV-1a over stories 0..99 of seed 42: any change to the generator or its grammar changes it (and must be a
// deliberate one, since it changes the corpus the tiny model trains on).
TEST(StoryCorpus, OutputIsPinned) {
  EXPECT_EQ(first_sentence(tr::generate_story(42, 0)),
            "Once upon a time, there was a busy tiny pony named Teddy.");
  uint64_t hash = 0xCBF29CE484222325ull;
  for (const std::string& story : tr::generate_stories(42, 0, 100)) {
    for (char c : story) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
    hash = (hash ^ 0xFFu) * 0x100000001B3ull;
  }
  EXPECT_EQ(hash, 13669363452060660619ull);
}

}  // namespace
