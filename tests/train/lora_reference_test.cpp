// LoRA against PyTorch (../shared/fixtures/lora-stories260K, computed in float64 on the real
// stories260K): the step-0 loss and every lora_A/lora_B gradient of both cases, within the README's
// bounds for a float32 implementation; the same on the GGUF (interleaved q/k rows) base, where
// PEFT's q/k B rows must be permuted; inference logits with the trained adapter; and the training
// forward pinned to Decoder::eval.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "formats/safetensors.h"
#include "models/decoder.h"
#include "models/lora_adapter.h"
#include "models/model_fixtures.h"
#include "models/model_source.h"
#include "test_files.h"
#include "train/train_test_util.h"
#include "train/train_pass.h"
#include "train/optimizer.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

owl::train::TrainBatch batch_of(const fs::path& case_dir) {
  const json b = read_json(case_dir / "batch.json");
  owl::train::TrainBatch batch;
  batch.n_seq = b["batch_size"].get<int64_t>();
  batch.seq_len = b["seq_len"].get<int64_t>();
  for (const json& row : b["input_ids"]) {
    for (const json& id : row) batch.ids.push_back(id.get<int32_t>());
  }
  for (const json& row : b["loss_mask"]) {
    for (const json& m : row) batch.targets.push_back(static_cast<uint8_t>(m.get<int>()));
  }
  return batch;
}

std::vector<float> tensor_f32(const owl::safetensors::File& f, const std::string& name) {
  const owl::safetensors::Tensor* t = f.find(name);
  if (t == nullptr) ADD_FAILURE() << "no tensor " << name;
  if (t == nullptr) return {};
  std::vector<float> v(t->n_elements);
  std::memcpy(v.data(), t->data, t->n_bytes);
  return v;
}

// The gradients as a PEFT adapter directory (the same names as the reference's gradient file).
fs::path write_grads(const owl::LoraAdapter& adapter, const owl::train::LoraGrads& grads, const owl::Model& model,
                     const std::string& name) {
  owl::LoraAdapter g = adapter;
  for (size_t i = 0; i < g.modules.size(); ++i) {
    g.modules[i].a = grads.a[i];
    g.modules[i].b = grads.b[i];
  }
  const fs::path dir = scratch_path(name);
  owl::write_peft_adapter(g, model, dir.string());
  return dir;
}

struct CaseResult {
  double loss = 0;
  double nmse_all = 0;
  double nmse_worst = 0;
};

CaseResult run_step0(const owl::Model& model, const fs::path& case_dir, const std::string& tag) {
  const owl::LoraAdapter adapter = owl::read_peft_adapter((case_dir / "adapter_init").string(), model);
  owl::ThreadPool pool(2);
  owl::train::TrainPass pass(model, adapter, pool);
  owl::train::LoraGrads grads;
  CaseResult r;
  r.loss = pass.loss_and_grads(batch_of(case_dir), grads);
  EXPECT_NEAR(pass.loss(batch_of(case_dir)), r.loss, 1e-6 * r.loss) << "loss without backward";
  // Gradient checkpointing recomputes the same activations: the same gradients, bit for bit.
  owl::train::LoraGrads again;
  pass.set_grad_checkpoint(true);
  EXPECT_EQ(pass.loss_and_grads(batch_of(case_dir), again), r.loss);
  EXPECT_EQ(again.a, grads.a);
  EXPECT_EQ(again.b, grads.b);
  const fs::path ours = write_grads(adapter, grads, model, tag + "-grads");
  const auto mine = owl::safetensors::File::open((ours / "adapter_model.safetensors").string());
  const auto ref = owl::safetensors::File::open((case_dir / "step0_grads.safetensors").string());
  EXPECT_EQ(mine->tensors().size(), ref->tensors().size());
  double num = 0, den = 0;
  for (const auto& t : ref->tensors()) {
    const std::vector<float> want = tensor_f32(*ref, t.name), got = tensor_f32(*mine, t.name);
    if (got.size() != want.size()) {
      ADD_FAILURE() << t.name << ": " << got.size() << " values, want " << want.size();
      continue;
    }
    const double e = nmse(got, want);
    r.nmse_worst = std::max(r.nmse_worst, e);
    for (size_t i = 0; i < want.size(); ++i) {
      num += (static_cast<double>(got[i]) - want[i]) * (static_cast<double>(got[i]) - want[i]);
      den += static_cast<double>(want[i]) * want[i];
    }
  }
  r.nmse_all = num / den;
  return r;
}

class LoraReference : public ::testing::TestWithParam<std::string> {};

TEST_P(LoraReference, Step0LossAndGradientsOnTheHfBase) {
  OWL_REQUIRE_FIXTURE(root, "lora-stories260K");
  const fs::path case_dir = root / GetParam();
  const auto model = owl::Model::from_file(owl::open_model_file((root / "stories260K-hf").string()));
  const CaseResult r = run_step0(*model, case_dir, GetParam() + "-hf");
  const double want = read_json(case_dir / "step0.json")["loss"].get<double>();
  EXPECT_LE(std::fabs(r.loss - want) / want, 1e-6) << "loss " << r.loss << " want " << want;
  EXPECT_LE(r.nmse_all, 1e-9);
  EXPECT_LE(r.nmse_worst, 1e-8);
  std::printf("[ %s HF base ] loss %.10f (reference %.10f), gradient NMSE %.2e over all, %.2e worst tensor\n",
              GetParam().c_str(), r.loss, want, r.nmse_all, r.nmse_worst);
}

// The llama2.c checkpoint as GGUF keeps q/k rows interleaved: the adapter's q/k B rows are permuted
// on reading and the gradients back on writing, and everything must still match.
TEST_P(LoraReference, Step0LossAndGradientsOnTheGgufBase) {
  OWL_REQUIRE_FIXTURES();
  const fs::path case_dir = fixtures / "lora-stories260K" / GetParam();
  const auto model = owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string());
  const CaseResult r = run_step0(*model, case_dir, GetParam() + "-gguf");
  const double want = read_json(case_dir / "step0.json")["loss"].get<double>();
  EXPECT_LE(std::fabs(r.loss - want) / want, 1e-6) << "loss " << r.loss << " want " << want;
  EXPECT_LE(r.nmse_all, 1e-9);
  EXPECT_LE(r.nmse_worst, 1e-8);
}

// The trained adapter at inference (through the training forward): PyTorch's logits.
TEST_P(LoraReference, LogitsWithTheTrainedAdapter) {
  OWL_REQUIRE_FIXTURE(root, "lora-stories260K");
  const fs::path case_dir = root / GetParam();
  const auto model = owl::Model::from_file(owl::open_model_file((root / "stories260K-hf").string()));
  const json inf = read_json(case_dir / "inference" / "inference.json");
  const std::vector<int32_t> ids = inf["input_ids"].get<std::vector<int32_t>>();
  owl::ThreadPool pool(2);
  const owl::LoraAdapter trained = owl::read_peft_adapter((case_dir / "adapter_after").string(), *model);
  const std::vector<float> with = owl::train::TrainPass(*model, trained, pool).logits(ids);
  const std::vector<float> want = read_f32_file(case_dir / "inference" / "logits_adapter_after.f32");
  ASSERT_EQ(with.size(), want.size());
  EXPECT_LE(nmse(with, want), 1e-9);
  const owl::LoraAdapter none;
  const std::vector<float> base = owl::train::TrainPass(*model, none, pool).logits(ids);
  EXPECT_LE(nmse(base, read_f32_file(case_dir / "inference" / "logits_base.f32")), 1e-9);
}

// Full-batch AdamW for the case's steps with its schedule, weight decay and clipping: every step's
// loss, gradient norm and rate, then the trained adapter, against PyTorch's.
TEST_P(LoraReference, TrainingStepsAndTrainedAdapter) {
  OWL_REQUIRE_FIXTURE(root, "lora-stories260K");
  const fs::path case_dir = root / GetParam();
  const auto model = owl::Model::from_file(owl::open_model_file((root / "stories260K-hf").string()));
  const json train = read_json(case_dir / "train.json");
  owl::LoraAdapter adapter = owl::read_peft_adapter((case_dir / "adapter_init").string(), *model);
  const owl::LoraAdapter init = adapter;
  const owl::train::TrainBatch batch = batch_of(case_dir);
  owl::train::ScheduleOptions schedule;
  schedule.lr = train["optimizer"]["lr"].get<double>();
  schedule.total = train["steps"].get<int64_t>();
  if (train["schedule"]["type"] == "cosine_with_warmup") {
    schedule.kind = owl::train::LrSchedule::cosine;
    schedule.warmup = train["schedule"]["warmup_steps"].get<int64_t>();
  }
  owl::train::AdamWOptions adamw;
  adamw.weight_decay = train["optimizer"]["weight_decay"].get<double>();
  const double max_norm = train["gradient_clipping"].is_null() ? 0.0 : train["gradient_clipping"]["max_norm"].get<double>();
  owl::ThreadPool pool(2);
  owl::train::TrainPass pass(*model, adapter, pool);
  owl::train::AdamW optimizer(adamw);
  double worst_loss = 0;
  for (int64_t s = 0; s < schedule.total; ++s) {
    const json& h = train["history"][static_cast<size_t>(s)];
    owl::train::LoraGrads grads;
    const double loss = pass.loss_and_grads(batch, grads);
    const double norm = owl::train::global_norm(grads);
    worst_loss = std::max(worst_loss, std::fabs(loss - h["loss"].get<double>()));
    EXPECT_NEAR(norm, h["grad_norm"].get<double>(), 1e-5 * h["grad_norm"].get<double>()) << "step " << s + 1;
    const double lr = owl::train::learning_rate(schedule, s);
    EXPECT_NEAR(lr, h["lr"].get<double>(), 1e-15) << "step " << s + 1;
    if (max_norm > 0) {
      const double coef = owl::train::clip_by_global_norm(grads, norm, max_norm);
      EXPECT_NEAR(coef, h["clip_coef"].get<double>(), 1e-5) << "step " << s + 1;
    }
    optimizer.step(adapter, grads, lr);
  }
  EXPECT_LE(worst_loss, 1e-5);
  const double final_loss = pass.loss(batch);
  EXPECT_NEAR(final_loss, train["final_loss_stored_adapter_after"].get<double>(), 2e-6);
  const owl::LoraAdapter want = owl::read_peft_adapter((case_dir / "adapter_after").string(), *model);
  double num = 0, den = 0, unum = 0, uden = 0, worst = 0;
  for (size_t i = 0; i < want.modules.size(); ++i) {
    const owl::LoraModule* got = adapter.find(want.modules[i].layer, want.modules[i].target);
    const owl::LoraModule* start = init.find(want.modules[i].layer, want.modules[i].target);
    ASSERT_NE(got, nullptr);
    for (int ab = 0; ab < 2; ++ab) {
      const auto& g = ab == 0 ? got->a : got->b;
      const auto& w = ab == 0 ? want.modules[i].a : want.modules[i].b;
      const auto& s0 = ab == 0 ? start->a : start->b;
      worst = std::max(worst, nmse(g, w));
      for (size_t j = 0; j < w.size(); ++j) {
        num += (static_cast<double>(g[j]) - w[j]) * (static_cast<double>(g[j]) - w[j]);
        den += static_cast<double>(w[j]) * w[j];
        const double du = (static_cast<double>(g[j]) - s0[j]) - (static_cast<double>(w[j]) - s0[j]);
        unum += du * du;
        uden += (static_cast<double>(w[j]) - s0[j]) * (static_cast<double>(w[j]) - s0[j]);
      }
    }
  }
  EXPECT_LE(num / den, 1e-10);
  EXPECT_LE(worst, 1e-7);
  EXPECT_LE(unum / uden, 1e-8);
  std::printf("[ %s training ] %lld steps: worst step-loss diff %.2e, final loss %.10f (reference %.10f), adapter NMSE "
              "%.2e (worst tensor %.2e), update NMSE %.2e\n",
              GetParam().c_str(), static_cast<long long>(schedule.total), worst_loss, final_loss,
              train["final_loss_stored_adapter_after"].get<double>(), num / den, worst, unum / uden);
}

INSTANTIATE_TEST_SUITE_P(Cases, LoraReference, ::testing::Values("case1_r8_qv_plain", "case2_r4_all7_masked"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param.substr(0, 5); });

// The training forward gives the inference decoder's logits (the same ops in the same order).
TEST(TrainPass, ForwardEqualsDecoderEval) {
  OWL_REQUIRE_FIXTURES();
  const auto model = owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string());
  const std::vector<int32_t> ids = {1, 410, 469, 347, 285, 260, 415, 334, 289, 261, 300, 46};
  owl::ThreadPool pool(2);
  const owl::LoraAdapter none;
  const std::vector<float> train = owl::train::TrainPass(*model, none, pool).logits(ids);
  owl::Decoder decoder(*model, pool);
  owl::KvCache cache(model->spec(), 64);
  const auto eval = decoder.eval(cache, ids, true);
  const std::vector<float> inference(eval.begin(), eval.end());
  EXPECT_LE(nmse(train, inference), 1e-12);
}

}  // namespace
