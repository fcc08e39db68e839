// Every family loaded straight from a Hugging Face directory (../shared/fixtures/hf-archs) against
// the reference logits of an independent float64 transformers forward pass: NMSE <= 1e-5 and the
// same argmax at every position, the same 32 greedy tokens; and the view's tensors equal the GGUF
// tensors llama.cpp's converter made of the same weights (archs/), bit for bit.
#include <gtest/gtest.h>

#include <cstring>

#include "fixtures.h"
#include "formats/gguf.h"
#include "models/hf_import.h"
#include "models/model.h"
#include "models/model_source.h"
#include "models/reference_logits.h"
#include "test_files.h"

namespace {

const char* const kDirs[] = {"llama",  "llama-bf16", "llama-sharded", "llama-gqa", "llama-rope-freqs", "gemma",
                             "gemma2", "gemma3",     "qwen2",         "qwen3",     "phi3",             "phi3-longrope"};

class HfArch : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const auto root = owl_fixtures();
    if (!root || !std::filesystem::exists(*root / "hf-archs")) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
    root_ = *root;
    dir_ = *root / "hf-archs" / GetParam();
  }
  std::filesystem::path root_, dir_;
};

TEST_P(HfArch, LogitsAndGreedyMatchTheReference) {
  const auto model = owl::Model::load(dir_.string());
  EXPECT_EQ(model->file().format(), "hf");
  const double worst = expect_matches_reference(*model, load_ref_cases(dir_ / "ref.json"), GetParam());
  std::printf("[ measured ] %-16s worst NMSE vs the transformers reference %.3g\n", GetParam(), worst);
}

TEST_P(HfArch, TensorsEqualLlamaCppConversion) {
  const std::string name = GetParam();
  if (name == "llama-bf16") GTEST_SKIP() << "a BF16 model has no F32 GGUF twin";
  const std::string source = name == "llama-sharded" ? "llama" : name;
  const auto gguf = owl::gguf::File::open((root_ / "archs" / (source + ".gguf")).string());
  const auto view = owl::open_model_file(dir_.string());
  EXPECT_EQ(view->tensors().size(), gguf->tensors().size());
  for (const owl::TensorInfo& want : gguf->tensors()) {
    const owl::TensorInfo* got = view->find_tensor(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got->shape, want.shape) << want.name;
    ASSERT_EQ(got->type, want.type) << want.name;
    ASSERT_EQ(got->n_bytes, want.n_bytes) << want.name;
    if (want.name.starts_with("rope_")) {  // computed from config.json: float32 rounding of the same formula
      for (uint64_t i = 0; i < want.n_elements; ++i) {
        const float a = reinterpret_cast<const float*>(got->data)[i], b = reinterpret_cast<const float*>(want.data)[i];
        EXPECT_NEAR(a, b, 1e-6f * std::abs(b)) << want.name << "[" << i << "]";
      }
    } else {
      EXPECT_EQ(owl::gguf_row_order(*got), std::vector<uint8_t>(want.data, want.data + want.n_bytes)) << want.name;
    }
  }
  // The metadata the spec reads agrees: same spec from both.
  const auto a = owl::Model::load(dir_.string());
  const auto b = owl::Model::load((root_ / "archs" / (source + ".gguf")).string());
  EXPECT_EQ(a->spec().n_ctx_train, b->spec().n_ctx_train);
  EXPECT_EQ(a->spec().head_dim, b->spec().head_dim);
  EXPECT_EQ(a->spec().n_rot, b->spec().n_rot);
  EXPECT_FLOAT_EQ(a->spec().rope_attn_factor, b->spec().rope_attn_factor);
  EXPECT_EQ(a->spec().rope_orig_ctx, b->spec().rope_orig_ctx);
  ASSERT_EQ(a->spec().layers.size(), b->spec().layers.size());
  for (size_t i = 0; i < a->spec().layers.size(); ++i) {
    EXPECT_EQ(a->spec().layers[i].sliding_window, b->spec().layers[i].sliding_window) << "layer " << i;
    EXPECT_FLOAT_EQ(a->spec().layers[i].rope_base, b->spec().layers[i].rope_base) << "layer " << i;
    EXPECT_FLOAT_EQ(a->spec().layers[i].rope_freq_scale, b->spec().layers[i].rope_freq_scale) << "layer " << i;
  }
}

// Newer transformers write RoPE as rope_parameters (one object, or one per layer type) instead of
// rope_theta / rope_scaling / rope_local_base_freq: the same model either way.
TEST(HfConfigLayout, RopeParametersFormGivesTheSameModel) {
  OWL_REQUIRE_FIXTURES();
  using nlohmann::json;
  for (const std::string name : {"llama-rope-freqs", "gemma3", "phi3-longrope"}) {
    const auto src = fixtures / "hf-archs" / name;
    const auto dir = scratch_path("rope-parameters-" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::copy(src, dir, std::filesystem::copy_options::recursive);
    json c = json::parse(read_file(src / "config.json"));
    json full = c["rope_scaling"].is_null() ? json{{"rope_type", "default"}} : c["rope_scaling"];
    full["rope_theta"] = c["rope_theta"];
    if (c.contains("rope_local_base_freq")) {
      c["rope_parameters"] = {{"full_attention", full},
                              {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", c["rope_local_base_freq"]}}}};
      c.erase("rope_local_base_freq");
      c.erase("sliding_window_pattern");  // layer_types says it
    } else {
      c["rope_parameters"] = full;
    }
    c.erase("rope_theta");
    c.erase("rope_scaling");
    write_file(dir / "config.json", c.dump(2));
    const auto a = owl::Model::load(src.string());
    const auto b = owl::Model::load(dir.string());
    const std::vector<int32_t> tokens = {1, 5, 9, 77, 3, 40, 41, 42, 43, 44, 45};
    EXPECT_EQ(prefill(*a, tokens), prefill(*b, tokens)) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, HfArch, ::testing::ValuesIn(kDirs), [](const auto& param_info) {
  std::string s = param_info.param;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
});

}  // namespace
