// Merging LoRA adapters into their base (owl merge): W' = W + Σ scale·B·A for every adapted
// projection, as PEFT's merge_and_unload and llama.cpp's export-lora compute it.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "formats/model_file.h"
#include "models/lora_adapter.h"

namespace owl {

struct ScaledAdapter {
  LoraAdapter adapter;
  float scale = 1.0f;  // times the adapter's own alpha/rank
};

// The model's file as a view in which every adapted projection is replaced by its merged weights,
// in the tensor's own type (re-quantized from float32 for a quantized base) or in float32 when
// keep_types is false. Every other tensor stays where the model's file has it: the model must
// outlive the view. owl::Error for a projection the file keeps fused (Phi-3's qkv).
std::unique_ptr<ModelFile> merged_view(const Model& model, const std::vector<ScaledAdapter>& adapters, bool keep_types);

}  // namespace owl
