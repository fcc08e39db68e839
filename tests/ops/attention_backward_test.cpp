// ops::attention_backward (the training pass's attention gradients, on the attention kernels)
// against train/grad_ops.h's scalar reference in double, on shapes with grouped heads, a sliding
// window, soft-capping, several sequences and lengths off the kernels' widths; and the same bits
// for any thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ops/attention_backward.h"
#include "train/grad_ops.h"

namespace {

namespace tr = owl::train;

struct AttnCase {
  int64_t n_seq, n, n_head, n_head_kv, head_dim, window;
  float softcap;
};

std::vector<double> normal_values(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> v(count);
  for (double& x : v) x = normal(rng);
  return v;
}

std::vector<float> as_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

class AttentionBackward : public ::testing::TestWithParam<AttnCase> {};

TEST_P(AttentionBackward, MatchesTheReferenceForAnyThreads) {
  const AttnCase c = GetParam();
  const int64_t qd = c.n_head * c.head_dim, kd = c.n_head_kv * c.head_dim, rows = c.n_seq * c.n;
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const tr::AttentionDims dims{c.n, c.n_head, c.n_head_kv, c.head_dim, scale, c.softcap, c.window};
  const auto q = normal_values(static_cast<size_t>(rows * qd), 1), k = normal_values(static_cast<size_t>(rows * kd), 2),
             v = normal_values(static_cast<size_t>(rows * kd), 3),
             dout = normal_values(static_cast<size_t>(rows * qd), 4);
  // Gradients start from values of their own: the op adds into them.
  const auto dq0 = normal_values(static_cast<size_t>(rows * qd), 5),
             dk0 = normal_values(static_cast<size_t>(rows * kd), 6),
             dv0 = normal_values(static_cast<size_t>(rows * kd), 7);
  std::vector<double> probs(static_cast<size_t>(c.n_seq * c.n_head * c.n * c.n)), out(q.size());
  std::vector<double> dq = dq0, dk = dk0, dv = dv0;
  for (int64_t b = 0; b < c.n_seq; ++b) {
    const int64_t qo = b * c.n * qd, ko = b * c.n * kd, po = b * c.n_head * c.n * c.n;
    tr::attention_forward<double>(out.data() + qo, probs.data() + po, q.data() + qo, k.data() + ko, v.data() + ko,
                                  dims);
    tr::attention_backward<double>(dq.data() + qo, dk.data() + ko, dv.data() + ko, dout.data() + qo, probs.data() + po,
                                   q.data() + qo, k.data() + ko, v.data() + ko, dims);
  }
  const owl::ops::AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim, scale, c.softcap, c.window};
  const auto qf = as_float(q), kf = as_float(k), vf = as_float(v), doutf = as_float(dout);
  // The weights a query does not see are never read (the training pass leaves them as they were).
  auto probsf = as_float(probs);
  for (int64_t bh = 0; bh < c.n_seq * c.n_head; ++bh) {
    for (int64_t i = 0; i < c.n; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        if (!dims.sees(i, j)) probsf[static_cast<size_t>((bh * c.n + i) * c.n + j)] = std::nanf("");
      }
    }
  }
  std::vector<std::vector<float>> first;
  for (int threads : {1, 2, 3}) {
    owl::ThreadPool pool(threads);
    auto dqf = as_float(dq0), dkf = as_float(dk0), dvf = as_float(dv0);
    owl::ops::attention_backward(dqf.data(), dkf.data(), dvf.data(), doutf.data(), probsf.data(), qf.data(), kf.data(),
                                 vf.data(), c.n_seq, c.n, shape, pool);
    const std::vector<std::vector<float>> got{dqf, dkf, dvf};
    const std::vector<const std::vector<double>*> want{&dq, &dk, &dv};
    for (size_t m = 0; m < got.size(); ++m) {
      for (size_t i = 0; i < got[m].size(); ++i) {
        const double ref = (*want[m])[i];
        ASSERT_NEAR(got[m][i], ref, 2e-5 * (1.0 + std::fabs(ref))) << "gradient " << m << " value " << i;
      }
    }
    if (first.empty()) {
      first = got;
    } else {
      EXPECT_EQ(got, first) << threads << " threads";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionBackward,
                         ::testing::Values(AttnCase{1, 9, 4, 2, 8, 0, 0.0f},       // grouped heads, n off the blocks
                                           AttnCase{2, 13, 4, 4, 16, 0, 0.0f},     // two sequences
                                           AttnCase{1, 11, 2, 1, 67, 0, 0.0f},     // head_dim off the vectors
                                           AttnCase{1, 12, 4, 2, 8, 3, 0.0f},      // sliding window
                                           AttnCase{2, 10, 6, 2, 32, 4, 5.0f},     // window and soft-cap
                                           AttnCase{1, 1, 2, 1, 8, 0, 0.0f},       // one position
                                           AttnCase{2, 40, 8, 2, 64, 0, 0.0f},     // enough work for threads
                                           AttnCase{1, 37, 8, 4, 64, 9, 30.0f}));  // ... windowed, capped

}  // namespace
