// `owl inspect`: everything a GGUF file says about itself (metadata, hyperparameters, tensor table,
// chat template, tokenizer summary) and optional per-tensor statistics. Needs no architecture support:
// it reads the file through formats/gguf only. Mirrors gguf-py's gguf_dump.py, with --stats added.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace owl {
class ModelFile;

struct TensorStats {
  double min = 0, max = 0, mean = 0, std = 0;  // over finite values
  uint64_t n_nan = 0;
  uint64_t n_inf = 0;
};

struct InspectOptions {
  bool tensors = false;  // the tensor table (always in JSON)
  bool stats = false;    // per-tensor statistics (dequantised to float)
  int threads = 0;       // 0: one per hardware thread
  size_t array_preview = 8;  // items shown of long metadata arrays
  // Called as tensors finish when stats is on: (done, total). From worker threads, serialised.
  std::function<void(size_t, size_t)> progress;
};

// The whole description as JSON (the data model behind the text form).
nlohmann::json inspect_json(const ModelFile& file, const InspectOptions& options);
// Human-readable form of inspect_json().
std::string inspect_text(const nlohmann::json& inspection, const InspectOptions& options);

// Statistics of one tensor's values (dequantised row by row).
TensorStats tensor_stats(const ModelFile& file, size_t tensor_index);

}  // namespace owl
