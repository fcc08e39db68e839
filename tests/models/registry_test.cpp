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

// A rope type that is not a string made json::value() throw nlohmann's type_error out of the HF
// import instead of owl::Error (found by fuzz/hf_config_fuzz).
TEST(Registry, HfRopeTypesMustBeStrings) {
  for (const char* text : {R"({"rope_scaling": {"type": 4, "factor": 2.0}})", R"({"rope_scaling": {"rope_type": null}})",
                           R"({"rope_parameters": {"rope_type": ["linear"]}})"}) {
    const nlohmann::json config = nlohmann::json::parse(text);
    EXPECT_THROW(owl::HfModelConfig(config, "config.json").rope_scaling(), owl::Error) << text;
  }
  const nlohmann::json local = nlohmann::json::parse(R"({"rope_parameters": {"sliding_attention": {"rope_theta": "1e4"}}})");
  EXPECT_THROW(owl::HfModelConfig(local, "config.json").local_rope_theta(), owl::Error);
  const nlohmann::json fine = nlohmann::json::parse(R"({"rope_scaling": {"rope_type": "linear", "factor": 2.0}})");
  EXPECT_EQ(owl::HfModelConfig(fine, "config.json").rope_scaling().value("rope_type", ""), "linear");
}

// A head_dim of 4000000000 (given, or hidden_size / num_attention_heads) made Llama 3's rope_freqs
// loop over 2000000000 rotary pairs (a timeout of fuzz/hf_config_fuzz); it is bounded as the spec bounds it.
TEST(Registry, HfHeadDimIsBounded) {
  for (const char* text : {R"({"hidden_size": 64, "num_attention_heads": 4, "head_dim": 4000000000})",
                           R"({"hidden_size": 4000000000, "num_attention_heads": 1})"}) {
    nlohmann::json config = nlohmann::json::parse(text);
    config["num_hidden_layers"] = 2;
    config["intermediate_size"] = 128;
    owl::AssembledModelFile view("model", "hf");
    EXPECT_THROW(owl::common_hf_metadata(owl::HfModelConfig(config, "config.json"), "llama", view), owl::Error) << text;
  }
}
