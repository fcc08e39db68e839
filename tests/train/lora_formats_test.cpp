// Adapters in the three formats (PEFT, llama.cpp's GGUF, mlx-lm's): PyTorch's trained adapter,
// written by owl in each format from one base (HF or GGUF row order) and read for the other, gives
// PyTorch's logits; reading back what was written gives the same tensors; broken files are errors.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "fixtures.h"
#include "formats/gguf.h"
#include "models/decoder.h"
#include "models/lora_adapter.h"
#include "models/model_fixtures.h"
#include "models/model_source.h"
#include "test_files.h"
#include "train/train_test_util.h"

namespace {

namespace fs = std::filesystem;

double logits_nmse(owl::Model& model, const owl::LoraAdapter& adapter, const std::vector<int32_t>& ids,
                   const std::vector<float>& want) {
  owl::attach_lora(model, adapter, 1.0f);
  owl::ThreadPool pool(2);
  owl::Decoder decoder(model, pool);
  owl::KvCache cache(model.spec(), 64);
  return nmse(decoder.eval(cache, ids, true), want);
}

TEST(LoraFormats, EveryFormatAcrossRowOrdersGivesPyTorchLogits) {
  OWL_REQUIRE_FIXTURES();
  const fs::path case_dir = fixtures / "lora-stories260K" / "case2_r4_all7_masked";
  std::ifstream in(case_dir / "inference" / "inference.json");
  const std::vector<int32_t> ids = nlohmann::json::parse(in)["input_ids"].get<std::vector<int32_t>>();
  const std::vector<float> want = read_f32_file(case_dir / "inference" / "logits_adapter_after.f32");
  auto hf_base = [&] { return owl::Model::from_file(owl::open_model_file((fixtures / "lora-stories260K" / "stories260K-hf").string())); };
  auto gguf_base = [&] { return owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string()); };
  for (const char* format : {"peft", "gguf", "mlx"}) {
    for (int from_hf = 0; from_hf < 2; ++from_hf) {
      const auto writer = from_hf ? hf_base() : gguf_base();
      const owl::LoraAdapter original = owl::read_lora_adapter((case_dir / "adapter_after").string(), *writer);
      const fs::path dir = scratch_path(std::string("adapter-") + format + (from_hf ? "-hf" : "-gguf"));
      owl::write_lora_adapter(original, *writer, dir.string(), owl::adapter_format_from_name(format));
      // Read back for the same base: the same tensors and scale.
      const owl::LoraAdapter back = owl::read_lora_adapter(dir.string(), *writer);
      ASSERT_EQ(back.modules.size(), original.modules.size()) << format;
      for (const owl::LoraModule& m : original.modules) {
        const owl::LoraModule* b = back.find(m.layer, m.target);
        ASSERT_NE(b, nullptr);
        EXPECT_EQ(b->a, m.a) << format;
        EXPECT_EQ(b->b, m.b) << format;
        EXPECT_FLOAT_EQ(back.scale(b->rank), original.scale(m.rank)) << format;
      }
      // Read for the other base, whose q/k rows are in the other order.
      auto reader = from_hf ? gguf_base() : hf_base();
      const owl::LoraAdapter other = owl::read_lora_adapter(dir.string(), *reader);
      const double e = logits_nmse(*reader, other, ids, want);
      EXPECT_LE(e, 1e-9) << format << " written for the " << (from_hf ? "HF" : "GGUF") << " base";
    }
  }
}

TEST(LoraFormats, GgufAdapterLayoutIsLlamaCpps) {
  OWL_REQUIRE_FIXTURES();
  const auto model = owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string());
  const fs::path case_dir = fixtures / "lora-stories260K" / "case1_r8_qv_plain";
  const owl::LoraAdapter a = owl::read_lora_adapter((case_dir / "adapter_after").string(), *model);
  const fs::path path = scratch_path("layout.gguf");
  owl::write_gguf_adapter(a, *model, path.string());
  const auto f = owl::gguf::File::open(path.string());
  EXPECT_EQ(f->find_string("general.type").value_or(""), "adapter");
  EXPECT_EQ(f->find_string("adapter.type").value_or(""), "lora");
  EXPECT_EQ(f->find_string("general.architecture").value_or(""), "llama");
  EXPECT_FLOAT_EQ(static_cast<float>(f->find_float("adapter.lora.alpha").value_or(0)), 16.0f);  // r 8, alpha 16
  // lora_a ne = [in, r], lora_b ne = [r, out] (GGUF order of dimensions), as llama-adapter.cpp checks.
  const owl::TensorInfo& la = f->tensor("blk.0.attn_q.weight.lora_a");
  const owl::TensorInfo& lb = f->tensor("blk.0.attn_q.weight.lora_b");
  EXPECT_EQ(la.shape, (std::vector<int64_t>{8, 64}));
  EXPECT_EQ(lb.shape, (std::vector<int64_t>{64, 8}));
}

TEST(LoraFormats, BrokenAdaptersAreErrors) {
  OWL_REQUIRE_FIXTURES();
  const auto model = owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string());
  // A model file is not an adapter.
  EXPECT_THROW(owl::read_lora_adapter(stories260k_gguf(fixtures, owl::DType::f32).string(), *model), owl::Error);
  // An empty directory, a missing path, an mlx-lm config of another kind.
  const fs::path empty = scratch_path("empty-adapter");
  fs::create_directories(empty);
  EXPECT_THROW(owl::read_lora_adapter(empty.string(), *model), owl::Error);
  EXPECT_THROW(owl::read_lora_adapter(scratch_path("missing").string(), *model), owl::Error);
  const fs::path mlx = scratch_path("mlx-dora");
  const owl::LoraAdapter a = owl::read_lora_adapter(
      (fixtures / "lora-stories260K" / "case1_r8_qv_plain" / "adapter_after").string(), *model);
  owl::write_mlx_adapter(a, *model, mlx.string());
  std::ofstream(mlx / "adapter_config.json") << R"({"fine_tune_type": "dora"})";
  EXPECT_THROW(owl::read_lora_adapter(mlx.string(), *model), owl::Error);
  // A truncated GGUF adapter.
  const fs::path g = scratch_path("cut.gguf");
  owl::write_gguf_adapter(a, *model, g.string());
  const std::string bytes = read_file(g);
  std::ofstream(g, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THROW(owl::read_lora_adapter(g.string(), *model), owl::Error);
}

}  // namespace
