// What Ollama's /api/tags, /api/show and /api/ps say about a model file: details (format, family,
// parameter size, quantization level) and model_info (the GGUF metadata, long arrays left out as
// Ollama leaves them out), read from the file's header once per file version.
#pragma once

#include <string>

#include "server/json_body.h"
#include "server/model_pool.h"

namespace owl::server {

struct ModelCard {
  Json details;
  Json model_info;
  std::string template_source;
  std::string license;
  std::string parameters;  // Ollama's text form ("stop \"<|eot|>\"\ntemperature 0.7") of a stored model's params
  std::string system;
  // A stored model's manifest digest; for a file, a fingerprint of path, size and modification time.
  std::string digest;
};

// HttpError 500 when the header cannot be read.
const ModelCard& model_card(const ModelEntry& entry);

}  // namespace owl::server
