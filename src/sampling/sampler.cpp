// Sampler chain: penalties -> top-k -> (greedy: argmax) -> temperature softmax -> top-p -> min-p ->
// renormalise -> seeded draw. Penalty arithmetic mirrors llama.cpp's llama_sampler_penalties_apply;
// top-p keeps the smallest prefix reaching p (min_keep = 1) and min-p keeps p >= min_p * p_max, as there.
//
// Stage order: llama.cpp's current default applies temperature after top-p/min-p; we scale first,
// so top-p and min-p see the distribution that is actually drawn from (as in HF transformers).

#include "sampling/sampler.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "base/error.h"

namespace owl {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// The penalty of one token seen `count` (> 0) times in the window, exactly as llama.cpp writes it.
float penalise(float logit, int32_t count, const SamplingParams& p) {
  if (p.repeat_penalty != 1.0f) {
    logit = logit <= 0.0f ? logit * p.repeat_penalty : logit / p.repeat_penalty;
  }
  return logit - (static_cast<float>(count) * p.frequency_penalty + p.presence_penalty);
}

}  // namespace

void validate(const SamplingParams& p) {
  if (!std::isfinite(p.temperature)) fail("sampling: temperature must be finite, got {}", p.temperature);
  if (std::isnan(p.top_p) || p.top_p < 0.0f) fail("sampling: top_p must be >= 0, got {}", p.top_p);
  if (std::isnan(p.min_p) || p.min_p > 1.0f) fail("sampling: min_p must be <= 1, got {}", p.min_p);
  if (!std::isfinite(p.repeat_penalty) || p.repeat_penalty <= 0.0f) {
    fail("sampling: repeat_penalty must be finite and > 0, got {}", p.repeat_penalty);
  }
  if (!std::isfinite(p.presence_penalty)) {
    fail("sampling: presence_penalty must be finite, got {}", p.presence_penalty);
  }
  if (!std::isfinite(p.frequency_penalty)) {
    fail("sampling: frequency_penalty must be finite, got {}", p.frequency_penalty);
  }
  if (p.penalty_last_n < -1) fail("sampling: penalty_last_n must be >= -1, got {}", p.penalty_last_n);
}

Sampler::Sampler(const SamplingParams& params) : params_(params) {
  validate(params_);
  if (params_.grammar) matcher_ = std::make_unique<grammar::TokenMatcher>(*params_.grammar);
  if (penalties_active() && params_.penalty_last_n > 0) {
    window_.reserve(static_cast<size_t>(std::min(params_.penalty_last_n, 4096)));
  }
  reset();
}

bool Sampler::penalties_active() const {
  return params_.penalty_last_n != 0 &&
         (params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
          params_.frequency_penalty != 0.0f);
}

void Sampler::reset() {
  clear_history();
  rng_.seed(params_.seed);
  kept_.clear();
}

void Sampler::clear_history() {
  if (matcher_) matcher_->reset();
  window_.clear();
  window_next_ = 0;
  counts_.clear();
}

void Sampler::accept(int32_t token) {
  if (token < 0) fail("sampling: accept() got negative token id {}", token);
  if (!penalties_active()) return;  // nothing would ever read the history
  ++counts_[token];
  if (params_.penalty_last_n < 0) return;  // whole history: counts only, nothing ever leaves
  const auto last_n = static_cast<size_t>(params_.penalty_last_n);
  if (window_.size() < last_n) {
    window_.push_back(token);
    return;
  }
  // Full ring: the oldest token leaves the window.
  const int32_t old = window_[window_next_];
  if (auto it = counts_.find(old); it != counts_.end() && --it->second == 0) counts_.erase(it);
  window_[window_next_] = token;
  window_next_ = (window_next_ + 1) % last_n;
}

void Sampler::apply_penalties(std::span<float> logits) const {
  if (!penalties_active()) return;
  // Each token is changed independently, so the map's iteration order does not matter.
  for (const auto& [token, count] : counts_) {
    if (static_cast<size_t>(token) < logits.size()) logits[token] = penalise(logits[token], count, params_);
  }
}

double Sampler::next_uniform() {
  // 53 random bits scaled by 2^-53: exact, and the same on every platform (unlike
  // std::uniform_real_distribution, whose algorithm the standard leaves open).
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

int32_t Sampler::finish_single(int32_t id) {
  kept_.clear();
  kept_.push_back({id, 1.0f});
  return id;
}

namespace {

// Strict total order: higher logit first, lower id first among equal logits. Being total, it
// makes nth_element/sort/heaps give the same result with every standard library.
struct Better {
  template <typename C>
  bool operator()(const C& a, const C& b) const {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
};

// Histogram bucket of a probability p in (0, 1]: the float's bits below those of 1.0, 8 buckets per
// power of two. Larger p -> smaller bucket (float bit patterns of positive values are monotone).
constexpr size_t kBuckets = 1024;
size_t bucket_of(float p) {
  const uint32_t drop = 0x3F800000u - std::bit_cast<uint32_t>(p);
  return std::min<size_t>(drop >> 20, kBuckets - 1);
}

}  // namespace

void Sampler::select_top_k(size_t k) {
  // Work is indexed by id. Small k: one pass with a bounded heap whose top is the worst kept token;
  // scanning ids upwards, a token enters only with a strictly larger logit than that top (an equal
  // logit has a larger id, so it is never better). Large k: nth_element over all tokens.
  candidates_.clear();
  const size_t n = work_.size();
  if (k <= 1024) {
    size_t i = 0;
    for (; i < n && candidates_.size() < k; ++i) {
      if (work_[i] != -kInf) {
        candidates_.push_back({static_cast<int32_t>(i), work_[i], 0.0f});
        std::push_heap(candidates_.begin(), candidates_.end(), Better{});
      }
    }
    float worst = candidates_.empty() ? kInf : candidates_.front().logit;
    for (; i < n; ++i) {
      if (work_[i] > worst) {
        std::pop_heap(candidates_.begin(), candidates_.end(), Better{});
        candidates_.back() = {static_cast<int32_t>(i), work_[i], 0.0f};
        std::push_heap(candidates_.begin(), candidates_.end(), Better{});
        worst = candidates_.front().logit;
      }
    }
    std::sort_heap(candidates_.begin(), candidates_.end(), Better{});
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (work_[i] != -kInf) candidates_.push_back({static_cast<int32_t>(i), work_[i], 0.0f});
  }
  if (k < candidates_.size()) {
    const auto kth = candidates_.begin() + static_cast<ptrdiff_t>(k);
    std::nth_element(candidates_.begin(), kth - 1, candidates_.end(), Better{});
    candidates_.resize(k);
  }
  std::sort(candidates_.begin(), candidates_.end(), Better{});
}

void Sampler::sort_top_p_prefix(double target) {
  // Only the prefix reaching `target` needs sorting. A histogram of the mass per probability bucket
  // finds the bucket where the cumulative mass crosses it; tokens in later buckets cannot be in the
  // prefix, so they are dropped before the sort.
  if (candidates_.size() > 2048) {
    std::array<double, kBuckets> mass{};
    for (const Candidate& c : candidates_) mass[bucket_of(c.p)] += c.p;
    double cum = 0.0;
    size_t last = kBuckets - 1;
    for (size_t b = 0; b < kBuckets; ++b) {
      cum += mass[b];
      if (cum >= target) {
        last = b;
        break;
      }
    }
    candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                     [last](const Candidate& c) { return bucket_of(c.p) > last; }),
                      candidates_.end());
  }
  std::sort(candidates_.begin(), candidates_.end(), Better{});
}

int32_t Sampler::sample(std::span<const float> logits) {
  const size_t n_vocab = logits.size();
  if (n_vocab == 0) fail("sampling: sample() got no logits");
  if (n_vocab > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("sampling: n_vocab {} does not fit a token id", n_vocab);
  }

  // Working copy indexed by id; NaN counts as -inf. (n_vocab)
  work_.resize(n_vocab);
  for (size_t i = 0; i < n_vocab; ++i) work_[i] = std::isnan(logits[i]) ? -kInf : logits[i];

  // 1. Penalties.
  apply_penalties(work_);

  const double u = params_.temperature <= 0.0f ? 0.0 : next_uniform();  // one draw per non-greedy call
  int32_t id = choose(u);
  if (matcher_) {
    if (!matcher_->allows(id)) {
      if (matcher_->mask(work_) == 0) fail("grammar: no token of the vocabulary can continue the output here");
      // A fresh draw: rejecting and redrawing this way samples the masked distribution exactly
      // (with top-k/top-p/min-p the first draw saw the unmasked candidates, as in llama.cpp).
      id = choose(params_.temperature <= 0.0f ? 0.0 : next_uniform());
      if (!matcher_->allows(id)) fail("grammar: every token the grammar allows has probability zero here");
    }
    matcher_->accept(id);
  }
  return id;
}

int32_t Sampler::choose(double u) {
  const size_t n_vocab = work_.size();
  // 2./3. Greedy: top-k never removes the first maximum, so the argmax over everything is the answer.
  if (params_.temperature <= 0.0f) {
    size_t best = 0;
    for (size_t i = 1; i < n_vocab; ++i) {
      if (work_[i] > work_[best]) best = i;
    }
    return finish_single(static_cast<int32_t>(best));
  }

  const float min_p = std::max(params_.min_p, 0.0f);
  const float t = params_.temperature;

  // 2. Top-k, then 4. the temperature-scaled softmax, unnormalised: p = exp((logit - max) / T), so
  // the maximum has p = 1 and z is the sum. +inf logits share all the mass equally. Tokens with
  // p = 0 (-inf, or underflow) never take part.
  //
  // 6. Min-p is applied here already: it keeps p >= min_p * p_max = min_p, a prefix of the sorted
  // order, as top-p keeps; applying it first and top-p then with the full z keeps the same set as
  // top-p then min-p, and top-p then sorts only the survivors.
  double z = 0.0;
  bool sorted = false;
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n_vocab) {
    select_top_k(static_cast<size_t>(params_.top_k));
    sorted = true;
    if (candidates_.empty()) return finish_single(0);  // every token impossible: the greedy answer
    const float max_logit = candidates_.front().logit;
    size_t m = 0;
    for (const Candidate& c : candidates_) {
      const float p = max_logit == kInf ? (c.logit == kInf ? 1.0f : 0.0f) : std::exp((c.logit - max_logit) / t);
      z += p;
      if (p > 0.0f && p >= min_p) candidates_[m++] = {c.id, c.logit, p};
    }
    candidates_.resize(m);
  } else {
    float max_logit = -kInf;
    for (float l : work_) max_logit = std::max(max_logit, l);
    if (max_logit == -kInf) return finish_single(0);
    candidates_.clear();
    for (size_t i = 0; i < n_vocab; ++i) {
      const float l = work_[i];
      if (l == -kInf) continue;
      const float p = max_logit == kInf ? (l == kInf ? 1.0f : 0.0f) : std::exp((l - max_logit) / t);
      z += p;
      if (p > 0.0f && p >= min_p) candidates_.push_back({static_cast<int32_t>(i), l, p});
    }
  }

  // 5. Top-p: the smallest prefix of the sorted list whose probability reaches top_p (at least one
  // token; if rounding keeps the sum below the target, every survivor stays).
  if (params_.top_p < 1.0f) {
    const double target = static_cast<double>(params_.top_p) * z;
    if (!sorted) sort_top_p_prefix(target);
    double cum = 0.0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      cum += candidates_[i].p;
      if (cum >= target) {
        candidates_.resize(i + 1);
        break;
      }
    }
  }

  // 7./8. Renormalise and draw: walk the list (sorted order, or id order when nothing sorted it)
  // until the cumulative mass passes u * total.
  double total = 0.0;
  for (const Candidate& c : candidates_) total += c.p;
  const double r = u * total;
  size_t pick = candidates_.size() - 1;  // rounding fallback: the last token with mass
  double cum = 0.0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    cum += candidates_[i].p;
    if (cum > r) {
      pick = i;
      break;
    }
  }

  kept_.resize(candidates_.size());
  for (size_t i = 0; i < candidates_.size(); ++i) {
    kept_[i] = {candidates_[i].id, static_cast<float>(candidates_[i].p / total)};
  }
  return candidates_[pick].id;
}

}  // namespace owl
