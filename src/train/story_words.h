// The grammar behind train/story_corpus.h: word lists (names, kinds, places, objects) and sentence
// patterns with {key} slots that story_corpus.cpp fills in. Internal to the story generator; the lists are
// ordered, so a seed picks the same words everywhere. Changing any entry changes the corpus.
#pragma once

#include <vector>

namespace owl::train::story {

using Phrases = std::vector<const char*>;

enum class Gender { any, he, she };

struct Name {
  const char* text;
  Gender gender;  // any: fits a hero of either
};

// How a character of this kind is named in running text.
enum class Styling {
  the_kind,  // "Pip the fox"
  bare,      // "Mia" (a girl, a boy)
  title,     // "Princess Rose"
};

struct Kind {
  const char* text;  // "fox", "teddy bear"
  Gender gender;     // any, or the only pronoun that fits ("girl": she)
  const char* move;  // as in "came hopping by"
  Styling styling;
  const char* title;  // "Princess" for Styling::title, else ""
};

struct Trait {
  const char* adjective;  // "curious"
  const char* sentence;   // a sentence that shows it, about the hero
};

struct Place {
  const char* where;   // "in a big green forest": a phrase that can follow "lived"
  const char* name;    // "the forest": how later sentences name it
  const char* at;      // "in the forest", "on the farm"
  Phrases details;     // whole sentences that describe it
  Phrases activities;  // base-form verb phrases: "climb trees"
};

// The friend enters before the problem (early), after the hero's cry (late, as a friend or a stranger), or
// inside the problem's own setup sentences.
enum class Intro { early, late, late_stranger, in_setup };
// When the problem happens: any time, at night, or at a time its setup names itself.
enum class When { any, night, own };
// Whether the hero thanks the friend once it is solved (or the resolution already says it all).
enum class Thanks { from_hero, none };

struct Problem {
  const char* name;
  Intro intro;
  When when;
  Thanks thanks;
  bool paired;      // offer i goes with action i and resolve i (else each is drawn alone)
  bool spans_days;  // it takes days to solve, so the ending names no time of day
  Phrases setup;    // what goes wrong or what the hero wishes for (one or more sentences)
  Phrases cry;      // how it is felt or said
  Phrases offer;    // the idea or the offer of help
  Phrases action;   // what they do about it
  Phrases resolve;  // how it turns out
  Phrases morals;   // clauses that can follow "learned that"
};

struct Pair {
  const char* full;      // "a big red apple at the top of a tall tree"
  const char* definite;  // "the apple"
};

// Invented names ("Goomban", "Tallie"): onset + vowel + middle + ending, tens of thousands of them. Half the
// characters get one, so most names in the corpus are rare and a model must copy a name from the story instead of
// remembering a few favourites.
struct NameSyllables {
  Phrases onsets, vowels, middles, endings;
};

struct Grammar {
  std::vector<Name> names;
  NameSyllables invented;
  std::vector<Kind> kinds;
  std::vector<Trait> traits;
  Phrases sizes;
  std::vector<Place> places;
  std::vector<Problem> problems;
  Phrases colors, objects, toys, foods, skills, games, daytimes;
  std::vector<Pair> reach, critters;
  Phrases generic_activities;
  Phrases openings, time_openings;  // time_openings name the time of day themselves
  Phrases likes;
  Phrases transitions, transitions_after_time, transitions_night;
  Phrases intros_early, intros_late_friend, intros_late_stranger;
  Phrases thanks;
  Phrases endings, endings_day, endings_night;  // endings fit any story; the others one that ends by day, at night
  Phrases moral_forms;
};

// The one grammar (built on first use; safe to call from any thread).
const Grammar& grammar();

}  // namespace owl::train::story
