// Sampler: turns one position's logits into a token id — penalties, top-k, temperature, top-p,
// min-p and a seeded draw. Semantics mirror llama.cpp's sampler chain (src/llama-sampling.cpp);
// the stage order is ours (temperature before top-p/min-p), see sampler.cpp for why it matters.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

#include "grammar/token_matcher.h"

namespace owl {

struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy (argmax, first maximum on ties)
  int32_t top_k = 40;           // <= 0: off
  float top_p = 0.95f;          // >= 1: off; 0 keeps only the most likely token
  float min_p = 0.05f;          // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off (llama.cpp: logit > 0 ? logit / p : logit * p)
  float presence_penalty = 0.0f;   // subtracted once from every token seen in the window
  float frequency_penalty = 0.0f;  // subtracted once per occurrence in the window
  int32_t penalty_last_n = 64;  // how many recent tokens the penalties look at; 0 off, -1 whole history
  uint64_t seed = 0xFFFFFFFF;   // used as given (never replaced by a random seed): same seed, same tokens
  // When set, only tokens that keep the output inside this grammar are drawn, and an end token only
  // where the output is a whole sentence of it.
  std::shared_ptr<const grammar::TokenGrammar> grammar;
};

// Throws owl::Error naming the first parameter out of range.
void validate(const SamplingParams& params);

// One token the last draw chose among, with its renormalised probability.
struct TokenProb {
  int32_t id;
  float p;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // logits: n_vocab floats for one position (not modified). NaN counts as -inf. Returns the chosen id.
  // Every non-greedy call consumes exactly one 64-bit draw from the RNG, so the stream depends only
  // on the seed and the number of such calls. Under a grammar the token drawn is checked first; only
  // when the grammar refuses it are all refused tokens masked and a second draw made (still a
  // function of the seed). The chosen token moves the grammar on. Throws owl::Error when the grammar allows
  // no token of the vocabulary.
  int32_t sample(std::span<const float> logits);

  // Records a token (prompt or generated) for the penalties. Ids at or above n_vocab are ignored
  // when sampling; a negative id throws.
  void accept(int32_t token);

  // Forgets the history and reseeds the RNG with params().seed.
  void reset();
  // Forgets the history only (the random stream goes on) and starts the grammar over: for a caller
  // that re-accepts a whole conversation each turn.
  void clear_history();
  // Under a grammar: whether the tokens sampled so far make a whole sentence of it.
  bool grammar_accepting() const { return !matcher_ || matcher_->accepting(); }

  // Applies the repeat/presence/frequency penalties of the current history to logits in place
  // (the first stage of sample(); public so callers and tests can see its effect).
  void apply_penalties(std::span<float> logits) const;

  // The tokens the last sample() chose among, after every filter, with renormalised probabilities,
  // in the order the draw walked them (descending probability when a filter sorted them, else by
  // id). A greedy call leaves only the chosen token, with p = 1. Valid until the next sample().
  std::span<const TokenProb> candidates() const { return kept_; }

  const SamplingParams& params() const { return params_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;  // unnormalised probability exp((logit - max) / T); the maximum is 1
  };

  bool penalties_active() const;
  double next_uniform();                     // [0, 1) from the top 53 bits of one draw
  void select_top_k(size_t k);               // candidates_ = the k best of work_, sorted
  void sort_top_p_prefix(double target);     // sort candidates_ enough to cut at mass target
  int32_t finish_single(int32_t id);
  int32_t choose(double u);  // the chain after the penalties, on work_
  SamplingParams params_;
  std::mt19937_64 rng_;  // the standard fixes its output sequence for a given seed

  // Penalty window: the last penalty_last_n accepted tokens (a ring) and their counts.
  std::vector<int32_t> window_;
  size_t window_next_ = 0;
  std::unordered_map<int32_t, int32_t> counts_;

  // Buffers reused between calls (no allocation once warmed up).
  std::vector<float> work_;  // (n_vocab) logits after penalties, NaN -> -inf
  std::vector<Candidate> candidates_;
  std::vector<TokenProb> kept_;
  std::unique_ptr<grammar::TokenMatcher> matcher_;  // the request's place in its grammar
};

}  // namespace owl
