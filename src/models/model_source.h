// Opens whatever a user points at as one model-file view: a GGUF file, a Hugging Face directory
// (config.json + safetensors) or an MLX quantized directory. The one place above formats/ that
// knows there are several formats; everything else reads the view by GGUF key and tensor name.
#pragma once

#include <memory>
#include <string>

#include "formats/model_file.h"

namespace owl {

// Throws owl::Error naming the path (and the file and key inside a directory) on any problem.
std::unique_ptr<ModelFile> open_model_file(const std::string& path);

// Whether path looks like a model owl can open (a GGUF file or a directory with config.json),
// without opening it: for scanning folders of models.
bool looks_like_model(const std::string& path);

}  // namespace owl
