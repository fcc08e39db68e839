// Import of llama2.c checkpoints (run.c "v0" format: 7 int32 header + float32 weights) and their
// tokenizer.bin into an ordinary GGUF file of architecture "llama".
#pragma once

#include <string>

#include "tensor/dtype.h"

namespace owl {

struct Llama2cImport {
  std::string model_path;      // MODEL.bin
  std::string tokenizer_path;  // tokenizer.bin
  std::string output_path;     // OUT.gguf
  DType type = DType::f32;     // matrices: f32, f16 or q8_0 (norms stay f32)
  int n_threads = 0;
};

// Throws owl::Error naming the file and the field on malformed input; writes atomically.
void import_llama2c(const Llama2cImport& options);

}  // namespace owl
