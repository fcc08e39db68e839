// A loaded model: the mapped file, its spec and its bound weights. Weights stay in the mapping,
// except the matrices packed at load for the kernels (models/packing.h).
#pragma once

#include <memory>
#include <string>

#include "formats/gguf.h"
#include "models/spec.h"
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

 private:
  Model() = default;
  std::unique_ptr<ModelFile> file_;
  ModelSpec spec_;
  ModelWeights weights_;
};

}  // namespace owl
