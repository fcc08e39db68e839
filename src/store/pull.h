// owl pull: a model from Ollama's registry (an image manifest naming sha256 blobs) or from a Hugging
// Face repository (the Hub's tree API, then each file from resolve/), into the store. Every blob is
// downloaded as store/download.h says (resumable, several connections for a large file, checked
// against its size and digest, then renamed into place); the manifest is written last.
// An interrupted pull leaves nothing half-written in the store.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "store/model_store.h"

namespace owl::store {

struct PullProgress {
  // Ollama's words: "pulling manifest", "pulling <digest's first 12 hex or file path>",
  // "verifying sha256 digest", "writing manifest", "success"; also "waiting for another pull of ...".
  std::string status;
  std::string digest;  // the blob being pulled ("sha256:...", empty for a Hub file kept in git)
  uint64_t completed = 0, total = 0;
};

struct PullOptions {
  std::string registry;     // Ollama protocol base URL for NAME[:TAG] names ($OWL_REGISTRY, else Ollama's)
  std::string hf_endpoint;  // $HF_ENDPOINT, else https://huggingface.co
  std::string hf_token;     // $HF_TOKEN or --token: gated repositories
  int attempts = 4;         // connections tried per byte range before the pull fails (the partial file stays)
  int connections = 4;      // a large file is fetched in up to this many byte ranges at once
  uint64_t segment_bytes = uint64_t{32} << 20;  // the smallest range given its own connection
  std::function<void(const PullProgress&)> progress;

  static PullOptions from_environment();
};

// Pulls `name` (store/model_store.h's spellings) and returns it as stored. owl::Error for an unknown
// model, a network failure, a digest or size mismatch (the bad bytes are deleted), a manifest naming
// an invalid digest or path, or too little disk space.
ModelName pull(ModelStore& store, std::string_view name, const PullOptions& options);

}  // namespace owl::store
