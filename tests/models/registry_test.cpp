// The family registry: GGUF and Hugging Face names.
#include <gtest/gtest.h>

#include "models/registry.h"

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
