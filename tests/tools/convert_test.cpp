// owl convert in every direction on the family fixtures: GGUF -> HF -> GGUF gives the same tensor
// bytes (F32 and F16), HF -> MLX writes the bytes mlx-lm writes (mlx-archs), MLX -> HF gives the
// dequantized weights exactly, and a converted model gives its source's logits.
#include <gtest/gtest.h>

#include <cstring>

#include "base/error.h"
#include "fixtures.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "models/model.h"
#include "models/model_source.h"
#include "models/reference_logits.h"
#include "tensor/mlx_affine.h"
#include "tools/hf_writer.h"
#include "tools/quantize.h"

namespace {

namespace fs = std::filesystem;

const char* const kFamilies[] = {"llama", "llama-gqa", "llama-rope-freqs", "gemma", "gemma2",
                                 "gemma3", "qwen2", "qwen3", "phi3", "phi3-longrope"};

void expect_same_tensors(const owl::ModelFile& a, const owl::ModelFile& b, const std::string& what) {
  EXPECT_EQ(a.tensors().size(), b.tensors().size()) << what;
  for (const owl::TensorInfo& t : a.tensors()) {
    const owl::TensorInfo* u = b.find_tensor(t.name);
    ASSERT_NE(u, nullptr) << what << ": " << t.name;
    EXPECT_EQ(u->shape, t.shape) << what << ": " << t.name;
    ASSERT_EQ(u->type, t.type) << what << ": " << t.name;
    ASSERT_EQ(u->n_bytes, t.n_bytes) << what << ": " << t.name;
    if (t.name.starts_with("rope_")) continue;  // remade from config.json (float32 rounding)
    EXPECT_EQ(std::memcmp(u->data, t.data, t.n_bytes), 0) << what << ": " << t.name;
  }
}

class ConvertFamily : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const auto root = owl_fixtures();
    if (!root || !fs::exists(*root / "archs")) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
    root_ = *root;
    name_ = GetParam();
  }
  fs::path root_;
  std::string name_;
};

TEST_P(ConvertFamily, GgufToHfToGgufKeepsTensorBytesAndLogits) {
  const std::string src = (root_ / "archs" / (name_ + ".gguf")).string();
  for (const owl::DType type : {owl::DType::f32, owl::DType::f16}) {
    const std::string tag = name_ + "-" + std::string(owl::dtype_name(type));
    std::string gguf = src;
    if (type != owl::DType::f32) {  // an F16 GGUF first (1-D tensors stay F32)
      gguf = scratch_path(tag + ".gguf").string();
      owl::QuantizeOptions q;
      q.type = type;
      owl::quantize_model(src, gguf, q);
    }
    const std::string hf = scratch_path(tag + "-hf").string();
    owl::HfWriteOptions o;
    o.dtype = type;
    o.max_shard_bytes = 200'000;  // several shards and an index, as large models have
    const owl::HfWriteReport r = owl::write_hf_directory(*owl::open_model_file(gguf), hf, o);
    EXPECT_GT(r.n_shards, 1u) << tag;
    const std::string back = scratch_path(tag + "-back.gguf").string();
    owl::QuantizeOptions keep;
    keep.type = std::nullopt;
    owl::quantize_model(hf, back, keep);
    const auto a = owl::open_model_file(gguf);
    const auto b = owl::open_model_file(back);
    expect_same_tensors(*a, *b, tag);

    const auto ma = owl::Model::load(gguf);
    const auto mb = owl::Model::load(hf);
    const std::vector<int32_t> tokens = {1, 5, 9, 77, 3, 40, 41, 42};
    const auto la = prefill(*ma, tokens), lb = prefill(*mb, tokens);
    EXPECT_LE(nmse(lb.data(), la.data(), static_cast<int64_t>(la.size())), 1e-12) << tag;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ConvertFamily, ::testing::ValuesIn(kFamilies), [](const auto& param_info) {
  std::string s = param_info.param;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
});

// mlx-archs directories as HF -> MLX with their settings: the same bytes mlx-lm wrote.
TEST(ConvertMlx, HfToMlxWritesWhatMlxLmWrites) {
  OWL_REQUIRE_FIXTURES();
  for (const auto& [mlx_dir, hf_dir, bits, group] :
       {std::tuple{"llama-q4g64", "llama", 4, 64}, std::tuple{"qwen2-q4g32", "qwen2", 4, 32},
        std::tuple{"llama-gqa-q8g64", "llama-gqa", 8, 64}, std::tuple{"gemma2-q4g64", "gemma2", 4, 64},
        std::tuple{"phi3-longrope-q8g64", "phi3-longrope", 8, 64}}) {
    const fs::path want = fixtures / "mlx-archs" / mlx_dir;
    const auto config = nlohmann::json::parse(read_file(want / "config.json"));
    owl::HfWriteOptions o;
    o.mlx_bits = bits;
    o.mlx_group_size = group;
    o.dtype = config["torch_dtype"] == "float16" ? owl::DType::f16 : owl::DType::bf16;
    const std::string out = scratch_path(std::string("mlx-") + mlx_dir).string();
    owl::write_hf_directory(*owl::open_model_file((fixtures / "hf-archs" / hf_dir).string()), out, o);
    const auto a = owl::safetensors::File::open((want / "model.safetensors").string());
    const auto b = owl::safetensors::File::open(out + "/model.safetensors");
    EXPECT_EQ(a->tensors().size(), b->tensors().size()) << mlx_dir;
    for (const owl::safetensors::Tensor& t : a->tensors()) {
      const owl::safetensors::Tensor* u = b->find(t.name);
      ASSERT_NE(u, nullptr) << mlx_dir << ": " << t.name;
      EXPECT_EQ(u->dtype, t.dtype) << mlx_dir << ": " << t.name;
      EXPECT_EQ(u->shape, t.shape) << mlx_dir << ": " << t.name;
      ASSERT_EQ(u->n_bytes, t.n_bytes) << mlx_dir << ": " << t.name;
      EXPECT_EQ(std::memcmp(u->data, t.data, t.n_bytes), 0) << mlx_dir << ": " << t.name;
    }
    // And owl runs what it wrote as it runs mlx-lm's.
    const auto ma = owl::Model::load(want.string());
    const auto mb = owl::Model::load(out);
    const std::vector<int32_t> tokens = {1, 5, 9, 77, 3, 40};
    const auto la = prefill(*ma, tokens), lb = prefill(*mb, tokens);
    EXPECT_EQ(la, lb) << mlx_dir;
  }
}

// MLX -> HF (float32): every weight is MLX's scale·q + bias, exactly.
TEST(ConvertMlx, MlxToHfGivesTheDequantizedWeights) {
  OWL_REQUIRE_FIXTURES();
  for (const char* name : {"llama-q4g64", "llama-mixed_3_6-g64", "phi3-longrope-q8g64"}) {
    const fs::path dir = fixtures / "mlx-archs" / name;
    owl::HfWriteOptions o;
    o.dtype = owl::DType::f32;
    const std::string out = scratch_path(std::string("hf-from-") + name).string();
    owl::write_hf_directory(*owl::open_model_file(dir.string()), out, o);
    const auto src = owl::safetensors::File::open((dir / "model.safetensors").string());
    const auto hf = owl::safetensors::File::open(out + "/model.safetensors");
    const auto config = nlohmann::json::parse(read_file(dir / "config.json"));
    size_t checked = 0;
    for (const owl::safetensors::Tensor& scales : src->tensors()) {
      if (!scales.name.ends_with(".scales")) continue;
      const std::string module = scales.name.substr(0, scales.name.size() - 7);
      const auto& q = config["quantization"];
      const int bits = q.contains(module) ? q[module]["bits"].get<int>() : q["bits"].get<int>();
      const int64_t group = q.contains(module) ? q[module]["group_size"].get<int64_t>() : q["group_size"].get<int64_t>();
      const auto* w = src->find(module + ".weight");
      const auto* biases = src->find(module + ".biases");
      const auto* got = hf->find(module + ".weight");
      ASSERT_NE(got, nullptr) << name << ": " << module;
      const int64_t rows = scales.shape[0], cols = scales.shape[1] * group;
      ASSERT_EQ(got->n_elements, static_cast<uint64_t>(rows * cols));
      const auto type = scales.dtype == owl::safetensors::DType::f16 ? owl::mlx::ScaleType::f16 : owl::mlx::ScaleType::bf16;
      std::vector<float> want(static_cast<size_t>(cols)), have(static_cast<size_t>(cols));
      for (int64_t r = 0; r < rows; ++r) {
        owl::mlx::dequantize_packed_row(w->data + r * cols * bits / 8, cols, bits, group, type,
                                        reinterpret_cast<const uint16_t*>(scales.data + r * scales.shape[1] * 2),
                                        reinterpret_cast<const uint16_t*>(biases->data + r * scales.shape[1] * 2),
                                        want.data());
        std::memcpy(have.data(), got->data + r * cols * 4, static_cast<size_t>(cols) * 4);
        // Llama's q/k rows were permuted to GGUF order and back: compare as sets of rows would hide
        // a wrong permutation, so compare row for row.
        ASSERT_EQ(have, want) << name << ": " << module << " row " << r;
      }
      ++checked;
    }
    EXPECT_GT(checked, 0u) << name;
  }
}

TEST(ConvertRefuses, OverwritingItsInput) {
  OWL_REQUIRE_FIXTURES();
  const std::string gguf = (fixtures / "archs" / "llama.gguf").string();
  EXPECT_THROW(owl::refuse_overwriting_input(gguf, gguf), owl::Error);
  const std::string dir = (fixtures / "hf-archs" / "llama").string();
  EXPECT_THROW(owl::refuse_overwriting_input(dir, dir + "/model.gguf"), owl::Error);
  EXPECT_NO_THROW(owl::refuse_overwriting_input(gguf, scratch_path("elsewhere.gguf").string()));
}

}  // namespace
