// owl check's runtime table by format: a Hugging Face directory opens in the HF ecosystem
// (transformers, vLLM, mlx-lm) but not in llama.cpp, an MLX directory in MLX and LM Studio; each
// points at the owl convert that opens the rest.
#include <gtest/gtest.h>

#include <algorithm>

#include "fixtures.h"
#include "models/model_source.h"
#include "tools/check/ecosystem.h"

namespace {

bool loads(const owl::check::EcosystemReport& r, const std::string& id) {
  const auto v = r.loading();
  return std::find(v.begin(), v.end(), id) != v.end();
}

const owl::check::ConvertHint* hint(const owl::check::EcosystemReport& r, const std::string& target) {
  for (const auto& h : r.convert) {
    if (h.target == target) return &h;
  }
  return nullptr;
}

TEST(EcosystemFormats, HuggingFaceAndMlxDirectories) {
  OWL_REQUIRE_FIXTURES();
  const auto hf = owl::check::ecosystem_report(*owl::open_model_file((fixtures / "hf-archs" / "gemma2").string()));
  for (const char* id : {"owl", "transformers", "vllm", "mlx"}) EXPECT_TRUE(loads(hf, id)) << id;
  for (const char* id : {"llama.cpp", "ollama"}) EXPECT_FALSE(loads(hf, id)) << id;
  ASSERT_NE(hint(hf, "gguf"), nullptr);
  EXPECT_TRUE(hint(hf, "gguf")->available);
  const auto& opens = hint(hf, "gguf")->opens;
  EXPECT_NE(std::find(opens.begin(), opens.end(), "llama.cpp"), opens.end());

  const auto mlx = owl::check::ecosystem_report(*owl::open_model_file((fixtures / "mlx-archs" / "qwen2-q4g32").string()));
  for (const char* id : {"owl", "mlx", "lm-studio"}) EXPECT_TRUE(loads(mlx, id)) << id;
  for (const char* id : {"llama.cpp", "transformers", "vllm"}) EXPECT_FALSE(loads(mlx, id)) << id;

  const auto gguf = owl::check::ecosystem_report(*owl::open_model_file((fixtures / "archs" / "qwen2.gguf").string()));
  EXPECT_TRUE(loads(gguf, "llama.cpp"));
  ASSERT_NE(hint(gguf, "mlx"), nullptr);
  const auto& mlx_opens = hint(gguf, "mlx")->opens;
  EXPECT_NE(std::find(mlx_opens.begin(), mlx_opens.end(), "mlx"), mlx_opens.end());  // mlx reads GGUF llama only
}

}  // namespace
