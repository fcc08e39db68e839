#include "grammar/recognizer.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "base/error.h"

namespace owl::grammar {

namespace {

uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t{a} << 32) | b; }

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xFF51AFD7ED558CCDull;
}

void sort_unique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Recognizer::Recognizer(std::shared_ptr<const Grammar> grammar) : grammar_(std::move(grammar)) {
  if (!grammar_) fail("grammar: no grammar given");
  for (const CharSet& set : grammar_->char_sets) {
    std::array<uint64_t, 2> bits{0, 0};
    for (uint32_t b = 0; b < 128; ++b)
      if (set.contains(b)) bits[b / 64] |= uint64_t{1} << (b % 64);
    set_ascii_.push_back(bits);
    // Surrogates are no characters: the rest is U+0080..U+D7FF and U+E000..U+10FFFF.
    const bool any = set.intersects(0x80, 0xD7FF) || set.intersects(0xE000, 0x10FFFF);
    CharSet complement = set;
    complement.negated = !set.negated;
    const bool all = !complement.intersects(0x80, 0xD7FF) && !complement.intersects(0xE000, 0x10FFFF);
    set_non_ascii_.push_back(all ? 1 : any ? -1 : 0);
  }
  clear_tables();
}

void Recognizer::clear_tables() {
  frames_.clear();
  frame_ids_.clear();
  after_index_.clear();
  afters_.clear();
  states_.clear();
  state_hashes_.clear();
  state_slots_.assign(1024, kUnknown);
  transitions_.clear();
  plains_.clear();
  plain_known_.clear();
  intern(State{});  // kDead: nothing live, not accepting
  // The start: every alternative of the root, above the bottom of the stack.
  Expansion e;
  for (uint32_t alt : grammar_->alternatives[grammar_->root]) expand(alt, kBottom, e);
  State s;
  s.tops = std::move(e.tops);
  s.accept = e.accept;
  sort_unique(s.tops);
  start_ = intern(s);
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

// Interns s (its tops sorted and unique): the id of an equal state if there is one, else a new id.
// Open addressing over the state ids, so that looking a state up allocates nothing.
Recognizer::StateId Recognizer::intern(const State& s) {
  uint64_t h = mix(mix(s.accept, s.utf8_left), (uint64_t{s.utf8_value} << 32) | s.utf8_min);
  for (uint32_t top : s.tops) h = mix(h, top);
  h ^= h >> 32;  // a product's low bits see only the factors' low bits: fold the high ones down
  const size_t mask = state_slots_.size() - 1;
  size_t slot = h & mask;
  for (; state_slots_[slot] != kUnknown; slot = (slot + 1) & mask) {
    const StateId id = state_slots_[slot];
    const State& o = states_[id];
    if (state_hashes_[id] == h && o.tops == s.tops && o.accept == s.accept && o.utf8_left == s.utf8_left &&
        o.utf8_value == s.utf8_value && o.utf8_min == s.utf8_min) {
      return id;
    }
  }
  const auto id = static_cast<StateId>(states_.size());
  states_.push_back(s);
  state_hashes_.push_back(h);
  transitions_.emplace_back();
  state_slots_[slot] = id;
  if (states_.size() * 2 > state_slots_.size()) {  // keep the table at most half full
    state_slots_.assign(state_slots_.size() * 2, kUnknown);
    const size_t grown = state_slots_.size() - 1;
    for (StateId i = 0; i < states_.size(); ++i) {
      size_t k = state_hashes_[i] & grown;
      while (state_slots_[k] != kUnknown) k = (k + 1) & grown;
      state_slots_[k] = i;
    }
  }
  return id;
}

Recognizer::StateId Recognizer::advance_new(StateId state, uint8_t byte) {
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
  State& next = scratch_;
  next.tops.clear();
  next.accept = false;
  next.utf8_left = 0, next.utf8_value = 0, next.utf8_min = 0;
  for (uint32_t top : from.tops) {
    if (!grammar_->char_sets[grammar_->elements[frames_[top].pos].index].contains(cp)) continue;
    const Expansion& e = after(top);
    next.tops.insert(next.tops.end(), e.tops.begin(), e.tops.end());
    next.accept = next.accept || e.accept;
  }
  sort_unique(next.tops);
  return intern(next);
}

Recognizer::StateId Recognizer::step(const State& from, uint8_t byte) {
  State& partial = scratch_;
  partial.tops.clear();
  partial.accept = false;
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
  return intern(partial);
}

// The next state depends only on which tops' sets hold the byte, so bytes with the same members
// go to the same state: the largest such group (with some member) is the plain set.
Recognizer::Plain Recognizer::plain_bytes(const State& s) const {
  Plain p;
  if (s.utf8_left != 0 || s.tops.empty() || s.tops.size() > 64) return p;
  uint64_t members[128];
  for (uint32_t b = 0; b < 128; ++b) {
    uint64_t m = 0;
    for (size_t i = 0; i < s.tops.size(); ++i) {
      const auto& ascii = set_ascii_[grammar_->elements[frames_[s.tops[i]].pos].index];
      m |= (ascii[b / 64] >> (b % 64) & 1) << i;
    }
    members[b] = m;
  }
  // Group the bytes by their members (few distinct groups in practice), keep the largest.
  struct Group {
    uint64_t members;
    uint64_t bytes[2];
    int count;
  };
  std::vector<Group> groups;
  for (uint32_t b = 0; b < 128; ++b) {
    if (members[b] == 0) continue;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.members == members[b]; });
    if (g == groups.end()) g = groups.insert(groups.end(), Group{members[b], {0, 0}, 0});
    g->bytes[b / 64] |= uint64_t{1} << (b % 64);
    ++g->count;
  }
  int best = 0;
  for (const Group& g : groups)
    if (g.count > best) best = g.count, p.bytes[0] = g.bytes[0], p.bytes[1] = g.bytes[1];
  if (best == 0) return p;
  // The other characters go the same way when each top holds all of them exactly if it holds the
  // plain bytes.
  const uint32_t b = p.bytes[0] != 0 ? static_cast<uint32_t>(std::countr_zero(p.bytes[0]))
                                     : 64 + static_cast<uint32_t>(std::countr_zero(p.bytes[1]));
  p.non_ascii = true;
  for (size_t i = 0; i < s.tops.size() && p.non_ascii; ++i) {
    const int8_t others = set_non_ascii_[grammar_->elements[frames_[s.tops[i]].pos].index];
    p.non_ascii = others == static_cast<int8_t>(members[b] >> i & 1);
  }
  return p;
}

// Whether no byte of p (and, if p takes them, no other character) continues from state.
bool Recognizer::dies_on(StateId state, const Plain& p) const {
  const State& s = states_[state];
  if (s.utf8_left != 0) return false;
  uint64_t live[2] = {0, 0};
  bool live_others = false;
  for (uint32_t top : s.tops) {
    const uint32_t set = grammar_->elements[frames_[top].pos].index;
    live[0] |= set_ascii_[set][0], live[1] |= set_ascii_[set][1];
    live_others = live_others || set_non_ascii_[set] != 0;
  }
  return (live[0] & p.bytes[0]) == 0 && (live[1] & p.bytes[1]) == 0 && !(p.non_ascii && live_others);
}

// run(s) = 1 + run(t) when t, where the plain bytes of s lead, takes at least those bytes too
// (so any input of them walks s, t, t', ...), else 1; a chain that comes back to a state it has
// passed loops forever. The run is exact when the state the chain ends in takes none of the bytes.
// Followed iteratively for at most 255 states.
const Recognizer::Plain& Recognizer::plain_new(StateId state) {
  auto known = [&](StateId s) { return s < plain_known_.size() && plain_known_[s]; };
  auto store = [&](StateId s, const Plain& p) {
    if (plains_.size() <= s) plains_.resize(states_.size()), plain_known_.resize(states_.size(), false);
    plains_[s] = p;
    plain_known_[s] = true;
  };
  std::vector<std::pair<StateId, Plain>> chain;
  uint16_t tail = 0;        // the run of the state after the chain's last
  bool tail_exact = false;  // and whether it is exact for the last one's bytes
  for (StateId s = state;;) {
    Plain p = plain_bytes(states_[s]);
    const bool empty = p.bytes[0] == 0 && p.bytes[1] == 0;
    if (empty) store(s, p);  // run 0
    if (empty || (!chain.empty() && !chain.back().second.within(p))) {
      tail_exact = !chain.empty() && dies_on(s, chain.back().second);
      break;
    }
    chain.emplace_back(s, p);
    const uint32_t b = p.bytes[0] != 0 ? static_cast<uint32_t>(std::countr_zero(p.bytes[0]))
                                       : 64 + static_cast<uint32_t>(std::countr_zero(p.bytes[1]));
    const StateId next = advance(s, static_cast<uint8_t>(b));
    chain.back().second.next = next;
    const Plain& last = chain.back().second;
    const auto again = std::find_if(chain.begin(), chain.end(), [&](const auto& c) { return c.first == next; });
    if (again != chain.end()) {  // a cycle: the sets only grow along it, so they are equal if next covers
      tail = last.within(again->second) ? kForever : 0;
      break;
    }
    if (known(next)) {
      const bool covers = last.within(plains_[next]);
      tail = covers ? plains_[next].run : 0;
      tail_exact = covers ? plains_[next].exact : dies_on(next, last);
      break;
    }
    if (chain.size() >= 255) break;  // runs of 255 and more read the same (no subtree is taller)
    s = next;
  }
  // The chain's states get their runs from the back; exactness carries over, the sets only grow.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    it->second.run = tail == kForever ? kForever : static_cast<uint16_t>(std::min<int>(tail + 1, kForever - 1));
    it->second.exact = tail != kForever && tail_exact;
    tail = it->second.run;
    store(it->first, it->second);
  }
  if (!known(state)) store(state, Plain{});
  return plains_[state];
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
  return intern(s);
}

}  // namespace owl::grammar
