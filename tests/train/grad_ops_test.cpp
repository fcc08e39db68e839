// Every backward of train/grad_ops.h against central finite differences of its forward, in double:
// for a random upstream gradient g, d(g·f(x))/dx_i must equal the backward's dx_i. Also the float
// instantiation against the double one, and the forwards against the inference ops they mirror.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "ops/elementwise.h"
#include "ops/linear.h"
#include "train/grad_ops.h"

namespace {

namespace tr = owl::train;
using D = std::vector<double>;

D random_vec(size_t n, uint32_t seed, double scale = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  D v(n);
  for (double& x : v) x = normal(rng);
  return v;
}

double dot(const D& a, const D& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Checks analytic (the backward's gradient for input x) against the central differences of
// loss(x) = g · forward(x), element by element, relative to the largest gradient.
void expect_matches_fd(const std::function<double(const D&)>& loss, D x, const D& analytic, const std::string& what,
                       double h = 1e-6, double tol = 1e-7) {
  ASSERT_EQ(analytic.size(), x.size());
  double scale = 1e-12;
  for (double a : analytic) scale = std::max(scale, std::fabs(a));
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double up = loss(x);
    x[i] = keep - h;
    const double down = loss(x);
    x[i] = keep;
    const double fd = (up - down) / (2 * h);
    ASSERT_NEAR(analytic[i], fd, tol * scale + 1e-9) << what << " element " << i;
  }
}

TEST(GradOps, RmsNormInputAndWeight) {
  const int64_t n = 24;
  const D x = random_vec(n, 1), w = random_vec(n, 2), g = random_vec(n, 3);
  const double eps = 1e-5;
  D dx(n, 0.0), dw(n, 0.0);
  tr::rms_norm_backward<double>(dx.data(), dw.data(), g.data(), x.data(), w.data(), n, eps);
  auto loss_x = [&](const D& xx) {
    D y(n);
    tr::rms_norm_forward<double>(y.data(), xx.data(), w.data(), n, eps);
    return dot(g, y);
  };
  auto loss_w = [&](const D& ww) {
    D y(n);
    tr::rms_norm_forward<double>(y.data(), x.data(), ww.data(), n, eps);
    return dot(g, y);
  };
  expect_matches_fd(loss_x, x, dx, "dx");
  expect_matches_fd(loss_w, w, dw, "dw");
}

TEST(GradOps, RopeBothPairConventionsAndScaledAngles) {
  for (bool interleaved : {true, false}) {
    owl::ops::RopeParams p{16, 10000.0f, 0.25f, nullptr, 1.3f, interleaved};
    std::vector<float> factors(8);
    for (int i = 0; i < 8; ++i) factors[static_cast<size_t>(i)] = 1.0f + 0.5f * static_cast<float>(i);
    p.freq_factors = factors.data();
    std::vector<float> cos_sin(16);
    owl::ops::rope_angles(37, p, cos_sin.data());
    const int64_t hd = 20;  // n_rot 16 of 20 dims rotate
    const D x = random_vec(hd, 4), g = random_vec(hd, 5);
    D dx = g;
    tr::rope_backward<double>(dx.data(), cos_sin.data(), 16, interleaved);
    auto loss = [&](const D& xx) {
      D y = xx;
      tr::rope_forward<double>(y.data(), cos_sin.data(), 16, interleaved);
      return dot(g, y);
    };
    expect_matches_fd(loss, x, dx, interleaved ? "interleaved" : "halves");
    // The forward is the decoder's rotation.
    std::vector<float> xf(x.begin(), x.end()), yf = xf;
    owl::ops::rope_rotate(yf.data(), cos_sin.data(), p);
    D yd = x;
    tr::rope_forward<double>(yd.data(), cos_sin.data(), 16, interleaved);
    for (int64_t i = 0; i < hd; ++i) EXPECT_NEAR(yf[static_cast<size_t>(i)], yd[static_cast<size_t>(i)], 1e-5);
  }
}

TEST(GradOps, SwigluAndGeglu) {
  const int64_t n = 40;
  const D gate = random_vec(n, 6, 2.0), up = random_vec(n, 7), g = random_vec(n, 8);
  for (bool gelu : {false, true}) {
    D dg(n, 0.0), du(n, 0.0);
    (gelu ? tr::geglu_backward<double> : tr::swiglu_backward<double>)(dg.data(), du.data(), g.data(), gate.data(),
                                                                     up.data(), n);
    auto fwd = [&](const D& gg, const D& uu) {
      D h(n);
      (gelu ? tr::geglu_forward<double> : tr::swiglu_forward<double>)(h.data(), gg.data(), uu.data(), n);
      return dot(g, h);
    };
    expect_matches_fd([&](const D& gg) { return fwd(gg, up); }, gate, dg, gelu ? "geglu gate" : "swiglu gate");
    expect_matches_fd([&](const D& uu) { return fwd(gate, uu); }, up, du, gelu ? "geglu up" : "swiglu up");
  }
}

TEST(GradOps, Softcap) {
  const int64_t n = 30;
  const D x = random_vec(n, 9, 40.0), g = random_vec(n, 10);
  const double cap = 30.0;
  D y = x;
  tr::softcap_forward<double>(y.data(), n, cap);
  D dx = g;
  tr::softcap_backward<double>(dx.data(), y.data(), n, cap);
  auto loss = [&](const D& xx) {
    D yy = xx;
    tr::softcap_forward<double>(yy.data(), n, cap);
    return dot(g, yy);
  };
  expect_matches_fd(loss, x, dx, "softcap", 1e-5);
}

// Attention with GQA (8 query heads on 2 KV heads), causal, with and without a sliding window and
// soft-capping: the gradients of q, k and v.
TEST(GradOps, AttentionGqaCausalWindowSoftcap) {
  for (int variant = 0; variant < 3; ++variant) {
    tr::AttentionDims a{7, 8, 2, 4, 0.5f, variant == 2 ? 5.0f : 0.0f, variant >= 1 ? 3 : 0};
    const size_t qn = static_cast<size_t>(a.n * a.n_head * a.head_dim), kn = static_cast<size_t>(a.n * a.n_head_kv * a.head_dim);
    const D q = random_vec(qn, 11, 1.5), k = random_vec(kn, 12, 1.5), v = random_vec(kn, 13), g = random_vec(qn, 14);
    D out(qn), probs(static_cast<size_t>(a.n_head * a.n * a.n));
    tr::attention_forward<double>(out.data(), probs.data(), q.data(), k.data(), v.data(), a);
    D dq(qn, 0.0), dk(kn, 0.0), dv(kn, 0.0);
    tr::attention_backward<double>(dq.data(), dk.data(), dv.data(), g.data(), probs.data(), q.data(), k.data(), v.data(), a);
    auto loss = [&](const D& qq, const D& kk, const D& vv) {
      D o(qn), p(probs.size());
      tr::attention_forward<double>(o.data(), p.data(), qq.data(), kk.data(), vv.data(), a);
      return dot(g, o);
    };
    const std::string what = "variant " + std::to_string(variant);
    expect_matches_fd([&](const D& x) { return loss(x, k, v); }, q, dq, what + " dq");
    expect_matches_fd([&](const D& x) { return loss(q, x, v); }, k, dk, what + " dk");
    expect_matches_fd([&](const D& x) { return loss(q, k, x); }, v, dv, what + " dv");
  }
}

TEST(GradOps, CrossEntropy) {
  const int64_t v = 17;
  const D logits = random_vec(v, 15, 3.0);
  D dl(v);
  const double loss0 = tr::cross_entropy_forward_backward<double>(dl.data(), logits.data(), v, 5, 0.25);
  auto loss = [&](const D& l) { return 0.25 * tr::cross_entropy_forward_backward<double>(nullptr, l.data(), v, 5, 1.0); };
  expect_matches_fd(loss, logits, dl, "logits");
  // -log softmax by hand.
  double sum = 0;
  for (double l : logits) sum += std::exp(l);
  EXPECT_NEAR(loss0, std::log(sum) - logits[5], 1e-12);
}

TEST(GradOps, LoraLinear) {
  const int64_t n = 3, in = 10, out = 6, r = 4;
  const D x = random_vec(static_cast<size_t>(n * in), 16), a = random_vec(static_cast<size_t>(r * in), 17),
          b = random_vec(static_cast<size_t>(out * r), 18), g = random_vec(static_cast<size_t>(n * out), 19);
  const double scale = 2.0;
  auto fwd = [&](const D& xx, const D& aa, const D& bb) {
    D y(static_cast<size_t>(n * out), 0.0), u(static_cast<size_t>(n * r));
    tr::lora_forward<double>(y.data(), u.data(), xx.data(), aa.data(), bb.data(), n, in, out, r, scale);
    return y;
  };
  D u(static_cast<size_t>(n * r)), y0(static_cast<size_t>(n * out), 0.0);
  tr::lora_forward<double>(y0.data(), u.data(), x.data(), a.data(), b.data(), n, in, out, r, scale);
  D dx(x.size(), 0.0), da(a.size(), 0.0), db(b.size(), 0.0);
  tr::lora_backward<double>(dx.data(), da.data(), db.data(), g.data(), x.data(), u.data(), a.data(), b.data(), n, in, out,
                            r, scale);
  expect_matches_fd([&](const D& xx) { return dot(g, fwd(xx, a, b)); }, x, dx, "dx");
  expect_matches_fd([&](const D& aa) { return dot(g, fwd(x, aa, b)); }, a, da, "dA");
  expect_matches_fd([&](const D& bb) { return dot(g, fwd(x, a, bb)); }, b, db, "dB");
}

// ops::add_lora, the hook the decoder and the training pass call, computes its reference's numbers.
TEST(GradOps, AddLoraEqualsItsReference) {
  const int64_t n = 5, in = 33, out = 17, r = 3;
  const D xd = random_vec(static_cast<size_t>(n * in), 24), ad = random_vec(static_cast<size_t>(r * in), 25),
          bd = random_vec(static_cast<size_t>(out * r), 26);
  const std::vector<float> x(xd.begin(), xd.end()), a(ad.begin(), ad.end()), b(bd.begin(), bd.end());
  std::vector<float> y1(static_cast<size_t>(n * out), 0.5f), y2 = y1, u1(static_cast<size_t>(n * r)), u2 = u1;
  tr::lora_forward<float>(y1.data(), u1.data(), x.data(), a.data(), b.data(), n, in, out, r, 1.5f);
  owl::ThreadPool pool(2);
  owl::ops::add_lora(y2.data(), x.data(), n, in, out, owl::ops::LoraTerm{a.data(), b.data(), r, 1.5f}, u2.data(), pool);
  EXPECT_EQ(y1, y2);
  EXPECT_EQ(u1, u2);
}

// ops::add_lora_backward, the training pass's adapter gradients, computes its reference's numbers
// for any thread count.
TEST(GradOps, AddLoraBackwardEqualsItsReference) {
  // Each of the op's three loops splits across threads; `in` ends in a partial block of columns.
  const int64_t n = 64, in = 604, out = 2048, r = 8;
  auto floats = [](const D& d) { return std::vector<float>(d.begin(), d.end()); };
  const auto x = floats(random_vec(static_cast<size_t>(n * in), 27)), a = floats(random_vec(static_cast<size_t>(r * in), 28)),
             b = floats(random_vec(static_cast<size_t>(out * r), 29)), dy = floats(random_vec(static_cast<size_t>(n * out), 30)),
             u = floats(random_vec(static_cast<size_t>(n * r), 31));
  const auto dx0 = floats(random_vec(x.size(), 32)), da0 = floats(random_vec(a.size(), 33)),
             db0 = floats(random_vec(b.size(), 34));
  std::vector<float> dx1 = dx0, da1 = da0, db1 = db0;
  tr::lora_backward<float>(dx1.data(), da1.data(), db1.data(), dy.data(), x.data(), u.data(), a.data(), b.data(), n, in,
                           out, r, 0.75f);
  for (int threads : {1, 2, 3}) {
    owl::ThreadPool pool(threads);
    std::vector<float> dx2 = dx0, da2 = da0, db2 = db0;
    owl::ops::add_lora_backward(dx2.data(), da2.data(), db2.data(), dy.data(), x.data(), u.data(), n, in, out,
                                owl::ops::LoraTerm{a.data(), b.data(), r, 0.75f}, pool);
    EXPECT_EQ(dx1, dx2) << threads << " threads";
    EXPECT_EQ(da1, da2) << threads << " threads";
    EXPECT_EQ(db1, db2) << threads << " threads";
  }
}

// The float instantiation computes what the double one does, to float rounding.
TEST(GradOps, FloatAgreesWithDouble) {
  tr::AttentionDims a{9, 4, 2, 8, 0.35f, 0.0f, 0};
  const size_t qn = 9 * 4 * 8, kn = 9 * 2 * 8;
  const D q = random_vec(qn, 20), k = random_vec(kn, 21), v = random_vec(kn, 22), g = random_vec(qn, 23);
  D out(qn), probs(4 * 9 * 9), dq(qn, 0.0), dk(kn, 0.0), dv(kn, 0.0);
  tr::attention_forward<double>(out.data(), probs.data(), q.data(), k.data(), v.data(), a);
  tr::attention_backward<double>(dq.data(), dk.data(), dv.data(), g.data(), probs.data(), q.data(), k.data(), v.data(), a);
  auto f = [](const D& d) { return std::vector<float>(d.begin(), d.end()); };
  const auto qf = f(q), kf = f(k), vf = f(v), gf = f(g);
  std::vector<float> outf(qn), probsf(probs.size()), dqf(qn, 0.0f), dkf(kn, 0.0f), dvf(kn, 0.0f);
  tr::attention_forward<float>(outf.data(), probsf.data(), qf.data(), kf.data(), vf.data(), a);
  tr::attention_backward<float>(dqf.data(), dkf.data(), dvf.data(), gf.data(), probsf.data(), qf.data(), kf.data(),
                                vf.data(), a);
  for (size_t i = 0; i < qn; ++i) {
    EXPECT_NEAR(outf[i], out[i], 1e-5);
    EXPECT_NEAR(dqf[i], dq[i], 1e-5);
  }
  for (size_t i = 0; i < kn; ++i) {
    EXPECT_NEAR(dkf[i], dk[i], 1e-5);
    EXPECT_NEAR(dvf[i], dv[i], 1e-5);
  }
}

}  // namespace
