// Model families by GGUF general.architecture and Hugging Face architectures[0]. Adding a family =
// one file in arch/ plus one row in registry.cpp's table (docs/adding-an-architecture.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/spec.h"

namespace owl {
class ModelFile;

struct Family;

// The spec for the file's architecture; owl::Error when it is unknown or its metadata is bad.
ModelSpec spec_from_gguf(const ModelFile& file);
std::vector<std::string_view> supported_architectures();
// The family record (models/arch/families.h) by GGUF general.architecture or by Hugging Face
// config.json "architectures[0]"; nullptr when owl has no such family.
const Family* family_by_gguf(std::string_view arch);
const Family* family_by_hf(std::string_view hf_architecture);
// The family's chat-template fallback for chat::model_template: nullopt when owl has no such family.
std::optional<std::string_view> chat_fallback_for(const ModelFile& file);

// The GGUF architecture name of a Hugging Face config.json "architectures[0]" (for the
// safetensors loader), e.g. "MistralForCausalLM" -> "llama"; nullopt when owl has no such family.
std::optional<std::string_view> gguf_arch_for_hf(std::string_view hf_architecture);

}  // namespace owl
