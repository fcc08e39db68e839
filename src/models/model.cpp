// Model loading: GGUF file -> family spec (registry) -> weight binding -> packing for the kernels.
#include "models/model.h"

#include "base/error.h"
#include "models/model_source.h"
#include "models/packing.h"
#include "models/registry.h"

namespace owl {

std::unique_ptr<Model> Model::load(const std::string& path) { return from_file(open_model_file(path)); }

std::unique_ptr<Model> Model::from_file(std::unique_ptr<ModelFile> file) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  m->spec_ = spec_from_gguf(*m->file_);
  m->weights_ = bind_weights(*m->file_, m->spec_);
  pack_weights(m->weights_, *m->file_);
  return m;
}

std::span<const ops::LoraTerm> Model::lora_terms(int64_t layer, LoraTarget target) const {
  if (lora_terms_.empty()) return {};
  return lora_terms_[static_cast<size_t>(layer)][static_cast<size_t>(target)];
}

int32_t Model::add_lora_adapter(float user_scale) {
  lora_scales_.push_back(user_scale);
  return static_cast<int32_t>(lora_scales_.size() - 1);
}

void Model::add_lora_term(int64_t layer, LoraTarget target, ops::LoraTerm term, std::shared_ptr<const void> keep_alive) {
  if (layer < 0 || layer >= spec_.n_layer) fail("LoRA: layer {} out of range (the model has {})", layer, spec_.n_layer);
  if (lora_terms_.empty()) lora_terms_.resize(static_cast<size_t>(spec_.n_layer));
  lora_terms_[static_cast<size_t>(layer)][static_cast<size_t>(target)].push_back(term);
  lora_owners_.push_back(std::move(keep_alive));
}

}  // namespace owl
