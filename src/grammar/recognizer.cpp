#include "grammar/recognizer.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"

namespace owl::grammar {

namespace {

uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t{a} << 32) | b; }

void sort_unique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Recognizer::Recognizer(std::shared_ptr<const Grammar> grammar) : grammar_(std::move(grammar)) {
  if (!grammar_) fail("grammar: no grammar given");
  clear_tables();
}

void Recognizer::clear_tables() {
  frames_.clear();
  frame_ids_.clear();
  after_index_.clear();
  afters_.clear();
  states_.clear();
  state_ids_.clear();
  transitions_.clear();
  intern(State{});  // kDead: nothing live, not accepting
  // The start: every alternative of the root, above the bottom of the stack.
  Expansion e;
  for (uint32_t alt : grammar_->alternatives[grammar_->root]) expand(alt, kBottom, e);
  State s;
  s.tops = std::move(e.tops);
  s.accept = e.accept;
  sort_unique(s.tops);
  start_ = intern(std::move(s));
}

uint32_t Recognizer::frame(uint32_t pos, uint32_t parent) {
  const auto [it, added] = frame_ids_.emplace(pair_key(pos, parent), static_cast<uint32_t>(frames_.size()));
  if (added) {
    frames_.push_back({pos, parent});
    after_index_.push_back(-1);
  }
  return it->second;
}

// Expands (pos, parent) until every path stops at a character set (a top) or empties the stack
// (the grammar may end). Iterative, with a seen-set: a position reached twice expands once, which
// bounds the work on ambiguous grammars (no left recursion is checked when the grammar is built).
void Recognizer::expand(uint32_t pos, uint32_t parent, Expansion& out) {
  const auto& elements = grammar_->elements;
  work_.clear();
  seen_.clear();
  work_.emplace_back(pos, parent);
  while (!work_.empty()) {
    const auto [p, below] = work_.back();
    work_.pop_back();
    if (!seen_.insert(pair_key(p, below)).second) continue;
    const Element& e = elements[p];
    switch (e.kind) {
      case Element::Kind::chars:
        out.tops.push_back(frame(p, below));
        break;
      case Element::Kind::end:
        if (below == kBottom) {
          out.accept = true;
        } else {
          work_.emplace_back(frames_[below].pos, frames_[below].parent);
        }
        break;
      case Element::Kind::rule: {
        // A reference that ends its alternative returns straight to the frame below (a tail call):
        // right-recursive loops (x* is R ::= x R | empty) then keep a constant stack, so a string
        // is the same state after every character and its transitions and mask are reused.
        const uint32_t ret = elements[p + 1].kind == Element::Kind::end ? below : frame(p + 1, below);
        for (uint32_t alt : grammar_->alternatives[e.index]) work_.emplace_back(alt, ret);
        break;
      }
    }
  }
}

const Recognizer::Expansion& Recognizer::after(uint32_t top) {
  if (after_index_[top] < 0) {
    Expansion e;
    expand(frames_[top].pos + 1, frames_[top].parent, e);
    sort_unique(e.tops);
    after_index_[top] = static_cast<int32_t>(afters_.size());
    afters_.push_back(std::move(e));
  }
  return afters_[static_cast<size_t>(after_index_[top])];
}

Recognizer::StateId Recognizer::intern(State&& s) {
  std::string key(s.tops.size() * 4 + 10, '\0');
  std::memcpy(key.data(), s.tops.data(), s.tops.size() * 4);
  char* tail = key.data() + s.tops.size() * 4;
  tail[0] = static_cast<char>(s.accept);
  tail[1] = static_cast<char>(s.utf8_left);
  std::memcpy(tail + 2, &s.utf8_value, 4);
  std::memcpy(tail + 6, &s.utf8_min, 4);
  const auto [it, added] = state_ids_.emplace(std::move(key), static_cast<StateId>(states_.size()));
  if (added) {
    states_.push_back(std::move(s));
    transitions_.emplace_back();
  }
  return it->second;
}

Recognizer::StateId Recognizer::advance(StateId state, uint8_t byte) {
  auto& table = transitions_[state];
  if (table && (*table)[byte] != kUnknown) return (*table)[byte];
  const StateId next = step(states_[state], byte);  // may grow states_ and transitions_
  auto& row = transitions_[state];
  if (!row) {
    row = std::make_unique<std::array<StateId, 256>>();
    row->fill(kUnknown);
  }
  (*row)[byte] = next;
  return next;
}

Recognizer::StateId Recognizer::advance(StateId state, std::string_view bytes) {
  for (char c : bytes) {
    state = advance(state, static_cast<uint8_t>(c));
    if (state == kDead) break;
  }
  return state;
}

Recognizer::StateId Recognizer::match(const State& from, uint32_t cp) {
  State next;
  for (uint32_t top : from.tops) {
    if (!grammar_->char_sets[grammar_->elements[frames_[top].pos].index].contains(cp)) continue;
    const Expansion& e = after(top);
    next.tops.insert(next.tops.end(), e.tops.begin(), e.tops.end());
    next.accept = next.accept || e.accept;
  }
  sort_unique(next.tops);
  return intern(std::move(next));
}

Recognizer::StateId Recognizer::step(const State& from, uint8_t byte) {
  State partial;
  if (from.utf8_left == 0) {
    if (byte < 0x80) return match(from, byte);
    // A lead byte: keep the stacks whose set meets some code point of this length and prefix.
    if ((byte & 0xE0) == 0xC0 && byte >= 0xC2) {
      partial.utf8_left = 1, partial.utf8_value = byte & 0x1Fu, partial.utf8_min = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      partial.utf8_left = 2, partial.utf8_value = byte & 0x0Fu, partial.utf8_min = 0x800;
    } else if ((byte & 0xF8) == 0xF0 && byte <= 0xF4) {
      partial.utf8_left = 3, partial.utf8_value = byte & 0x07u, partial.utf8_min = 0x10000;
    } else {
      return kDead;  // a continuation byte, or a lead byte no valid sequence starts with
    }
  } else {
    if ((byte & 0xC0) != 0x80) return kDead;
    const uint32_t value = (from.utf8_value << 6) | (byte & 0x3Fu);
    if (from.utf8_left == 1) {
      if (value < from.utf8_min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return kDead;
      return match(from, value);
    }
    partial.utf8_left = static_cast<uint8_t>(from.utf8_left - 1);
    partial.utf8_value = value;
    partial.utf8_min = from.utf8_min;
  }
  const unsigned shift = 6u * partial.utf8_left;
  const uint32_t lo = std::max(partial.utf8_value << shift, partial.utf8_min);
  const uint32_t hi = std::min((partial.utf8_value << shift) | ((1u << shift) - 1), 0x10FFFFu);
  if (lo > hi) return kDead;
  if (lo >= 0xD800 && hi <= 0xDFFF) return kDead;  // every completion would be a surrogate (ED A0..BF)
  for (uint32_t top : from.tops) {
    if (grammar_->char_sets[grammar_->elements[frames_[top].pos].index].intersects(lo, hi)) {
      partial.tops.push_back(top);
    }
  }
  if (partial.tops.empty()) return kDead;
  return intern(std::move(partial));
}

Recognizer::StateId Recognizer::compact(StateId keep) {
  // Copy the kept state's stacks out as (pos, parent chain) lists, rebuild, and re-intern them.
  State old = states_[keep];
  std::vector<std::vector<uint32_t>> chains;  // each: positions from the top frame down
  for (uint32_t top : old.tops) {
    std::vector<uint32_t> chain;
    for (uint32_t f = top; f != kBottom; f = frames_[f].parent) chain.push_back(frames_[f].pos);
    chains.push_back(std::move(chain));
  }
  clear_tables();
  State s;
  s.accept = old.accept;
  s.utf8_left = old.utf8_left;
  s.utf8_value = old.utf8_value;
  s.utf8_min = old.utf8_min;
  for (const auto& chain : chains) {
    uint32_t f = kBottom;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) f = frame(*it, f);
    s.tops.push_back(f);
  }
  sort_unique(s.tops);
  return intern(std::move(s));
}

}  // namespace owl::grammar
