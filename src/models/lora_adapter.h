// A LoRA adapter: per adapted projection, A (rank, in) and B (out, rank), applied as
// y = W x + scale · B (A x) with scale = alpha / rank (alpha / sqrt(rank) with rsLoRA), as Hugging
// Face PEFT defines it (tuners/lora/layer.py). Read and written in PEFT's layout
// (adapter_config.json + adapter_model.safetensors). B rows of q/k are kept in the order of the base
// model's weights: a PEFT file's are permuted on reading when the base is GGUF-ordered, and back on writing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/lora_target.h"
#include "models/model.h"

namespace owl {

struct LoraModule {
  int64_t layer = 0;
  LoraTarget target = LoraTarget::q;
  int64_t rank = 0;
  int64_t in = 0;
  int64_t out = 0;
  std::vector<float> a;  // (rank, in)
  std::vector<float> b;  // (out, rank)
};

struct LoraAdapter {
  float alpha = 0.0f;
  bool rslora = false;
  std::string base_model;  // base_model_name_or_path, informational
  std::vector<LoraModule> modules;

  float scale(int64_t rank) const;
  const LoraModule* find(int64_t layer, LoraTarget target) const;
  LoraModule* find(int64_t layer, LoraTarget target);
};

// The frozen projection of a layer an adapter module joins, and its shape (rows = out).
const Weight& lora_base_weight(const Model& model, int64_t layer, LoraTarget target);

// Reads a PEFT adapter directory for this model: every module's shapes checked against the base,
// q/k B rows permuted into the model's row order. Throws owl::Error naming the file and tensor.
LoraAdapter read_peft_adapter(const std::string& dir, const Model& model);

// Writes a PEFT adapter directory: adapter_model.safetensors and adapter_config.json, each atomically.
void write_peft_adapter(const LoraAdapter& adapter, const Model& model, const std::string& dir);
// The adapter's tensors alone, under PEFT's names, as one safetensors file with extra metadata.
void write_peft_safetensors(const LoraAdapter& adapter, const Model& model, const std::string& path,
                            const std::map<std::string, std::string>& metadata);

// llama.cpp's GGUF LoRA (general.type "adapter", adapter.lora.alpha, blk.N.<role>.weight.lora_a /
// .lora_b; q/k B rows in GGUF order): one file.
LoraAdapter read_gguf_adapter(const std::string& path, const Model& model);
void write_gguf_adapter(const LoraAdapter& adapter, const Model& model, const std::string& path);

// mlx-lm's adapter directory: adapters.safetensors (model.layers.N.<module>.lora_a (in, rank),
// .lora_b (rank, out)) and adapter_config.json (lora_parameters.rank and .scale).
LoraAdapter read_mlx_adapter(const std::string& dir, const Model& model);
void write_mlx_adapter(const LoraAdapter& adapter, const Model& model, const std::string& dir);

// Reads an adapter of any of the three formats for this model (a GGUF file, or a directory holding
// PEFT's, mlx-lm's or an adapter.gguf); owl::Error naming the path otherwise.
LoraAdapter read_lora_adapter(const std::string& path, const Model& model);

enum class AdapterFormat { peft, gguf, mlx };
AdapterFormat adapter_format_from_name(std::string_view name);  // "peft", "gguf", "mlx"; owl::Error otherwise
// Writes the adapter into the directory dir in a format (GGUF: dir/adapter.gguf).
void write_lora_adapter(const LoraAdapter& adapter, const Model& model, const std::string& dir, AdapterFormat format);

// Attaches an adapter to the model for inference (every Decoder of it then adds the adapter's
// terms), its scale multiplied by user_scale (--lora-scale).
void attach_lora(Model& model, const LoraAdapter& adapter, float user_scale);

}  // namespace owl
