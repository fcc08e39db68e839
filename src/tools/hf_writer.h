// Writing any model-file view as a Hugging Face directory (config.json, generation_config.json,
// safetensors shards with an index, tokenizer files) or as an MLX quantized directory (the same
// plus mlx-lm's affine-quantized modules and config.json "quantization"). The directory is built
// under a temporary name and renamed into place.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tensor/dtype.h"

namespace owl {

class ModelFile;

struct HfWriteOptions {
  // Float type of the written tensors (f32, f16 or bf16). nullopt: the source's float type when all
  // its matrices share one, else f32 (quantized sources are dequantized exactly into f32); MLX: bf16.
  std::optional<DType> dtype;
  int mlx_bits = 0;              // > 0: write MLX affine-quantized modules with this many bits
  int64_t mlx_group_size = 64;
  uint64_t max_shard_bytes = 5'000'000'000;  // transformers' default shard size
  int n_threads = 0;
  std::function<void(uint64_t done, uint64_t total)> progress;  // bytes of source tensors processed
};

struct HfWriteReport {
  size_t n_tensors = 0;
  size_t n_quantized = 0;  // MLX modules written as weight + scales + biases
  size_t n_shards = 0;
  uint64_t bytes_out = 0;
  bool tokenizer = false;  // tokenizer files were written
};

HfWriteReport write_hf_directory(const ModelFile& in, const std::string& out_dir, const HfWriteOptions& options);

}  // namespace owl
