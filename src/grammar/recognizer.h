// The incremental recognizer: a pushdown automaton over a Grammar, fed one byte at a time, built
// lazily into a deterministic automaton as it is used.
//
// A parse position is a stack of frames (element position, frame below), hash-consed so that equal
// stacks share one id; the top of every live stack is a character set. A state is the sorted set of
// live stack tops, whether the grammar may end here, and the UTF-8 sequence in progress (the
// grammar is over code points, tokens are bytes: a token may end in the middle of a character).
// States are interned and every (state, byte) transition is remembered, so once a path has been
// walked, walking it again costs one table lookup per byte.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "grammar/grammar.h"

namespace owl::grammar {

class Recognizer {
 public:
  using StateId = uint32_t;
  static constexpr StateId kDead = 0;  // no input can be accepted any more

  explicit Recognizer(std::shared_ptr<const Grammar> grammar);

  StateId start() const { return start_; }
  StateId advance(StateId state, uint8_t byte) {
    const auto* row = transitions_[state].get();
    if (row != nullptr && (*row)[byte] != kUnknown) return (*row)[byte];  // walked before: one lookup
    return advance_new(state, byte);
  }
  StateId advance(StateId state, std::string_view bytes);  // kDead as soon as a byte is refused
  // Whether the input so far is a whole sentence of the grammar.
  bool accepting(StateId state) const { return states_[state].accept && states_[state].utf8_left == 0; }
  // Whether some further input can be accepted.
  bool can_continue(StateId state) const { return !states_[state].tops.empty(); }

  // The ASCII bytes that all lead from a state to one live state (the largest such group: the
  // characters of a string, say), whether every other character does too, and for how many
  // characters any input made of them stays alive (kForever when the state loops on them), and
  // whether that is exact (a bounded string's remaining length). A mask takes whole vocabulary
  // subtrees with it, or their tokens up to a length.
  static constexpr uint16_t kForever = 0xFFFF;
  struct Plain {
    uint64_t bytes[2] = {0, 0};
    bool non_ascii = false;  // every code point from U+0080 up goes where the plain bytes go
    uint16_t run = 0;        // in characters
    bool exact = false;      // and any longer input of them dies: the run is all there is
    StateId next = kDead;    // where each of them leads
    // Whether every input this one takes is taken by other too.
    bool within(const Plain& other) const {
      return (bytes[0] & ~other.bytes[0]) == 0 && (bytes[1] & ~other.bytes[1]) == 0 && (!non_ascii || other.non_ascii);
    }
  };
  const Plain& plain(StateId state) {
    if (state < plains_.size() && plain_known_[state]) return plains_[state];
    return plain_new(state);
  }

  // The tables grow with every new state; compact() drops everything but `keep` (the current
  // state), which gets a new id. Ids of other states are invalid afterwards.
  size_t n_states() const { return states_.size(); }
  StateId compact(StateId keep);

  const Grammar& grammar() const { return *grammar_; }

 private:
  static constexpr uint32_t kBottom = 0xFFFFFFFFu;   // the frame below the root
  static constexpr StateId kUnknown = 0xFFFFFFFFu;  // transition not computed yet

  struct Frame {
    uint32_t pos;     // index into grammar.elements
    uint32_t parent;  // the frame below, or kBottom
  };
  struct State {
    std::vector<uint32_t> tops;  // frames whose element is a character set, sorted, unique
    bool accept = false;         // the grammar may end here
    uint8_t utf8_left = 0;       // continuation bytes still expected
    uint32_t utf8_value = 0;     // the code point's bits so far
    uint32_t utf8_min = 0;       // smallest code point of this length (overlong forms are refused)
  };
  // The frames (tops) and end flag reached by expanding a position until character sets.
  struct Expansion {
    std::vector<uint32_t> tops;
    bool accept = false;
  };

  StateId advance_new(StateId state, uint8_t byte);
  const Plain& plain_new(StateId state);
  Plain plain_bytes(const State& s) const;
  bool dies_on(StateId state, const Plain& p) const;
  uint32_t frame(uint32_t pos, uint32_t parent);
  void expand(uint32_t pos, uint32_t parent, Expansion& out);
  const Expansion& after(uint32_t top);  // past the character set on top of this frame
  StateId intern(const State& state);
  StateId step(const State& from, uint8_t byte);
  StateId match(const State& from, uint32_t cp);
  void clear_tables();

  std::shared_ptr<const Grammar> grammar_;
  std::vector<Frame> frames_;
  std::unordered_map<uint64_t, uint32_t> frame_ids_;
  std::vector<int32_t> after_index_;  // per frame: index into afters_, -1 before it is computed
  std::vector<Expansion> afters_;
  std::vector<State> states_;
  std::vector<uint64_t> state_hashes_;  // per state
  std::vector<StateId> state_slots_;    // open addressing over state ids (kUnknown: empty), a power of two
  std::vector<std::unique_ptr<std::array<StateId, 256>>> transitions_;  // per state, made on first use
  StateId start_ = kDead;

  // expand()'s scratch, kept to avoid allocating per call.
  std::vector<std::pair<uint32_t, uint32_t>> work_;
  std::unordered_set<uint64_t> seen_;
  State scratch_;  // the state being built by step() and match()
  std::vector<std::array<uint64_t, 2>> set_ascii_;  // per character set: its ASCII members
  std::vector<int8_t> set_non_ascii_;  // per character set: 1 holds every other code point, 0 none, -1 some
  std::vector<Plain> plains_;                       // per state, once plain() has been asked
  std::vector<bool> plain_known_;
};

}  // namespace owl::grammar
