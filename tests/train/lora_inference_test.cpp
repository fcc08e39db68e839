// LoRA at inference: adapters attached to a model (ops::linear's terms in every Decoder) give
// PyTorch's logits with PEFT's trained adapter, on the HF base and on the GGUF base (q/k B rows
// permuted); owl run --lora continues a prompt as the reference's greedy run does.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "models/decoder.h"
#include "models/lora_adapter.h"
#include "models/model_fixtures.h"
#include "models/model_source.h"
#include "run_owl.h"
#include "test_files.h"
#include "train/train_test_util.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class LoraInference : public ::testing::TestWithParam<std::string> {};

TEST_P(LoraInference, AttachedAdapterGivesPyTorchLogits) {
  OWL_REQUIRE_FIXTURES();
  const fs::path case_dir = fixtures / "lora-stories260K" / GetParam();
  std::ifstream in(case_dir / "inference" / "inference.json");
  const json inf = json::parse(in);
  const std::vector<int32_t> ids = inf["input_ids"].get<std::vector<int32_t>>();
  const std::vector<float> want = read_f32_file(case_dir / "inference" / "logits_adapter_after.f32");
  const std::vector<float> want_base = read_f32_file(case_dir / "inference" / "logits_base.f32");
  for (int base = 0; base < 2; ++base) {
    auto model = base == 0 ? owl::Model::from_file(owl::open_model_file((fixtures / "lora-stories260K" / "stories260K-hf").string()))
                           : owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string());
    owl::ThreadPool pool(2);
    {
      owl::Decoder decoder(*model, pool);
      owl::KvCache cache(model->spec(), 64);
      EXPECT_LE(nmse(decoder.eval(cache, ids, true), want_base), 1e-9) << "base " << base << " without the adapter";
    }
    owl::attach_lora(*model, owl::read_lora_adapter((case_dir / "adapter_after").string(), *model), 1.0f);
    owl::Decoder decoder(*model, pool);
    owl::KvCache cache(model->spec(), 64);
    const auto logits = decoder.eval(cache, ids, true);
    ASSERT_EQ(logits.size(), want.size());
    EXPECT_LE(nmse(logits, want), 1e-9) << (base == 0 ? "HF base" : "GGUF base");
    // Decoding one token at a time gives what the prompt pass gave (the terms do not depend on the batch).
    owl::KvCache cache1(model->spec(), 64);
    for (size_t t = 0; t < ids.size(); ++t) {
      const auto row = decoder.eval(cache1, std::span<const int32_t>(&ids[t], 1), false);
      for (size_t v = 0; v < row.size(); ++v) ASSERT_NEAR(row[v], logits[t * row.size() + v], 1e-4) << t;
    }
  }
}

TEST_P(LoraInference, RunWithLoraContinuesAsTheReference) {
  OWL_REQUIRE_FIXTURES();
  const fs::path case_dir = fixtures / "lora-stories260K" / GetParam();
  std::ifstream in(case_dir / "inference" / "inference.json");
  const json greedy = json::parse(in)["greedy"];
  const std::string model = stories260k_gguf(fixtures, owl::DType::f32).string();
  const std::string prompt = greedy["prompt"].get<std::string>();
  const std::string common = "run " + model + " -p \"" + prompt + "\" -n 24 --temp 0 -t 2";
  const OwlResult with = run_owl(common + " --lora " + (case_dir / "adapter_after").string());
  ASSERT_EQ(with.status, 0) << with.err;
  EXPECT_NE(with.out.find(greedy["adapter_after_text"].get<std::string>().substr(prompt.size())), std::string::npos)
      << with.out;
  const OwlResult without = run_owl(common);
  ASSERT_EQ(without.status, 0) << without.err;
  EXPECT_NE(without.out.find(greedy["base_text"].get<std::string>().substr(prompt.size())), std::string::npos)
      << without.out;
  // A scale of 0 is the base model.
  const OwlResult zero = run_owl(common + " --lora " + (case_dir / "adapter_after").string() + " --lora-scale 0");
  EXPECT_EQ(zero.out, without.out);
}

INSTANTIATE_TEST_SUITE_P(Cases, LoraInference, ::testing::Values("case1_r8_qv_plain", "case2_r4_all7_masked"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param.substr(0, 5); });

TEST(LoraInference, BadAdaptersAreOneLineErrors) {
  OWL_REQUIRE_FIXTURES();
  const std::string model = stories260k_gguf(fixtures, owl::DType::f32).string();
  const OwlResult missing = run_owl("run " + model + " -p hi -n 1 --lora /nonexistent-adapter");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("/nonexistent-adapter"), std::string::npos) << missing.err;
  // An adapter for another model: the shapes do not fit.
  const fs::path other = scratch_path("other-adapter");
  fs::create_directories(other);
  std::ofstream(other / "adapter_config.json") << R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4})";
  const fs::path st = fixtures / "lora-stories260K" / "case1_r8_qv_plain" / "adapter_init" / "adapter_model.safetensors";
  std::string bytes = read_file(st);
  std::ofstream(other / "adapter_model.safetensors", std::ios::binary) << bytes;
  const auto tiny = owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string());
  EXPECT_NO_THROW(owl::read_lora_adapter(other.string(), *tiny));  // same shapes: fine
  std::ofstream(other / "adapter_config.json") << R"({"peft_type": "PREFIX_TUNING"})";
  const OwlResult wrong = run_owl("run " + model + " -p hi -n 1 --lora " + other.string());
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.err.find("adapter_config.json"), std::string::npos) << wrong.err;
  const OwlResult scales = run_owl("run " + model + " -p hi -n 1 --lora-scale 2");
  EXPECT_EQ(scales.status, 1);
  EXPECT_NE(scales.err.find("--lora-scale"), std::string::npos) << scales.err;
}

}  // namespace
