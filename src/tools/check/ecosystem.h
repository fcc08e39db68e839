// Which runtimes open a model file as it is (owl, llama.cpp, Ollama, LM Studio, transformers, MLX,
// vLLM), from data/ecosystem.json plus owl's own registry, and which `owl convert` / `owl quantize`
// targets would open the others. Mirrors each runtime's documented GGUF architecture and type lists.
#pragma once

#include <string>
#include <vector>

namespace owl {
class ModelFile;

namespace check {

struct RuntimeFit {
  std::string id;
  std::string name;
  bool loads = false;
  std::string reason;  // why it loads, or what it lacks
};

struct ConvertHint {
  std::string target;
  std::string command;
  bool available = false;            // owl can do it today
  std::vector<std::string> opens;    // runtimes that would load the result but not this file
};

struct EcosystemReport {
  std::vector<RuntimeFit> runtimes;
  std::vector<ConvertHint> convert;
  std::vector<std::string> loading() const;  // ids of the runtimes that load the file
};

// Its format (GGUF, Hugging Face or MLX directory), architecture and, for GGUF, tensor types decide.
EcosystemReport ecosystem_report(const ModelFile& file);

}  // namespace check
}  // namespace owl
