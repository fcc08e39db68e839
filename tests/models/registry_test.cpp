// The family registry: GGUF and Hugging Face names.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/gguf.h"
#include "models/arch/families.h"
#include "models/arch/hf_config.h"
#include "models/registry.h"
#include "test_files.h"

TEST(Registry, HuggingFaceNamesMapToGgufArchitectures) {
  EXPECT_EQ(owl::gguf_arch_for_hf("LlamaForCausalLM"), "llama");
  EXPECT_EQ(owl::gguf_arch_for_hf("MistralForCausalLM"), "llama");
  EXPECT_EQ(owl::gguf_arch_for_hf("Gemma2ForCausalLM"), "gemma2");
  EXPECT_EQ(owl::gguf_arch_for_hf("Gemma3ForConditionalGeneration"), "gemma3");
  EXPECT_EQ(owl::gguf_arch_for_hf("Qwen2ForCausalLM"), "qwen2");
  EXPECT_EQ(owl::gguf_arch_for_hf("Phi3ForCausalLM"), "phi3");
  EXPECT_FALSE(owl::gguf_arch_for_hf("MambaForCausalLM").has_value());
  EXPECT_FALSE(owl::gguf_arch_for_hf("Llama").has_value());
  EXPECT_EQ(owl::supported_architectures().size(), 7u);
}

// A Gemma 2 / 3 GGUF file whose layer period is 0 divided by zero building the spec (found with
// fuzz/gguf_reader_fuzz); now an owl::Error naming the key.
TEST(Registry, ZeroSlidingWindowPatternIsRefused) {
  for (const std::string arch : {"gemma2", "gemma3"}) {
    owl::gguf::Writer w;
    w.set("general.architecture", {arch});
    w.set(arch + ".context_length", {uint32_t{256}});
    w.set(arch + ".embedding_length", {uint32_t{64}});
    w.set(arch + ".block_count", {uint32_t{2}});
    w.set(arch + ".feed_forward_length", {uint32_t{128}});
    w.set(arch + ".attention.head_count", {uint32_t{4}});
    w.set(arch + ".attention.sliding_window_pattern", {uint32_t{0}});
    const auto path = scratch_path(arch + "-period0.gguf");
    w.write(path.string());
    const auto file = owl::gguf::File::open(path.string());
    try {
      owl::spec_from_gguf(*file);
      ADD_FAILURE() << arch << ": accepted";
    } catch (const owl::Error& e) {
      EXPECT_NE(std::string(e.what()).find("sliding_window_pattern"), std::string::npos) << e.what();
    }
  }
}

// A config.json of 4000000000 layers kept the layer-pattern search busy for minutes (a timeout of
// fuzz/hf_config_fuzz); the layer count is now bounded first, as the spec bounds it.
TEST(Registry, HfSlidingPeriodRefusesAbsurdLayerCounts) {
  const nlohmann::json huge = {{"num_hidden_layers", 4000000000LL}};
  EXPECT_THROW(owl::hf_sliding_period(owl::HfModelConfig(huge, "config.json"), 2), owl::Error);
  const nlohmann::json every_third = {{"num_hidden_layers", 6}, {"sliding_window_pattern", 3}};
  EXPECT_EQ(owl::hf_sliding_period(owl::HfModelConfig(every_third, "config.json"), 2), 3);
}
