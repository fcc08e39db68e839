// Model families by GGUF general.architecture and Hugging Face architectures[0]. Adding a family =
// one file in arch/ plus one row in registry.cpp's table (docs/adding-an-architecture.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/spec.h"

namespace owl {
namespace gguf {
class File;
}

using SpecBuilder = ModelSpec (*)(const gguf::File& file);

// The spec for the file's architecture; owl::Error when it is unknown or its metadata is bad.
ModelSpec spec_from_gguf(const gguf::File& file);
std::vector<std::string_view> supported_architectures();

// The GGUF architecture name of a Hugging Face config.json "architectures[0]" (for the
// safetensors loader), e.g. "MistralForCausalLM" -> "llama"; nullopt when owl has no such family.
std::optional<std::string_view> gguf_arch_for_hf(std::string_view hf_architecture);

}  // namespace owl
