// Models other tools already have, read in place and never copied: Ollama's store ($OLLAMA_MODELS,
// else ~/.ollama/models; the same layout as owl's) and the Hugging Face cache ($HF_HUB_CACHE, else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub:
// models--OWNER--REPO/{refs/main, snapshots/REV/...}).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/model_store.h"

namespace owl::store {

struct ForeignModel {
  ModelName name;
  std::string source;  // "ollama" or "hf-cache"
  std::filesystem::path path;  // what owl loads: a GGUF file or a snapshot directory
  uint64_t size = 0;
  std::filesystem::file_time_type modified;
};

std::optional<std::filesystem::path> ollama_models_dir();
std::optional<std::filesystem::path> hf_cache_dir();

// Every model the Hugging Face cache holds (a snapshot holding several GGUF files lists each one,
// its file name as the tag), and the one a name means there. (Ollama's store has owl's layout: the
// catalog reads it as a ModelStore.)
std::vector<ForeignModel> hf_cache_models();
std::optional<ForeignModel> find_hf_cache_model(const ModelName& name);

}  // namespace owl::store
