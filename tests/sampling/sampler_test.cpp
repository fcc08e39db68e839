// Tests for owl::Sampler: each stage on hand-computed distributions, penalties against llama.cpp's
// formula, reproducibility of the seeded draw, and the empirical distribution of 100k draws.
// No model needed: the sampler sees only spans of floats.

#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "base/error.h"

namespace owl {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Every filter off, temperature 1: the draw follows softmax(logits).
SamplingParams plain(uint64_t seed = 1) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

SamplingParams greedy() {
  SamplingParams p = plain();
  p.temperature = 0.0f;
  return p;
}

// Logits whose softmax is exactly `probs` (up to float rounding).
std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> out;
  for (double q : probs) out.push_back(static_cast<float>(std::log(q)));
  return out;
}

std::map<int32_t, float> kept(const Sampler& s) {
  std::map<int32_t, float> out;
  for (const TokenProb& t : s.candidates()) out[t.id] = t.p;
  return out;
}

std::vector<float> random_logits(size_t n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 gen(seed);
  std::vector<float> out(n);
  for (float& x : out) x = scale * static_cast<float>(static_cast<double>(gen()) / 4294967296.0 * 2.0 - 1.0);
  return out;
}

// ---- greedy ---------------------------------------------------------------------------------

TEST(Sampler, GreedyPicksFirstMaximum) {
  Sampler s(greedy());
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 3.0f, 3.0f, 2.0f}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{5.0f, 5.0f}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{-1.0f, -3.0f, -0.5f}), 2);
  ASSERT_EQ(s.candidates().size(), 1u);
  EXPECT_EQ(s.candidates()[0].id, 2);
  EXPECT_EQ(s.candidates()[0].p, 1.0f);

  SamplingParams negative = greedy();
  negative.temperature = -1.0f;  // negative temperature is greedy too
  Sampler n(negative);
  EXPECT_EQ(n.sample(std::vector<float>{0.0f, 7.0f, 7.0f}), 1);
}

TEST(Sampler, GreedyTreatsNaNAsMinusInfinity) {
  Sampler s(greedy());
  EXPECT_EQ(s.sample(std::vector<float>{kNaN, -kInf, 2.0f, kNaN}), 2);
  EXPECT_EQ(s.sample(std::vector<float>{-kInf, -kInf, -kInf}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{kNaN, kNaN}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{kNaN, -kInf, -1e30f}), 2);
}

TEST(Sampler, TopKOneEqualsGreedyAtAnyTemperature) {
  for (float temp : {0.1f, 0.8f, 1.0f, 5.0f, 100.0f}) {
    SamplingParams p = plain(42);
    p.temperature = temp;
    p.top_k = 1;
    Sampler s(p);
    Sampler g(greedy());
    for (uint32_t trial = 0; trial < 50; ++trial) {
      std::vector<float> logits = random_logits(1000, trial);
      logits[trial * 7] = logits[trial * 13 + 1] = 10.0f;  // a tie: the lower id must win
      EXPECT_EQ(s.sample(logits), g.sample(logits)) << "temperature " << temp << " trial " << trial;
      EXPECT_EQ(s.sample(logits), static_cast<int32_t>(std::min(trial * 7, trial * 13 + 1)));
    }
  }
}

// ---- degenerate inputs ------------------------------------------------------------------------

TEST(Sampler, SingleTokenVocabulary) {
  for (const SamplingParams& p : {plain(), greedy(), SamplingParams{}}) {
    Sampler s(p);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(s.sample(std::vector<float>{-3.0f}), 0);
    EXPECT_EQ(s.sample(std::vector<float>{kNaN}), 0);
  }
}

TEST(Sampler, AllEqualLogitsAreUniformAndTopKBreaksTiesByLowerId) {
  const std::vector<float> flat(10, 0.25f);
  SamplingParams p = plain();
  Sampler s(p);
  s.sample(flat);
  auto k = kept(s);
  ASSERT_EQ(k.size(), 10u);
  for (const auto& [id, q] : k) EXPECT_NEAR(q, 0.1f, 1e-6f) << id;

  p.top_k = 4;
  Sampler t(p);
  for (int i = 0; i < 100; ++i) EXPECT_LT(t.sample(flat), 4);
  k = kept(t);
  ASSERT_EQ(k.size(), 4u);
  for (int32_t id = 0; id < 4; ++id) EXPECT_NEAR(k[id], 0.25f, 1e-6f);
}

TEST(Sampler, MinusInfinityAndNaNAreNeverDrawn) {
  std::vector<float> logits{kNaN, 1.0f, -kInf, 1.0f, kNaN, -kInf};
  Sampler s(plain(3));
  for (int i = 0; i < 2000; ++i) {
    const int32_t id = s.sample(logits);
    EXPECT_TRUE(id == 1 || id == 3) << id;
  }
  // Everything impossible: the greedy answer, deterministically.
  EXPECT_EQ(s.sample(std::vector<float>{-kInf, kNaN, -kInf}), 0);
}

TEST(Sampler, PlusInfinityTakesAllTheMass) {
  std::vector<float> logits{0.0f, kInf, 1e30f, kInf};
  Sampler s(plain(5));
  std::map<int32_t, int> seen;
  for (int i = 0; i < 2000; ++i) ++seen[s.sample(logits)];
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_GT(seen[1], 800);
  EXPECT_GT(seen[3], 800);
}

// ---- each filter on a hand-computed distribution ---------------------------------------------

TEST(Sampler, TemperatureScalesLogits) {
  // softmax([0, ln 4] / 2) = softmax([0, ln 2]) = {1/3, 2/3}.
  SamplingParams p = plain();
  p.temperature = 2.0f;
  Sampler s(p);
  s.sample(std::vector<float>{0.0f, std::log(4.0f)});
  auto k = kept(s);
  EXPECT_NEAR(k[0], 1.0f / 3.0f, 1e-6f);
  EXPECT_NEAR(k[1], 2.0f / 3.0f, 1e-6f);

  // T = 0.5 squares the ratios: {1, 4} -> {1, 16}.
  p.temperature = 0.5f;
  Sampler c(p);
  c.sample(std::vector<float>{0.0f, std::log(4.0f)});
  k = kept(c);
  EXPECT_NEAR(k[0], 1.0f / 17.0f, 1e-6f);
  EXPECT_NEAR(k[1], 16.0f / 17.0f, 1e-6f);
}

TEST(Sampler, TopKKeepsTheKLargestRenormalised) {
  // Shuffled ids so the filter has to find them.
  const std::vector<double> probs{0.05, 0.4, 0.1, 0.3, 0.15};
  SamplingParams p = plain();
  p.top_k = 2;
  Sampler s(p);
  s.sample(logits_of(probs));
  auto k = kept(s);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_NEAR(k[1], 0.4 / 0.7, 1e-6);
  EXPECT_NEAR(k[3], 0.3 / 0.7, 1e-6);
  // Walk order is descending probability.
  EXPECT_EQ(s.candidates()[0].id, 1);

  p.top_k = 100;  // larger than the vocabulary: off
  Sampler all(p);
  all.sample(logits_of(probs));
  EXPECT_EQ(all.candidates().size(), 5u);
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingP) {
  // Sorted: 0.5 (id 3), 0.2 (id 0), 0.15 (id 4), 0.1 (id 1), 0.05 (id 2).
  const std::vector<double> probs{0.2, 0.1, 0.05, 0.5, 0.15};
  auto run = [&](float top_p) {
    SamplingParams p = plain();
    p.top_p = top_p;
    Sampler s(p);
    s.sample(logits_of(probs));
    return kept(s);
  };
  auto k = run(0.8f);  // 0.5 + 0.2 = 0.7 < 0.8 <= 0.85
  ASSERT_EQ(k.size(), 3u);
  EXPECT_NEAR(k[3], 0.5 / 0.85, 1e-6);
  EXPECT_NEAR(k[0], 0.2 / 0.85, 1e-6);
  EXPECT_NEAR(k[4], 0.15 / 0.85, 1e-6);

  EXPECT_EQ(run(0.45f).size(), 1u);  // the top token alone reaches it
  EXPECT_EQ(run(0.0f).size(), 1u);   // at least one token survives
  EXPECT_EQ(run(0.9f).size(), 4u);
  EXPECT_EQ(run(0.999f).size(), 5u);
  EXPECT_EQ(run(1.0f).size(), 5u);  // off
}

TEST(Sampler, TopPOnLargeFlatVocabularyWithTies) {
  // 5000 tokens: 1000 of weight 4 at scattered ids, 4000 of weight 1; z = 8000. top_p = 0.6 needs
  // 4800 of mass: all 1000 heavy ones (4000) plus 800 light ones, taken lowest id first.
  const size_t n = 5000;
  std::vector<float> logits(n, 0.0f);
  for (size_t i = 0; i < 1000; ++i) logits[(i * 7919) % n] = std::log(4.0f);
  SamplingParams p = plain();
  p.top_p = 0.6f;
  Sampler s(p);
  s.sample(logits);
  auto k = kept(s);
  EXPECT_NEAR(static_cast<double>(k.size()), 1800.0, 1.0);  // float sums may land on either side
  size_t heavy = 0;
  for (const auto& [id, q] : k) heavy += logits[static_cast<size_t>(id)] > 0.0f;
  EXPECT_EQ(heavy, 1000u);
  // Walk order: non-increasing probability.
  for (size_t i = 1; i < s.candidates().size(); ++i) {
    EXPECT_GE(s.candidates()[i - 1].p, s.candidates()[i].p);
  }
}

TEST(Sampler, MinPKeepsTokensAboveFractionOfMax) {
  const std::vector<double> probs{0.08, 0.4, 0.1, 0.3, 0.12};
  SamplingParams p = plain();
  p.min_p = 0.26f;  // threshold 0.104: keeps 0.4, 0.3, 0.12
  Sampler s(p);
  s.sample(logits_of(probs));
  auto k = kept(s);
  ASSERT_EQ(k.size(), 3u);
  EXPECT_NEAR(k[1], 0.4 / 0.82, 1e-6);
  EXPECT_NEAR(k[3], 0.3 / 0.82, 1e-6);
  EXPECT_NEAR(k[4], 0.12 / 0.82, 1e-6);

  p.min_p = 1.0f;  // only the maximum
  Sampler one(p);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(one.sample(logits_of(probs)), 1);
}

TEST(Sampler, MinPUsesTemperatureScaledProbabilities) {
  // p ratio to max is 0.25 at T = 1 and 0.5 at T = 2: min_p = 0.4 drops it only at T = 1.
  const std::vector<float> logits{std::log(4.0f), 0.0f};
  SamplingParams p = plain();
  p.min_p = 0.4f;
  Sampler cold(p);
  cold.sample(logits);
  EXPECT_EQ(cold.candidates().size(), 1u);
  p.temperature = 2.0f;
  Sampler warm(p);
  warm.sample(logits);
  EXPECT_EQ(warm.candidates().size(), 2u);
}

TEST(Sampler, TopPAppliesAfterTopK) {
  // Top-k = 2 renormalises {0.4, 0.3} to {0.571, 0.429}: top_p = 0.5 then keeps one token.
  // Without top-k, 0.4 < 0.5 and two tokens are kept.
  const std::vector<double> probs{0.1, 0.3, 0.4, 0.2};
  SamplingParams p = plain();
  p.top_p = 0.5f;
  Sampler no_k(p);
  no_k.sample(logits_of(probs));
  EXPECT_EQ(no_k.candidates().size(), 2u);
  p.top_k = 2;
  Sampler with_k(p);
  with_k.sample(logits_of(probs));
  ASSERT_EQ(with_k.candidates().size(), 1u);
  EXPECT_EQ(with_k.candidates()[0].id, 2);
}

TEST(Sampler, TopPAndMinPTogetherKeepTheShorterPrefix) {
  const std::vector<double> probs{0.5, 0.2, 0.15, 0.1, 0.05};
  SamplingParams p = plain();
  p.top_p = 0.8f;   // alone: 3 tokens
  p.min_p = 0.35f;  // alone: p >= 0.175, 2 tokens
  Sampler a(p);
  a.sample(logits_of(probs));
  EXPECT_EQ(a.candidates().size(), 2u);
  p.top_p = 0.6f;   // alone: 2 tokens
  p.min_p = 0.15f;  // alone: p >= 0.075, 4 tokens
  Sampler b(p);
  b.sample(logits_of(probs));
  auto k = kept(b);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_NEAR(k[0], 0.5 / 0.7, 1e-6);
}

TEST(Sampler, TopKMatchesBruteForceWithTies) {
  // Integer logits in a small range: many ties, which must go to the lower id. k <= 1024 takes the
  // heap path, larger k the nth_element path; both must equal a full sort.
  std::mt19937 gen(5);
  std::vector<float> logits(20000);
  for (float& x : logits) x = static_cast<float>(gen() % 50);
  logits[17] = -kInf;
  logits[18] = kNaN;
  std::vector<int32_t> order(logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const float la = std::isnan(logits[a]) ? -kInf : logits[a];
    const float lb = std::isnan(logits[b]) ? -kInf : logits[b];
    return la > lb;
  });
  for (int32_t k : {1, 5, 100, 1024, 1025, 5000}) {
    SamplingParams p = plain();
    p.top_k = k;
    Sampler s(p);
    s.sample(logits);
    ASSERT_EQ(s.candidates().size(), static_cast<size_t>(k));
    for (int32_t i = 0; i < k; ++i) ASSERT_EQ(s.candidates()[i].id, order[i]) << "k " << k << " rank " << i;
  }
}

TEST(Sampler, TopPMatchesBruteForceOnLargeVocabulary) {
  // Top-k off: top-p prunes by a probability histogram before sorting; the kept set must equal the
  // smallest prefix of the fully sorted distribution.
  const std::vector<float> logits = random_logits(50000, 21, 6.0f);
  float max_logit = -kInf;
  for (float l : logits) max_logit = std::max(max_logit, l);
  std::vector<std::pair<float, int32_t>> ref;  // (p, id) computed as the sampler does
  double z = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float q = std::exp((logits[i] - max_logit) / 0.7f);
    z += q;
    ref.emplace_back(q, static_cast<int32_t>(i));
  }
  // Sorted by logit (then id), the sampler's order: distinct logits may round to one float p.
  std::sort(ref.begin(), ref.end(), [&](const auto& a, const auto& b) {
    const float la = logits[static_cast<size_t>(a.second)], lb = logits[static_cast<size_t>(b.second)];
    return la > lb || (la == lb && a.second < b.second);
  });
  for (float top_p : {0.1f, 0.5f, 0.9f, 0.99f}) {
    size_t expect = ref.size();
    double cum = 0.0;
    for (size_t i = 0; i < ref.size(); ++i) {
      cum += ref[i].first;
      if (cum >= top_p * z) {
        expect = i + 1;
        break;
      }
    }
    SamplingParams p = plain();
    p.temperature = 0.7f;
    p.top_p = top_p;
    Sampler s(p);
    s.sample(logits);
    ASSERT_EQ(s.candidates().size(), expect) << "top_p " << top_p;
    for (size_t i = 0; i < expect; ++i) ASSERT_EQ(s.candidates()[i].id, ref[i].second) << i;
  }
}

// ---- penalties ---------------------------------------------------------------------------------

TEST(Sampler, PenaltiesFollowLlamaCppFormula) {
  SamplingParams p = plain();
  p.repeat_penalty = 2.0f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  Sampler s(p);
  for (int32_t t : {0, 1, 0, 3}) s.accept(t);
  std::vector<float> logits{2.0f, -2.0f, 0.0f, 1.0f, 3.0f};
  s.apply_penalties(logits);
  EXPECT_FLOAT_EQ(logits[0], 2.0f / 2.0f - (2 * 0.25f + 0.5f));  // seen twice, positive: divided
  EXPECT_FLOAT_EQ(logits[1], -2.0f * 2.0f - (0.25f + 0.5f));     // negative: multiplied
  EXPECT_FLOAT_EQ(logits[2], 0.0f);                              // never seen: untouched
  EXPECT_FLOAT_EQ(logits[3], 1.0f / 2.0f - (0.25f + 0.5f));
  EXPECT_FLOAT_EQ(logits[4], 3.0f);
}

TEST(Sampler, PenaltiesChangeTheGreedyChoice) {
  SamplingParams p = greedy();
  p.repeat_penalty = 1.5f;
  Sampler s(p);
  const std::vector<float> logits{3.0f, 2.5f, 1.0f};
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 1);  // 3 / 1.5 = 2 < 2.5
  s.accept(1);
  EXPECT_EQ(s.sample(logits), 0);  // 2 > 2.5 / 1.5
  s.reset();
  EXPECT_EQ(s.sample(logits), 0);  // history forgotten

  // Same effect through the draw: with top_k = 1 the penalised token can never come out.
  SamplingParams q = plain(9);
  q.top_k = 1;
  q.presence_penalty = 1.0f;
  Sampler d(q);
  d.accept(0);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(d.sample(logits), 1);
}

TEST(Sampler, PenaltyWindowLooksAtLastNTokens) {
  const std::vector<float> zeros(4, 0.0f);
  auto penalised = [&](int32_t last_n, const std::vector<int32_t>& history) {
    SamplingParams p = plain();
    p.presence_penalty = 1.0f;
    p.frequency_penalty = 10.0f;
    p.penalty_last_n = last_n;
    Sampler s(p);
    for (int32_t t : history) s.accept(t);
    std::vector<float> l = zeros;
    s.apply_penalties(l);
    return l;
  };
  // last_n = 2: only the final two tokens (1 and 2) count.
  EXPECT_EQ(penalised(2, {0, 0, 1, 2}), (std::vector<float>{0.0f, -11.0f, -11.0f, 0.0f}));
  // Ring wrap with repeats: last 3 of {0,1,1,3,1} are {1,3,1}.
  EXPECT_EQ(penalised(3, {0, 1, 1, 3, 1}), (std::vector<float>{0.0f, -21.0f, 0.0f, -11.0f}));
  // 0: off. -1: the whole history.
  EXPECT_EQ(penalised(0, {0, 1, 2}), zeros);
  EXPECT_EQ(penalised(-1, {0, 0, 0, 3}), (std::vector<float>{-31.0f, 0.0f, 0.0f, -11.0f}));
  // Ids beyond the vocabulary are ignored.
  EXPECT_EQ(penalised(-1, {7, 100000}), zeros);
}

TEST(Sampler, PenaltiesOffLeaveLogitsUntouched) {
  Sampler s(plain());
  for (int32_t t : {0, 1, 2}) s.accept(t);
  std::vector<float> l{1.0f, -1.0f, 2.0f};
  s.apply_penalties(l);
  EXPECT_EQ(l, (std::vector<float>{1.0f, -1.0f, 2.0f}));
}

// ---- the seeded draw ---------------------------------------------------------------------------

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferent) {
  const std::vector<float> logits = random_logits(32000, 7, 2.0f);
  auto run = [&](uint64_t seed) {
    SamplingParams p;  // defaults: top-k 40, top-p 0.95, min-p 0.05, T 0.8
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 200; ++i) out.push_back(s.sample(logits));
    return out;
  };
  const auto a = run(1234);
  EXPECT_EQ(a, run(1234));
  EXPECT_NE(a, run(1235));

  // reset() reseeds: the sequence starts over.
  SamplingParams p;
  p.seed = 1234;
  Sampler s(p);
  for (int i = 0; i < 50; ++i) s.sample(logits);
  s.reset();
  std::vector<int32_t> again;
  for (int i = 0; i < 200; ++i) again.push_back(s.sample(logits));
  EXPECT_EQ(a, again);
}

TEST(Sampler, DrawUsesTop53BitsOfMt19937_64) {
  // With k equal logits the pick is floor(u * k), u = (x >> 11) * 2^-53 for the next 64-bit output
  // x of std::mt19937_64 — a sequence the C++ standard fixes, so this holds on every platform.
  const uint64_t seed = 0xFFFFFFFF;
  std::mt19937_64 ref(seed);
  SamplingParams p = plain(seed);
  Sampler s(p);
  const std::vector<float> flat(7, 1.0f);
  for (int i = 0; i < 1000; ++i) {
    const double u = static_cast<double>(ref() >> 11) * 0x1.0p-53;
    ASSERT_EQ(s.sample(flat), static_cast<int32_t>(u * 7.0)) << "draw " << i;
  }
  // The standard's own check value: the 10000th output for the default seed.
  std::mt19937_64 check;
  check.discard(9999);
  EXPECT_EQ(check(), 9981545732273789042ull);
}

TEST(Sampler, EmpiricalDistributionMatches) {
  const std::vector<double> probs{0.4, 0.25, 0.15, 0.1, 0.06, 0.04};
  const int draws = 100000;
  Sampler s(plain(2024));
  std::vector<int> counts(probs.size(), 0);
  const std::vector<float> logits = logits_of(probs);
  for (int i = 0; i < draws; ++i) ++counts[static_cast<size_t>(s.sample(logits))];
  double chi2 = 0.0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double freq = static_cast<double>(counts[i]) / draws;
    EXPECT_NEAR(freq, probs[i], 0.01) << "token " << i;
    const double expected = probs[i] * draws;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  EXPECT_LT(chi2, 20.52);  // 5 degrees of freedom, p = 0.001
}

TEST(Sampler, EmpiricalDistributionAfterFilters) {
  // Top-k 3 then temperature 0.5: weights 0.4^2, 0.25^2, 0.15^2 renormalised.
  const std::vector<double> probs{0.15, 0.04, 0.4, 0.1, 0.25, 0.06};
  SamplingParams p = plain(77);
  p.top_k = 3;
  p.temperature = 0.5f;
  Sampler s(p);
  std::vector<int> counts(probs.size(), 0);
  const int draws = 100000;
  const std::vector<float> logits = logits_of(probs);
  for (int i = 0; i < draws; ++i) ++counts[static_cast<size_t>(s.sample(logits))];
  const double z = 0.4 * 0.4 + 0.25 * 0.25 + 0.15 * 0.15;
  EXPECT_NEAR(static_cast<double>(counts[2]) / draws, 0.16 / z, 0.01);
  EXPECT_NEAR(static_cast<double>(counts[4]) / draws, 0.0625 / z, 0.01);
  EXPECT_NEAR(static_cast<double>(counts[0]) / draws, 0.0225 / z, 0.01);
  EXPECT_EQ(counts[1] + counts[3] + counts[5], 0);
}

TEST(Sampler, LargeVocabularyWithDefaults) {
  const std::vector<float> logits = random_logits(256000, 11, 8.0f);
  Sampler s(SamplingParams{});
  for (int i = 0; i < 20; ++i) {
    const int32_t id = s.sample(logits);
    ASSERT_GE(id, 0);
    ASSERT_LT(id, 256000);
    EXPECT_LE(s.candidates().size(), 40u);
    float sum = 0.0f;
    for (const TokenProb& t : s.candidates()) sum += t.p;
    EXPECT_NEAR(sum, 1.0f, 1e-5f);
  }
  // Top-k off, top-p on: the chunked sort path over the whole vocabulary.
  SamplingParams p;
  p.top_k = 0;
  p.min_p = 0.0f;
  Sampler t(p);
  const int32_t id = t.sample(logits);
  EXPECT_GE(id, 0);
  for (size_t i = 1; i < t.candidates().size(); ++i) EXPECT_GE(t.candidates()[i - 1].p, t.candidates()[i].p);
}

// ---- validation --------------------------------------------------------------------------------

TEST(Sampler, RejectsBadParameters) {
  auto bad = [](auto change) {
    SamplingParams p;
    change(p);
    EXPECT_THROW(Sampler{p}, Error);
  };
  bad([](SamplingParams& p) { p.top_p = -0.1f; });
  bad([](SamplingParams& p) { p.top_p = kNaN; });
  bad([](SamplingParams& p) { p.min_p = 1.5f; });
  bad([](SamplingParams& p) { p.min_p = kNaN; });
  bad([](SamplingParams& p) { p.repeat_penalty = 0.0f; });
  bad([](SamplingParams& p) { p.repeat_penalty = -1.0f; });
  bad([](SamplingParams& p) { p.repeat_penalty = kInf; });
  bad([](SamplingParams& p) { p.presence_penalty = kNaN; });
  bad([](SamplingParams& p) { p.frequency_penalty = kInf; });
  bad([](SamplingParams& p) { p.penalty_last_n = -2; });
  bad([](SamplingParams& p) { p.temperature = kNaN; });
  bad([](SamplingParams& p) { p.temperature = kInf; });

  // In range, including the "off" values.
  SamplingParams ok;
  ok.temperature = -1.0f;
  ok.top_k = -5;
  ok.top_p = 2.0f;
  ok.min_p = -1.0f;
  ok.presence_penalty = -0.5f;
  ok.penalty_last_n = -1;
  EXPECT_NO_THROW(Sampler{ok});
}

TEST(Sampler, RejectsBadCalls) {
  Sampler s(SamplingParams{});
  EXPECT_THROW(s.sample(std::span<const float>{}), Error);
  EXPECT_THROW(s.accept(-1), Error);
}

}  // namespace
}  // namespace owl
