// Full-parameter training (owl train): every weight's gradient against central finite differences
// on a tiny random Llama model, the training forward equal to Decoder::eval, identical weights from
// two runs of one seed, a resumed run equal to an uninterrupted one byte for byte, and a loss that
// falls on learnable data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "formats/model_file.h"
#include "models/decoder.h"
#include "models/kv_cache.h"
#include "test_files.h"
#include "train/pretrain.h"
#include "train/trainable_model.h"

namespace {

namespace tr = owl::train;

tr::ModelShape tiny_shape() {
  tr::ModelShape s;
  s.n_vocab = 40, s.n_embd = 16, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 24, s.n_ctx = 32;
  return s;
}

tr::TrainBatch random_batch(int64_t n_seq, int64_t len, int64_t n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  tr::TrainBatch b;
  b.n_seq = n_seq, b.seq_len = len;
  for (int64_t i = 0; i < n_seq * len; ++i) {
    b.ids.push_back(static_cast<int32_t>(rng() % n_vocab));
    b.targets.push_back(i % len == 0 || rng() % 5 == 0 ? 0 : 1);  // some positions masked
  }
  return b;
}

// Central differences of the loss for the three largest gradient entries of every tensor and one
// in the middle: each must match the analytic gradient.
void check_against_finite_differences(tr::TrainableModel& tm, tr::TrainPass& pass, const tr::TrainBatch& batch,
                                      std::vector<tr::ParamTensor>& params) {
  const float eps = 1e-2f;
  for (size_t p = 0; p < params.size(); ++p) {
    const std::span<const float> g = params[p].grad;
    std::vector<size_t> order(g.size());
    for (size_t i = 0; i < g.size(); ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                      [&](size_t a, size_t b) { return std::fabs(g[a]) > std::fabs(g[b]); });
    order.resize(3);
    order.push_back(g.size() / 2);
    for (size_t i : order) {
      float& w = params[p].value[i];
      const float saved = w;
      w = saved + eps;
      tm.sync();
      const double up = pass.loss(batch);
      w = saved - eps;
      tm.sync();
      const double down = pass.loss(batch);
      w = saved;
      tm.sync();
      const double fd = (up - down) / (2.0 * eps);
      EXPECT_NEAR(g[i], fd, 2e-3 + 2e-2 * std::fabs(fd)) << "tensor " << p << " element " << i;
    }
  }
}

// Every weight's gradient of a model of this shape on a random batch, against finite differences.
void check_model_gradients(const tr::ModelShape& shape, uint64_t seed, size_t n_tensors) {
  tr::TrainableModel tm(shape, {}, seed, 0.3);  // large weights: gradients well above float noise
  ASSERT_EQ(tm.model().spec().tied_output, shape.tied);
  owl::ThreadPool pool(2);
  tr::TrainPass pass(tm.model(), pool);
  const tr::TrainBatch batch = random_batch(2, 7, 40, static_cast<uint32_t>(seed) + 6);
  tr::ModelGrads grads;
  pass.loss_and_grads(batch, grads);
  std::vector<tr::ParamTensor> params = tm.params(grads);
  ASSERT_EQ(params.size(), n_tensors);
  check_against_finite_differences(tm, pass, batch, params);
}

TEST(FullTraining, EveryWeightGradientMatchesFiniteDifferences) { check_model_gradients(tiny_shape(), 5, 3 + 9 * 2); }

// Tied embeddings: token_embd's gradient is the lookup's plus the output head's.
TEST(FullTraining, TiedEmbeddingGradientMatchesFiniteDifferences) {
  tr::ModelShape shape = tiny_shape();
  shape.tied = true;
  check_model_gradients(shape, 6, 2 + 9 * 2);
}

TEST(FullTraining, ForwardEqualsDecoderEval) {
  tr::TrainableModel tm(tiny_shape(), {}, 3, 0.2);
  owl::ThreadPool pool(2);
  const std::vector<int32_t> ids = {1, 5, 9, 2, 33, 7, 7, 0};
  const std::vector<float> train = tr::TrainPass(tm.model(), pool).logits(ids);
  owl::Decoder decoder(tm.model(), pool);
  owl::KvCache cache(tm.model().spec(), 32);
  const auto eval = decoder.eval(cache, ids, true);
  ASSERT_EQ(eval.size(), train.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < eval.size(); ++i) num += (train[i] - eval[i]) * (train[i] - eval[i]), den += eval[i] * eval[i];
  EXPECT_LE(num / den, 1e-12);
}

// Examples of a learnable language: counting up from a random start, modulo the vocabulary.
tr::DataSplit counting_data(int n_train, int n_valid) {
  std::mt19937 rng(1);
  tr::DataSplit d;
  for (auto [set, n] : {std::pair{&d.train, n_train}, std::pair{&d.valid, n_valid}}) {
    set->path = "counting";
    for (int e = 0; e < n; ++e) {
      tr::Example ex;
      const int start = static_cast<int>(rng() % 37) + 3, len = 6 + static_cast<int>(rng() % 10);
      ex.tokens.push_back(1);
      ex.targets.push_back(0);
      for (int i = 0; i < len; ++i) {
        ex.tokens.push_back(3 + (start + i) % 37);
        ex.targets.push_back(1);
      }
      set->examples.push_back(std::move(ex));
    }
  }
  return d;
}

tr::PretrainOptions options(const std::string& output, int64_t iters) {
  tr::PretrainOptions o;
  o.output = output;
  o.shape = tiny_shape();
  o.iters = iters;
  o.batch_size = 4;
  o.grad_accum = 2;
  o.schedule.lr = 3e-3;
  o.schedule.warmup = 2;
  o.schedule.kind = tr::LrSchedule::cosine;
  o.adamw.weight_decay = 0.1;
  o.seed = 9;
  o.metadata = {{"general.name", owl::gguf::Value{std::string("tiny")}}};
  return o;
}

TEST(FullTraining, SameSeedSameWeightsAndResumeEqualsUninterrupted) {
  const tr::DataSplit data = counting_data(40, 8);
  owl::ThreadPool pool(2);
  const std::string a = scratch_path("full-a.gguf").string(), b = scratch_path("full-b.gguf").string();
  const std::string c = scratch_path("full-c.gguf").string();
  tr::pretrain(data, options(a, 6), 0, pool, nullptr);
  owl::ThreadPool one(1);
  tr::pretrain(data, options(b, 6), 0, one, nullptr);  // another thread count: the same numbers
  ASSERT_FALSE(read_file(a).empty());
  EXPECT_EQ(read_file(a), read_file(b));
  // Killed after the checkpoint of step 3 (the report of step 4 never returns), then resumed.
  tr::PretrainOptions o = options(c, 6);
  o.save_every = 3;
  EXPECT_THROW(tr::pretrain(data, o, 0, pool, [](const tr::StepReport& r) {
                 if (r.step == 4) throw std::runtime_error("killed");
               }),
               std::runtime_error);
  o.resume = true;
  tr::pretrain(data, o, 0, pool, nullptr);
  EXPECT_EQ(read_file(a), read_file(c)) << "the resumed run wrote other weights";
}

TEST(FullTraining, LossFallsOnLearnableData) {
  const tr::DataSplit data = counting_data(64, 16);
  owl::ThreadPool pool(2);
  tr::PretrainOptions o = options(scratch_path("full-learn.gguf").string(), 80);
  o.schedule.lr = 1e-2;
  const tr::PretrainResult r = tr::pretrain(data, o, 0, pool, nullptr);
  ASSERT_TRUE(r.last_val_loss.has_value());
  EXPECT_GT(r.first_loss, 3.0);  // about ln 40 at the start
  EXPECT_LT(*r.last_val_loss, 1.0) << "the model did not learn to count";
  // The written file is a model owl loads, with the recipe in its metadata.
  const auto model = owl::Model::load(o.output);
  EXPECT_EQ(model->spec().n_layer, 2);
  EXPECT_EQ(model->file().get_string("general.name"), "tiny");
  EXPECT_EQ(model->file().get_uint("training.steps"), 80u);
}

}  // namespace
