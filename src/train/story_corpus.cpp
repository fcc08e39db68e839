// The story generator (train/story_corpus.h): a splitmix64 stream seeded from (seed, index) picks a cast, a
// place and a problem from the grammar of story_words.cpp and fills its {key} slots; then "a"/"an" are set by
// the next word and every sentence gets its capital.
#include "train/story_corpus.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>

#include "train/story_words.h"

namespace owl::train {

namespace {

using story::Gender;
using story::Grammar;
using story::Intro;
using story::Kind;
using story::Name;
using story::Phrases;
using story::Problem;
using story::When;

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr size_t kMinWords = 60;
constexpr size_t kMaxWords = 220;
constexpr uint64_t kMaxAttempts = 16;  // a story outside the word range is redrawn (it almost never is)

// splitmix64's finalizer: a bijection of 64-bit words that spreads each input bit over the whole output.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A splitmix64 stream: tiny and fully specified, so it yields the same numbers everywhere.
class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}

  uint64_t next() {
    state_ += kGolden;
    return mix64(state_);
  }

  // Uniform in [0, n) for n > 0, by rejection: no modulo bias and no floating point.
  size_t below(size_t n) {
    const uint64_t m = n;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % m;  // a multiple of m
    uint64_t r = next();
    while (r >= limit) r = next();
    return static_cast<size_t>(r % m);
  }

  bool percent(size_t p) { return below(100) < p; }

 private:
  uint64_t state_;
};

template <typename T>
const T& pick(Rng& rng, const std::vector<T>& items) {
  return items[rng.below(items.size())];
}

uint64_t story_state(uint64_t seed, int64_t index) {
  return mix64(mix64(seed + kGolden) ^ mix64(static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ull + 1));
}

struct Character {
  std::string name;
  const Kind* kind = nullptr;
  bool she = false;
};

struct Cast {
  Character hero, helper;
};

bool fits(Gender g, bool she) { return g == Gender::any || (g == Gender::she) == she; }

bool is_kind_word(const std::string& name) {
  std::string lower = name;
  for (char& ch : lower) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  for (const Kind& k : story::grammar().kinds)
    if (lower == k.text) return true;
  return false;
}

// A name made of syllables ("Goomban"), never the other character's and never a kind ("Panda").
std::string invent_name(Rng& rng, const Character* other) {
  const story::NameSyllables& s = story::grammar().invented;
  for (;;) {
    std::string name = std::string(pick(rng, s.onsets)) + pick(rng, s.vowels) + pick(rng, s.middles) + pick(rng, s.endings);
    if ((other == nullptr || name != other->name) && !is_kind_word(name)) return name;
  }
}

// A character whose name and kind differ from `other`'s (when there is one).
Character draw_character(Rng& rng, const Character* other) {
  const Grammar& g = story::grammar();
  Character c;
  c.she = rng.below(2) == 1;
  std::vector<const Kind*> kinds;
  for (const Kind& k : g.kinds)
    if (fits(k.gender, c.she) && (other == nullptr || &k != other->kind)) kinds.push_back(&k);
  c.kind = pick(rng, kinds);
  if (rng.below(2) == 0) {
    c.name = invent_name(rng, other);
    return c;
  }
  std::vector<const Name*> names;
  for (const Name& n : g.names)
    if (fits(n.gender, c.she) && (other == nullptr || n.text != other->name)) names.push_back(&n);
  c.name = pick(rng, names)->text;
  return c;
}

Cast draw_cast(Rng& rng) {
  Cast cast;
  cast.hero = draw_character(rng, nullptr);
  cast.helper = draw_character(rng, &cast.hero);
  return cast;
}

// The name as running text styles it: "Pip the fox", "Mia", "Princess Rose".
std::string styled(const Character& c) {
  switch (c.kind->styling) {
    case story::Styling::bare:
      return c.name;
    case story::Styling::title:
      return std::string(c.kind->title) + " " + c.name;
    case story::Styling::the_kind:
      break;
  }
  return std::string(c.name) + " the " + c.kind->text;
}

// "brave little fox", "little fox" or "brave fox".
std::string describe(Rng& rng, const Kind& kind, const char* trait) {
  const Grammar& g = story::grammar();
  const char* size = pick(rng, g.sizes);
  switch (rng.below(3)) {
    case 0:
      return std::string(trait) + " " + size + " " + kind.text;
    case 1:
      return std::string(size) + " " + kind.text;
    default:
      return std::string(trait) + " " + kind.text;
  }
}

using Vars = std::map<std::string, std::string, std::less<>>;

// The slots of the hero ({H}, {Ht}, {he}, {his}, {him}, {himself}, {hkind}) or of the helper ({F}, {Ft}, {fhe}...).
void set_character(Vars& vars, bool hero, const Character& c) {
  const std::string p = hero ? "" : "f";
  vars[hero ? "H" : "F"] = c.name;
  vars[hero ? "Ht" : "Ft"] = styled(c);
  vars[hero ? "hkind" : "fkind"] = c.kind->text;
  vars[p + "he"] = c.she ? "she" : "he";
  vars[p + "his"] = c.she ? "her" : "his";
  vars[p + "him"] = c.she ? "her" : "him";
  vars[p + "himself"] = c.she ? "herself" : "himself";
}

// Appends `pattern` with each {key} replaced by its value (itself expanded). An unknown key stays as it is,
// braces and all, so the corpus tests catch it.
void expand_into(std::string& out, std::string_view pattern, const Vars& vars, int depth) {
  size_t i = 0;
  while (i < pattern.size()) {
    const size_t open = pattern.find('{', i);
    const size_t close = open == std::string_view::npos ? open : pattern.find('}', open);
    if (close == std::string_view::npos) {
      out.append(pattern.substr(i));
      return;
    }
    out.append(pattern.substr(i, open - i));
    const auto it = vars.find(pattern.substr(open + 1, close - open - 1));
    if (it == vars.end() || depth > 4)
      out.append(pattern.substr(open, close - open + 1));
    else
      expand_into(out, it->second, vars, depth + 1);
    i = close + 1;
  }
}

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

// "a" or "an" by the first letter of the next word (the grammar has no "unicorn" or "hour").
std::string fix_articles(const std::string& text) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    std::string& w = words[i];
    const size_t q = !w.empty() && w[0] == '"' ? 1 : 0;
    const std::string core = w.substr(q);
    if (core != "a" && core != "an" && core != "A" && core != "An") continue;
    const std::string& next = words[i + 1];
    const size_t nq = !next.empty() && next[0] == '"' ? 1 : 0;
    const char first = nq < next.size() ? static_cast<char>(next[nq] | 0x20) : 'x';
    const bool vowel = std::string_view("aeiou").find(first) != std::string_view::npos;
    w = w.substr(0, q) + (core[0] == 'A' ? "A" : "a") + (vowel ? "n" : "");
  }
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += ' ';
    out += words[i];
  }
  return out;
}

// Capitalizes the first letter of the story, of each sentence and of each quotation. A "!" or "?" that closes a
// quotation does not end the sentence ("Help!" cried Pip); a "." inside one does.
void fix_capitals(std::string& text) {
  bool in_quote = false;
  bool capital = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      in_quote = !in_quote;
      if (in_quote) capital = true;
    } else if (c == '.' || c == '!' || c == '?') {
      const bool closes = in_quote && i + 1 < text.size() && text[i + 1] == '"';
      capital = !closes || c == '.';
    } else if (c != ' ') {
      if (capital && is_lower(c)) text[i] = static_cast<char>(c - 'a' + 'A');
      capital = false;
    }
  }
}

size_t count_words(const std::string& text) {
  return text.empty() ? 0 : static_cast<size_t>(std::count(text.begin(), text.end(), ' ')) + 1;
}

// One item of `a` and `b` together, each equally likely.
const char* pick_either(Rng& rng, const Phrases& a, const Phrases& b) {
  const size_t k = rng.below(a.size() + b.size());
  return k < a.size() ? a[k] : b[k - a.size()];
}

// Two different items of `items`.
std::pair<const char*, const char*> pick_two(Rng& rng, const Phrases& items) {
  const size_t a = rng.below(items.size());
  const size_t b = (a + 1 + rng.below(items.size() - 1)) % items.size();
  return {items[a], items[b]};
}

std::string tell(const Cast& cast, Rng& rng) {
  const Grammar& g = story::grammar();
  const Problem& problem = pick(rng, g.problems);
  const story::Place& place = pick(rng, g.places);
  const story::Trait& trait = pick(rng, g.traits);

  Vars v;
  set_character(v, true, cast.hero);
  set_character(v, false, cast.helper);
  v["hdesc"] = describe(rng, *cast.hero.kind, trait.adjective);
  v["fdesc"] = describe(rng, *cast.helper.kind, pick(rng, g.traits).adjective);
  v["fmove"] = cast.helper.kind->move;
  v["where"] = place.where;
  v["place"] = place.name;
  v["atplace"] = place.at;
  Phrases activities = place.activities;
  activities.insert(activities.end(), g.generic_activities.begin(), g.generic_activities.end());
  std::tie(v["act"], v["act2"]) = pick_two(rng, activities);
  v["color"] = pick(rng, g.colors);
  v["obj"] = pick(rng, g.objects);
  v["toy"] = pick(rng, g.toys);
  v["food"] = pick(rng, g.foods);
  v["skill"] = pick(rng, g.skills);
  v["game"] = pick(rng, g.games);
  v["daytime"] = pick(rng, g.daytimes);
  const story::Pair& high = pick(rng, g.reach);
  v["high"] = high.full;
  v["thehigh"] = high.definite;
  const story::Pair& critter = pick(rng, g.critters);
  v["critter"] = critter.full;
  v["thecritter"] = critter.definite;
  v["moral"] = pick(rng, problem.morals);

  std::string pattern;
  const auto say = [&pattern](std::string_view sentence) {
    if (!pattern.empty()) pattern += ' ';
    pattern += sentence;
  };

  // The hero, the place and what the hero likes to do there.
  const bool timed = problem.when == When::any && rng.percent(25);
  say(pick(rng, timed ? g.time_openings : g.openings));
  if (rng.percent(60)) say(pick(rng, place.details));
  say(pick(rng, g.likes));
  if (rng.percent(50)) say(trait.sentence);
  if (problem.intro == Intro::early) say(pick(rng, g.intros_early));

  // The problem, and the friend if the friend comes now.
  std::string when;
  if (problem.when == When::night)
    when = pick(rng, g.transitions_night);
  else if (problem.when == When::any)
    when = pick(rng, timed ? g.transitions_after_time : g.transitions);
  std::string setup = pick(rng, problem.setup);
  if (!when.empty() && !setup.empty() && setup[0] >= 'A' && setup[0] <= 'Z')
    setup[0] = static_cast<char>(setup[0] | 0x20);
  say(when + setup);
  say(pick(rng, problem.cry));
  if (problem.intro == Intro::late_stranger) {
    say(pick(rng, g.intros_late_stranger));
  } else if (problem.intro == Intro::late) {
    say(pick_either(rng, g.intros_late_friend, g.intros_late_stranger));
  }

  // What they do, how it ends, and what the hero learned.
  if (problem.paired) {
    const size_t k = rng.below(std::max({problem.offer.size(), problem.action.size(), problem.resolve.size()}));
    say(problem.offer[k % problem.offer.size()]);
    say(problem.action[k % problem.action.size()]);
    say(problem.resolve[k % problem.resolve.size()]);
  } else {
    say(pick(rng, problem.offer));
    say(pick(rng, problem.action));
    say(pick(rng, problem.resolve));
  }
  if (problem.thanks == story::Thanks::from_hero && rng.percent(70)) say(pick(rng, g.thanks));
  if (rng.percent(70)) {
    if (problem.spans_days)
      say(pick(rng, g.endings));
    else
      say(pick_either(rng, g.endings, problem.when == When::night ? g.endings_night : g.endings_day));
  }
  say(pick(rng, g.moral_forms));

  std::string text;
  expand_into(text, pattern, v, 0);
  text = fix_articles(text);
  fix_capitals(text);
  return text;
}

}  // namespace

std::string generate_story(uint64_t seed, int64_t index) {
  Rng rng(story_state(seed, index));
  const Cast cast = draw_cast(rng);
  const uint64_t plot = rng.next();
  std::string text;
  for (uint64_t attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Rng plot_rng(mix64(plot + attempt * kGolden));
    text = tell(cast, plot_rng);
    const size_t words = count_words(text);
    if (words >= kMinWords && words <= kMaxWords) break;
  }
  return text;
}

std::vector<std::string> generate_stories(uint64_t seed, int64_t first, int64_t count) {
  std::vector<std::string> stories;
  if (count <= 0) return stories;
  stories.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) stories.push_back(generate_story(seed, first + i));
  return stories;
}

StoryCast story_cast(uint64_t seed, int64_t index) {
  Rng rng(story_state(seed, index));
  const Cast cast = draw_cast(rng);
  StoryCast out;
  out.hero = cast.hero.name;
  out.hero_kind = cast.hero.kind->text;
  out.hero_is_female = cast.hero.she;
  out.helper = cast.helper.name;
  out.helper_kind = cast.helper.kind->text;
  out.helper_is_female = cast.helper.she;
  return out;
}

}  // namespace owl::train
