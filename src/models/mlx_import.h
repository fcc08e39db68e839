// MLX quantized modules (mlx-lm's affine layout: <p>.weight uint32-packed codes, <p>.scales,
// <p>.biases; bits and group size from config.json "quantization", per module overridable) as
// GGUF-typed tensors of the model-file view, without a lossy step: 4- and 5-bit modules become
// Q4_1 / Q5_1 blocks (d·q + m is MLX's scale·q + bias, each group split into 32-value blocks),
// other widths float32 holding scale·q + bias exactly.
#pragma once

#include <string>
#include <string_view>

#include "formats/hf_directory.h"
#include "formats/model_file.h"

namespace owl {

// hf_name is the .weight of a quantized module (uint32 with .scales beside it).
bool mlx_quantized(const hf::Directory& d, std::string_view hf_name);
// hf_name is the .scales or .biases of a quantized module (read with its weight).
bool mlx_side_tensor(const hf::Directory& d, std::string_view hf_name);
// The module as one tensor named gguf_name; owl::Error naming the file and module when its
// tensors or settings disagree.
TensorInfo mlx_tensor(AssembledModelFile& view, const hf::Directory& d, const std::string& hf_name,
                      const std::string& gguf_name);

}  // namespace owl
