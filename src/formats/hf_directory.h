// A Hugging Face model directory read as files: config.json, generation_config.json,
// tokenizer_config.json, the chat template, the license line of README.md, and the safetensors
// weights (one file or shards listed by model.safetensors.index.json), all checked, no
// architecture knowledge (models/hf_import.cpp maps it to the model-file view).
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "formats/safetensors.h"

namespace owl::hf {

class Directory {
 public:
  // Throws owl::Error naming the file (and key) when anything is missing or malformed.
  static std::unique_ptr<Directory> open(const std::string& dir);

  const std::string& path() const { return path_; }
  const nlohmann::json& config() const { return config_; }                  // an object
  const nlohmann::json& generation_config() const { return generation_; }   // {} when absent
  const nlohmann::json& tokenizer_config() const { return tokenizer_config_; }  // {} when absent
  // chat_template.jinja, else chat_template.json, else tokenizer_config.json's chat_template
  // (a string, or a list of named templates of which "default" or the first is taken).
  const std::optional<std::string>& chat_template() const { return chat_template_; }
  // The "license:" line of README.md's YAML front matter (as model cards on the Hub have it).
  const std::optional<std::string>& license() const { return license_; }

  // Every tensor of every shard by its Hugging Face name.
  const std::map<std::string, const safetensors::Tensor*, std::less<>>& tensors() const { return tensors_; }
  const std::vector<std::shared_ptr<const safetensors::File>>& shards() const { return shards_; }
  // The name of the file at the directory's path (the model's name in messages and listings).
  std::string name() const;

 private:
  std::string path_;
  nlohmann::json config_;
  nlohmann::json generation_ = nlohmann::json::object();
  nlohmann::json tokenizer_config_ = nlohmann::json::object();
  std::optional<std::string> chat_template_;
  std::optional<std::string> license_;
  std::vector<std::shared_ptr<const safetensors::File>> shards_;
  std::map<std::string, const safetensors::Tensor*, std::less<>> tensors_;
};

// Reads a JSON file of at most max_bytes; owl::Error naming it when it is missing (unless
// optional, then null), too large, or not valid JSON.
nlohmann::json read_json_file(const std::string& path, bool optional, size_t max_bytes = 64u << 20);

}  // namespace owl::hf
