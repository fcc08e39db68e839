// Writing any model-file view (GGUF, Hugging Face or MLX directory) as a GGUF file: `owl quantize`
// and `owl convert --to gguf`. Matrices take the requested type, or a preset's per-tensor types
// (tools/quant_mix.h), or keep theirs; 1-D tensors (norms, biases) stay float32; metadata is copied
// with general.file_type updated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "formats/imatrix_file.h"
#include "tensor/dtype.h"
#include "tools/quant_mix.h"

namespace owl {

class ModelFile;

struct QuantizeOptions {
  std::optional<DType> type = DType::q8_0;  // nullopt: every tensor keeps its type
  std::optional<TensorTypeOptions> preset;  // llama-quantize's per-tensor types (replaces `type`)
  // false: owl::Error, before anything is written, when a matrix that is already quantized would be
  // quantized to another type (each round loses precision; llama-quantize's --allow-requantize).
  bool allow_requantize = true;
  // Importance-weighted quantization (llama-quantize --imatrix): every tensor with an entry (of its
  // column count; another count is an error) that gets a type with a weighted search uses it; the file
  // and its datasets are named in the output's quantize.imatrix.* metadata.
  const Imatrix* imatrix = nullptr;
  std::string imatrix_file;
  int n_threads = 0;
  // Called after each tensor with (tensors done, total, the tensor's name, the type it got, bytes
  // read so far, bytes to read in all).
  std::function<void(size_t, size_t, std::string_view, DType, uint64_t, uint64_t)> progress;
};

struct QuantizeReport {
  size_t n_tensors = 0;
  size_t n_fallback = 0;  // matrices whose rows do not fit the type's blocks: stored in one that fits
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  size_t n_importance = 0;  // tensors quantized under the importance matrix
};

QuantizeReport write_gguf(const ModelFile& in, const std::string& out_path, const QuantizeOptions& options);
// The same from a path (a GGUF file or a model directory).
QuantizeReport quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& options);

// owl::Error when out_path is in_path or lies inside it (a directory model): a converter never
// writes over what it reads.
void refuse_overwriting_input(const std::string& in_path, const std::string& out_path);

}  // namespace owl
