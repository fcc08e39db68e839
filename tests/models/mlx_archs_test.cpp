// Every family loaded straight from an MLX quantized directory (../shared/fixtures/mlx-archs)
// against the transformers-semantics reference on the dequantized weights: NMSE <= 1e-5 and the
// same argmax at every position, the same 32 greedy tokens. 4- and 5-bit modules load as Q4_1 /
// Q5_1 blocks holding MLX's scale·q + bias exactly, the other widths as float32.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "models/model.h"
#include "models/model_source.h"
#include "models/reference_logits.h"

namespace {

const char* const kDirs[] = {"llama-q4g64",     "llama-mixed_3_6-g64", "llama-rope-freqs-q4g32", "llama-gqa-q4g64",
                             "llama-gqa-q8g64", "gemma-q4g64",         "gemma2-q4g64",           "gemma3-q4g64",
                             "qwen2-q4g32",     "qwen3-q4g32",         "qwen3-q4g64",            "phi3-q4g64",
                             "phi3-longrope-q4g64", "phi3-longrope-q8g64"};

class MlxArch : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const auto root = owl_fixtures();
    if (!root || !std::filesystem::exists(*root / "mlx-archs")) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
    dir_ = *root / "mlx-archs" / GetParam();
  }
  std::filesystem::path dir_;
};

TEST_P(MlxArch, LogitsAndGreedyMatchTheDequantizedReference) {
  const auto model = owl::Model::load(dir_.string());
  EXPECT_EQ(model->file().format(), "mlx");
  const double worst = expect_matches_reference(*model, load_ref_cases(dir_ / "ref.json"), GetParam());
  std::printf("[ measured ] %-22s worst NMSE vs the dequantized reference %.3g\n", GetParam(), worst);
}

TEST_P(MlxArch, FourBitModulesBecomeQ4_1Blocks) {
  const auto view = owl::open_model_file(dir_.string());
  size_t q4_1 = 0, f32_matrices = 0;
  for (const owl::TensorInfo& t : view->tensors()) {
    if (t.type == owl::DType::q4_1) ++q4_1;
    if (t.type == owl::DType::f32 && t.shape.size() == 2) ++f32_matrices;
  }
  const std::string name = GetParam();
  if (name.find("q4g") != std::string::npos) {
    EXPECT_GT(q4_1, 0u) << name;
    EXPECT_EQ(f32_matrices, 0u) << name;
  } else {
    EXPECT_EQ(q4_1, 0u) << name;  // 3-, 6- and 8-bit modules hold scale·q + bias as float32
  }
}

INSTANTIATE_TEST_SUITE_P(Families, MlxArch, ::testing::ValuesIn(kDirs), [](const auto& param_info) {
  std::string s = param_info.param;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
});

}  // namespace
