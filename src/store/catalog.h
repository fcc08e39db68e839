// Every model owl runs by name: owl's own store first, then the models other tools have (Ollama's
// store, the Hugging Face cache), with what a stored name holds besides its weights (Ollama's
// template, parameters, system prompt, license and adapter layers). What owl list, owl show, the
// -m NAME lookup and owl serve's model list all read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/model_store.h"

namespace owl::store {

struct StoredModel {
  ModelName name;
  std::string source;          // "owl", "ollama" or "hf-cache"
  std::filesystem::path path;  // what owl loads: a GGUF file or a directory
  uint64_t size = 0;
  std::filesystem::file_time_type modified;
  std::string digest;          // the manifest's SHA-256 (hex) for owl's and Ollama's stores; "" for the HF cache
  std::optional<Manifest> manifest;
  std::filesystem::path store_root;  // the store holding the manifest (owl's or Ollama's)
};

std::vector<StoredModel> stored_models(const ModelStore& own);
std::optional<StoredModel> find_stored_model(const ModelStore& own, const ModelName& name);

// The text layers of a stored model (each at most 1 MiB) and its adapters.
struct StoredExtras {
  std::string template_text, system, params, license;
  std::vector<std::filesystem::path> adapters;
};
StoredExtras stored_extras(const StoredModel& m);

}  // namespace owl::store
