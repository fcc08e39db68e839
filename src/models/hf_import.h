// A Hugging Face model directory (config.json + safetensors) as a model-file view in GGUF
// conventions, as llama.cpp's convert_hf_to_gguf.py would write it: metadata keys from config.json,
// GGUF tensor names, the family's rewrites (q/k row order, Gemma's 1 + w norms), the tokenizer and
// chat template. Weights in F32, F16 and BF16 stay in the mapping.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "formats/model_file.h"

namespace owl {

struct Family;

std::unique_ptr<ModelFile> open_hf_directory(const std::string& dir);

// The GGUF name of a Hugging Face tensor name for a family ("model.layers.3.mlp.up_proj.weight" ->
// "blk.3.ffn_up.weight"), and back; nullopt when the family has no such tensor.
std::optional<std::string> gguf_tensor_name(const Family& family, std::string_view hf_name);
std::optional<std::string> hf_tensor_name(const Family& family, std::string_view gguf_name);

// GGUF's row order of a q or k projection from HF's (per head, halves -> adjacent pairs) and back:
// HF row h*d + c*(d/2) + j is GGUF row h*d + 2j + c. rows are row_bytes long.
// The tensor's bytes in GGUF's row order: permuted when it keeps Hugging Face's (rope_halves_heads).
std::vector<uint8_t> gguf_row_order(const TensorInfo& t);

std::vector<uint8_t> permute_rope_rows(const uint8_t* data, int64_t n_rows, size_t row_bytes, int64_t n_head,
                                       bool to_gguf);

}  // namespace owl
