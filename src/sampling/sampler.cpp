// Sampler chain: penalties -> top-k -> (greedy: argmax) -> temperature softmax -> top-p -> min-p ->
// renormalise -> seeded draw. Penalty arithmetic mirrors llama.cpp's llama_sampler_penalties_apply;
// top-p keeps the smallest prefix reaching p (min_keep = 1) and min-p keeps p >= min_p * p_max, as there.
//
// Stage order: llama.cpp's current default applies temperature after top-p/min-p; we scale first,
// so top-p and min-p see the distribution that is actually drawn from (as in HF transformers).

#include "sampling/sampler.h"

#include <algorithm>
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
  window_.clear();
  window_next_ = 0;
  counts_.clear();
  rng_.seed(params_.seed);
  kept_.clear();
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
// makes nth_element/partial_sort/sort give the same result with every standard library.
struct Better {
  template <typename C>
  bool operator()(const C& a, const C& b) const {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
};

}  // namespace

void Sampler::sort_prefix(size_t& sorted, size_t end) {
  // Invariant: [0, sorted) is in Better order and better than everything after it.
  if (end <= sorted) return;
  auto first = candidates_.begin() + static_cast<ptrdiff_t>(sorted);
  auto last = candidates_.begin() + static_cast<ptrdiff_t>(end);
  if (last != candidates_.end()) std::nth_element(first, last - 1, candidates_.end(), Better{});
  std::sort(first, last, Better{});
  sorted = end;
}

int32_t Sampler::sample(std::span<const float> logits) {
  const size_t n_vocab = logits.size();
  if (n_vocab == 0) fail("sampling: sample() got no logits");
  if (n_vocab > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("sampling: n_vocab {} does not fit a token id", n_vocab);
  }

  // Working copy, indexed by id until the first filter. NaN is treated as -inf.
  candidates_.resize(n_vocab);
  for (size_t i = 0; i < n_vocab; ++i) {
    const float l = logits[i];
    candidates_[i] = {static_cast<int32_t>(i), std::isnan(l) ? -kInf : l, 0.0f};
  }

  // 1. Penalties.
  if (penalties_active()) {
    for (const auto& [token, count] : counts_) {
      if (static_cast<size_t>(token) < n_vocab) {
        float& l = candidates_[static_cast<size_t>(token)].logit;
        l = penalise(l, count, params_);
      }
    }
  }

  // 2./3. Greedy: top-k never removes the first maximum, so argmax over everything is the answer.
  if (params_.temperature <= 0.0f) {
    size_t best = 0;
    for (size_t i = 1; i < n_vocab; ++i) {
      if (candidates_[i].logit > candidates_[best].logit) best = i;
    }
    return finish_single(static_cast<int32_t>(best));
  }

  const double u = next_uniform();  // drawn first: one draw per non-greedy call, whatever happens

  // Impossible tokens never take part (stable: id order is kept).
  candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                   [](const Candidate& c) { return c.logit == -kInf; }),
                    candidates_.end());
  if (candidates_.empty()) return finish_single(0);  // every token impossible: the greedy answer

  // 2. Top-k.
  size_t sorted = 0;
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < candidates_.size()) {
    const auto k = static_cast<size_t>(params_.top_k);
    if (k <= 256) {  // heap selection: for small k most elements cost one comparison
      std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(k),
                        candidates_.end(), Better{});
      sorted = k;
    } else {
      sort_prefix(sorted, k);
    }
    candidates_.resize(k);
  }

  // 4. Temperature-scaled softmax (unnormalised: the maximum gets p = 1; z is the sum).
  float max_logit = -kInf;
  if (sorted > 0) {
    max_logit = candidates_[0].logit;
  } else {
    for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
  }
  double z = 0.0;
  if (max_logit == kInf) {  // +inf logits share all the mass equally
    for (Candidate& c : candidates_) z += (c.p = c.logit == kInf ? 1.0f : 0.0f);
  } else {
    const float t = params_.temperature;
    for (Candidate& c : candidates_) z += (c.p = std::exp((c.logit - max_logit) / t));
  }

  // 6. Min-p (before top-p, see below), and tokens whose probability underflowed to 0. Both are
  // prefixes of the sorted order, so applying min-p first and then top-p with the full z keeps
  // the same set as top-p then min-p — and top-p then sorts only the survivors.
  const float min_p = std::max(params_.min_p, 0.0f);
  const size_t before = candidates_.size();
  candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                   [min_p](const Candidate& c) { return !(c.p > 0.0f && c.p >= min_p); }),
                    candidates_.end());
  if (sorted == before) sorted = candidates_.size();  // stable removal keeps a sorted list sorted
  else sorted = 0;

  // 5. Top-p: the smallest prefix of the sorted list whose probability reaches top_p (at least one
  // token). Sorted in growing chunks, so a peaked distribution never sorts the whole vocabulary.
  if (params_.top_p < 1.0f) {
    const double target = static_cast<double>(params_.top_p) * z;
    const size_t m = candidates_.size();
    double cum = 0.0;
    size_t keep = m;
    size_t chunk = 64;
    for (size_t i = 0; i < m && keep == m;) {
      const size_t end = std::min(m, i + chunk);
      sort_prefix(sorted, end);
      for (; i < end; ++i) {
        cum += candidates_[i].p;
        if (cum >= target) {
          keep = i + 1;
          break;
        }
      }
      chunk *= 4;
    }
    candidates_.resize(keep);
  }

  // 7./8. Renormalise and draw: walk the list until the cumulative mass passes u * total.
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
