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
// A module as adapter files hold it: one projection, or a projection the model's file holds fused
// (Phi-3: attn_qkv = rows [q; k; v] as qkv_proj, ffn_up = rows [gate; up] as gate_up_proj), which
// files adapt as one module while owl keeps one module per part.
struct FileModule {
  int64_t layer = 0;
  std::vector<LoraTarget> parts;  // one target, or the fused projection's parts in row order
  int64_t rank = 0, in = 0, out = 0;
  std::vector<float> a, b;        // A (rank, in), B (out, rank) with rows in the file's order
  float scale = 0.0f;             // what the file's term scale·B·A must be multiplied by
};

// Every module name files may use for this model, HF's ("model.layers.3.self_attn.qkv_proj") and
// GGUF's ("blk.3.attn_qkv.weight"), with the layer and parts it names.
using ModuleNames = std::map<std::string, std::pair<int64_t, std::vector<LoraTarget>>, std::less<>>;
ModuleNames hf_module_names(const Model& model);
ModuleNames gguf_module_names(const Model& model);
std::string hf_name(const Model& model, const FileModule& m);
std::string gguf_name(const Model& model, const FileModule& m);

// The adapter's modules as a file holds them: the parts of a fused projection joined (sharing A
// when they share it, as when read from such a file; else A stacked and B block-diagonal, the
// ranks summed), B in file_order, scale each part's own.
std::vector<FileModule> file_modules(const LoraAdapter& adapter, const Model& model, RowOrder file_order);
// Multiplies B so that the term is right under another scale (no change within a rounding of 1).
void rescale(FileModule& m, float file_scale);
// Adds a module read from a file (B in file_order, scale what the file applies; adapter.alpha and
// rslora already set): shapes checked (owl::Error naming path), a fused module split into its parts
// (a block-diagonal one back into its blocks), B put in the model's row order and multiplied so that
// the adapter's own scale gives the file's term.
void add_file_module(LoraAdapter& adapter, const Model& model, FileModule m, const std::string& path, RowOrder file_order);
// owl::Error naming path when the adapter has no modules.
void require_modules(const LoraAdapter& adapter, const std::string& path);

// B of a module read from a file in file_order, in the model's row order; and back.
std::vector<float> b_from_file(const Model& model, const LoraModule& m, RowOrder file_order);
std::vector<float> b_for_file(const Model& model, const LoraModule& m, RowOrder file_order);
std::vector<float> read_f32(const safetensors::Tensor& t, const std::string& path);
nlohmann::json read_json_file(const std::filesystem::path& p);

}  // namespace lora_files
}  // namespace owl
