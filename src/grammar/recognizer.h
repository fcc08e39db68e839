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
  StateId advance(StateId state, uint8_t byte);
  StateId advance(StateId state, std::string_view bytes);  // kDead as soon as a byte is refused
  // Whether the input so far is a whole sentence of the grammar.
  bool accepting(StateId state) const { return states_[state].accept && states_[state].utf8_left == 0; }
  // Whether some further input can be accepted.
  bool can_continue(StateId state) const { return !states_[state].tops.empty(); }

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

  uint32_t frame(uint32_t pos, uint32_t parent);
  void expand(uint32_t pos, uint32_t parent, Expansion& out);
  const Expansion& after(uint32_t top);  // past the character set on top of this frame
  StateId intern(State&& state);
  StateId step(const State& from, uint8_t byte);
  StateId match(const State& from, uint32_t cp);
  void clear_tables();

  std::shared_ptr<const Grammar> grammar_;
  std::vector<Frame> frames_;
  std::unordered_map<uint64_t, uint32_t> frame_ids_;
  std::vector<int32_t> after_index_;  // per frame: index into afters_, -1 before it is computed
  std::vector<Expansion> afters_;
  std::vector<State> states_;
  std::unordered_map<std::string, StateId> state_ids_;
  std::vector<std::unique_ptr<std::array<StateId, 256>>> transitions_;  // per state, made on first use
  StateId start_ = kDead;

  // expand()'s scratch, kept to avoid allocating per call.
  std::vector<std::pair<uint32_t, uint32_t>> work_;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace owl::grammar
