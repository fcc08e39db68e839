// Model families by GGUF general.architecture. Adding a family = one file in arch/ plus one row
// in registry.cpp's table.
#pragma once

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

}  // namespace owl
