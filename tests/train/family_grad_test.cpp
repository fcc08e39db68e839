// The training pass on every family fixture (../shared/fixtures/archs: Llama, GQA, RoPE factors,
// Gemma 1/2/3 with GeGLU, soft-capping, sliding windows, post-norms and q/k norms, Qwen 2/3 with
// biases and q/k norms, Phi-3 fused projections and LongRoPE): its logits equal Decoder::eval's,
// and the LoRA gradient of all seven projections of every layer matches finite differences of the
// loss along the gradient and along a random direction.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fixtures.h"
#include "models/decoder.h"
#include "models/lora_adapter.h"
#include "train/train_pass.h"
#include "train/train_test_util.h"

namespace {

namespace tr = owl::train;

const char* const kModels[] = {"llama", "llama-gqa", "llama-rope-freqs", "gemma", "gemma2",
                               "gemma3", "qwen2", "qwen3", "phi3", "phi3-longrope"};

owl::LoraAdapter random_adapter(const owl::Model& model, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  owl::LoraAdapter a;
  a.alpha = 4.0f;
  for (int64_t il = 0; il < model.spec().n_layer; ++il) {
    for (owl::LoraTarget t : owl::kAllLoraTargets) {
      const owl::Weight& w = owl::lora_base_weight(model, il, t);
      owl::LoraModule m{il, t, 2, w.cols, w.rows, {}, {}};
      for (int64_t i = 0; i < 2 * w.cols; ++i) m.a.push_back(normal(rng) / std::sqrt(static_cast<float>(w.cols)));
      for (int64_t i = 0; i < 2 * w.rows; ++i) m.b.push_back(0.05f * normal(rng));
      a.modules.push_back(std::move(m));
    }
  }
  return a;
}

tr::TrainBatch random_batch(const owl::Model& model, uint32_t seed) {
  std::mt19937 rng(seed);
  tr::TrainBatch b;
  b.n_seq = 2;
  b.seq_len = 11;
  for (int64_t i = 0; i < b.n_seq * b.seq_len; ++i) {
    b.ids.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(model.spec().n_vocab)));
    b.targets.push_back(i % b.seq_len == 0 ? 0 : static_cast<uint8_t>(rng() % 4 != 0));
  }
  return b;
}

// Adds step · direction to every adapter tensor.
void move(owl::LoraAdapter& a, const tr::LoraGrads& dir, double step) {
  for (size_t i = 0; i < a.modules.size(); ++i) {
    for (size_t j = 0; j < dir.a[i].size(); ++j) a.modules[i].a[j] += static_cast<float>(step * dir.a[i][j]);
    for (size_t j = 0; j < dir.b[i].size(); ++j) a.modules[i].b[j] += static_cast<float>(step * dir.b[i][j]);
  }
}

double dot(const tr::LoraGrads& x, const tr::LoraGrads& y) {
  double s = 0;
  for (size_t i = 0; i < x.a.size(); ++i) {
    for (size_t j = 0; j < x.a[i].size(); ++j) s += static_cast<double>(x.a[i][j]) * y.a[i][j];
    for (size_t j = 0; j < x.b[i].size(); ++j) s += static_cast<double>(x.b[i][j]) * y.b[i][j];
  }
  return s;
}

class FamilyTraining : public ::testing::TestWithParam<const char*> {};

TEST_P(FamilyTraining, ForwardEqualsDecoderAndGradientsMatchFiniteDifferences) {
  OWL_REQUIRE_FIXTURE(dir, "archs");
  const auto model = owl::Model::load((dir / (std::string(GetParam()) + ".gguf")).string());
  owl::ThreadPool pool(2);
  const tr::TrainBatch batch = random_batch(*model, 5);

  // Logits of the training forward against the decoder's, first sequence.
  const owl::LoraAdapter none;
  const std::vector<int32_t> ids(batch.ids.begin(), batch.ids.begin() + batch.seq_len);
  const std::vector<float> train = tr::TrainPass(*model, none, pool).logits(ids);
  owl::Decoder decoder(*model, pool);
  owl::KvCache cache(model->spec(), 32);
  EXPECT_LE(nmse(train, decoder.eval(cache, ids, true)), 1e-10) << "training forward vs Decoder::eval";

  owl::LoraAdapter adapter = random_adapter(*model, 9);
  tr::TrainPass pass(*model, adapter, pool);
  tr::LoraGrads g;
  pass.loss_and_grads(batch, g);
  const double norm = std::sqrt(dot(g, g));
  ASSERT_GT(norm, 0.0);
  // Directions: the gradient itself, and a random one (both of unit length).
  tr::LoraGrads random = g;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto* set : {&random.a, &random.b}) {
    for (auto& v : *set) {
      for (float& x : v) x = normal(rng);
    }
  }
  const double rnorm = std::sqrt(dot(random, random));
  for (int which = 0; which < 2; ++which) {
    tr::LoraGrads dir_vec = which == 0 ? g : random;
    const double scale = 1.0 / (which == 0 ? norm : rnorm);
    move(adapter, dir_vec, 0.0);
    const double analytic = dot(g, dir_vec) * scale;
    // Central differences at h and h/2, combined (Richardson) so that the h² term cancels.
    auto central = [&](double h) {
      move(adapter, dir_vec, h * scale);
      const double up = pass.loss(batch);
      move(adapter, dir_vec, -2 * h * scale);
      const double down = pass.loss(batch);
      move(adapter, dir_vec, h * scale);
      return (up - down) / (2 * h);
    };
    const double fd = (4 * central(1e-2) - central(2e-2)) / 3;
    EXPECT_NEAR(analytic, fd, 2e-4 * norm) << GetParam() << (which == 0 ? " along the gradient" : " along a random direction");
    std::printf("[ measured ] %-14s %s: analytic %.6f, finite difference %.6f (|g| %.4f)\n", GetParam(),
                which == 0 ? "along g     " : "random dir  ", analytic, fd, norm);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyTraining, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string n = p.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
