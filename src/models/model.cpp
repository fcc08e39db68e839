// Model loading: GGUF file -> family spec (registry) -> weight binding -> packing for the kernels.
#include "models/model.h"

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

}  // namespace owl
