// A loaded model: the mapped file, its spec and its bound weights. Weights stay in the mapping,
// except the matrices packed at load for the kernels (models/packing.h).
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "models/lora_target.h"
#include "models/spec.h"
#include "ops/linear.h"
#include "models/weights.h"

namespace owl {

class Model {
 public:
  // Opens a GGUF file and binds its weights; throws owl::Error naming the file on any problem.
  static std::unique_ptr<Model> load(const std::string& path);
  static std::unique_ptr<Model> from_file(std::unique_ptr<ModelFile> file);

  const ModelFile& file() const { return *file_; }
  const ModelSpec& spec() const { return spec_; }
  const ModelWeights& weights() const { return weights_; }
  // For full training (train/trainable_model.h), which owns the memory the matrices point into and
  // copies its updated norm vectors here after each step.
  ModelWeights& weights_for_training() { return weights_; }

  // LoRA adapters attached for inference (models/lora_adapter.h attach_lora): the terms every
  // Decoder adds to a layer's projection. keep_alive owns the memory the term points into.
  std::span<const ops::LoraTerm> lora_terms(int64_t layer, LoraTarget target) const;
  void add_lora_term(int64_t layer, LoraTarget target, ops::LoraTerm term, std::shared_ptr<const void> keep_alive);
  bool has_lora() const { return !lora_owners_.empty(); }
  // A new attached adapter with the user's scale (--lora-scale); returns its index for its terms.
  int32_t add_lora_adapter(float user_scale);
  // The user's scale of each attached adapter, by index: what a request that names none gets.
  std::span<const float> lora_scales() const { return lora_scales_; }

 private:
  Model() = default;
  std::unique_ptr<ModelFile> file_;
  ModelSpec spec_;
  ModelWeights weights_;
  std::vector<std::array<std::vector<ops::LoraTerm>, kLoraTargets>> lora_terms_;  // per layer
  std::vector<std::shared_ptr<const void>> lora_owners_;
  std::vector<float> lora_scales_;
};

}  // namespace owl
