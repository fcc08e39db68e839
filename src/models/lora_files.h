// What the adapter file formats share (models/lora_adapter.cpp: PEFT; models/lora_formats.cpp:
// llama.cpp's GGUF and mlx-lm's): module names, q/k row order, tensor reading, shape checks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/safetensors.h"
#include "models/lora_adapter.h"

namespace owl {

struct Family;

namespace lora_files {

// The order of q/k rows in a file: Hugging Face's (PEFT, mlx-lm) or GGUF's (llama.cpp).
enum class RowOrder { hf, gguf };

std::string gguf_weight_name(int64_t layer, LoraTarget t);  // "blk.3.attn_q.weight"
const Family& family_of(const Model& model);
// The HF module path of a projection ("model.layers.3.self_attn.q_proj"); refused for fused ones.
std::string hf_module(const Model& model, int64_t layer, LoraTarget t);
// Every (layer, target) of the model by its HF module path.
std::map<std::string, std::pair<int64_t, LoraTarget>, std::less<>> hf_modules(const Model& model);
// B of a module read from a file in file_order, in the model's row order; and back.
std::vector<float> b_from_file(const Model& model, const LoraModule& m, RowOrder file_order);
std::vector<float> b_for_file(const Model& model, const LoraModule& m, RowOrder file_order);
std::vector<float> read_f32(const safetensors::Tensor& t, const std::string& path);
nlohmann::json read_json_file(const std::filesystem::path& p);
// owl::Error naming path when the module's shapes do not fit the model's projection.
void check_module_shape(const Model& model, const LoraModule& m, const std::string& path);
// What every reader does once a file's tensors are in: refuses an adapter without modules, a module
// missing one of its two matrices (named as the file names them, e.g. "lora_A and lora_B") or not
// fitting the model; puts B rows from the file's order into the model's.
void complete_modules(LoraAdapter& adapter, const Model& model, const std::string& path, RowOrder file_order,
                      std::string_view pair_name);
// The one rank of all modules (formats with one scale for the whole adapter); owl::Error otherwise.
int64_t single_rank(const LoraAdapter& adapter, const std::string& path);

}  // namespace lora_files
}  // namespace owl
