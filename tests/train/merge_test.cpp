// owl merge: the merged weights equal PyTorch's W + scale·B·A (../shared/fixtures/lora-stories260K
// merged/), and a merged model written as GGUF or as a Hugging Face directory gives the logits of
// the base with the adapter applied.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "models/decoder.h"
#include "models/model_fixtures.h"
#include "models/model_source.h"
#include "run_owl.h"
#include "test_files.h"
#include "train/train_test_util.h"
#include "tools/merge.h"

namespace {

namespace fs = std::filesystem;

std::vector<float> as_f32(const owl::TensorInfo& t) {
  std::vector<float> v(t.n_elements);
  EXPECT_EQ(t.type, owl::DType::f32) << t.name;
  std::memcpy(v.data(), t.data, v.size() * 4);
  return v;
}

double logits_nmse(const std::string& model_path, const fs::path& case_dir) {
  std::ifstream in(case_dir / "inference" / "inference.json");
  const std::vector<int32_t> ids = nlohmann::json::parse(in)["input_ids"].get<std::vector<int32_t>>();
  const std::vector<float> want = read_f32_file(case_dir / "inference" / "logits_adapter_after.f32");
  const auto model = owl::Model::load(model_path);
  owl::ThreadPool pool(2);
  owl::Decoder decoder(*model, pool);
  owl::KvCache cache(model->spec(), 64);
  return nmse(decoder.eval(cache, ids, true), want);
}

class Merge : public ::testing::TestWithParam<std::string> {};

TEST_P(Merge, WeightsEqualPyTorchsMerge) {
  OWL_REQUIRE_FIXTURE(root, "lora-stories260K");
  const fs::path case_dir = root / GetParam();
  const auto base = owl::Model::from_file(owl::open_model_file((root / "stories260K-hf").string()));
  const std::vector<owl::ScaledAdapter> adapters = {{owl::read_lora_adapter((case_dir / "adapter_after").string(), *base), 1.0f}};
  const auto merged = owl::merged_view(*base, adapters, false);
  const auto want = owl::open_model_file((case_dir / "merged").string());
  ASSERT_EQ(merged->tensors().size(), want->tensors().size());
  int changed = 0;
  for (const owl::TensorInfo& w : want->tensors()) {
    const std::vector<float> a = as_f32(merged->tensor(w.name)), b = as_f32(w);
    const std::vector<float> original = as_f32(base->file().tensor(w.name));
    ASSERT_EQ(a.size(), b.size()) << w.name;
    changed += a != original ? 1 : 0;
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 2e-7f * (1.0f + std::fabs(b[i]))) << w.name << " " << i;
  }
  EXPECT_GT(changed, 0);
}

TEST_P(Merge, MergedFilesGiveTheAdaptersLogits) {
  OWL_REQUIRE_FIXTURES();
  const fs::path case_dir = fixtures / "lora-stories260K" / GetParam();
  const std::string adapter = (case_dir / "adapter_after").string();
  const std::string gguf_base = stories260k_gguf(fixtures, owl::DType::f32).string();
  const std::string out = scratch_path("merged-" + GetParam() + ".gguf").string();
  const OwlResult r = run_owl("merge -m " + gguf_base + " --lora " + adapter + " -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_LE(logits_nmse(out, case_dir), 1e-9);
  // From the HF base into a Hugging Face directory.
  const std::string hf_out = scratch_path("merged-" + GetParam() + "-hf").string();
  const OwlResult h = run_owl("merge " + (fixtures / "lora-stories260K" / "stories260K-hf").string() + " --lora " + adapter +
                              " -o " + hf_out + " --to hf");
  ASSERT_EQ(h.status, 0) << h.err;
  EXPECT_LE(logits_nmse(hf_out, case_dir), 1e-9);
  // Merged and quantized in one go.
  const std::string q8 = scratch_path("merged-" + GetParam() + "-q8.gguf").string();
  ASSERT_EQ(run_owl("merge -m " + gguf_base + " --lora " + adapter + " -o " + q8 + " --type q8_0").status, 0);
  EXPECT_LE(logits_nmse(q8, case_dir), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Cases, Merge, ::testing::Values("case1_r8_qv_plain", "case2_r4_all7_masked"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param.substr(0, 5); });

TEST(Merge, RefusesWithoutAnAdapterAndOverItsInput) {
  OWL_REQUIRE_FIXTURES();
  const std::string gguf_base = stories260k_gguf(fixtures, owl::DType::f32).string();
  const OwlResult none = run_owl("merge -m " + gguf_base + " -o " + scratch_path("x.gguf").string());
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("--lora"), std::string::npos) << none.err;
  const std::string adapter = (fixtures / "lora-stories260K" / "case1_r8_qv_plain" / "adapter_after").string();
  const OwlResult over = run_owl("merge -m " + gguf_base + " --lora " + adapter + " -o " + gguf_base);
  EXPECT_EQ(over.status, 1);
}

}  // namespace
