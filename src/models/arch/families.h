// The spec builders of every family (one per file in this folder).
#pragma once

#include "models/spec.h"

namespace owl {
namespace gguf {
class File;
}

ModelSpec llama_spec(const gguf::File& file);

}  // namespace owl
