// Reading a Hugging Face config.json for the family files: typed getters that name the file and
// key in their errors, the text_config of multimodal wrappers, and the two RoPE layouts
// (rope_theta + rope_scaling, and newer transformers' rope_parameters).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/model_file.h"

namespace owl {

class HfModelConfig {
 public:
  // config: the whole config.json; where: its path, for messages. Uses text_config when present.
  HfModelConfig(const nlohmann::json& config, std::string where);

  const std::string& where() const { return where_; }
  bool has(std::string_view key) const;  // present and not null
  int64_t get_int(std::string_view key) const;
  std::optional<int64_t> find_int(std::string_view key) const;
  std::optional<double> find_float(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  const nlohmann::json& raw() const { return c_; }

  // RoPE of the (global) attention layers: rope_theta and the scaling object ({} when none).
  double rope_theta() const;
  const nlohmann::json& rope_scaling() const;
  // Newer transformers keep per-layer-type RoPE in rope_parameters {"sliding_attention": {...}}.
  std::optional<double> local_rope_theta() const;

  [[noreturn]] void bad(std::string_view key, std::string_view why) const;

 private:
  const nlohmann::json* find(std::string_view key) const;
  const nlohmann::json& c_;
  std::string where_;
  nlohmann::json none_ = nlohmann::json::object();
};

// Metadata every decoder family shares, written as llama.cpp's convert_hf_to_gguf.py does:
// "<arch>.context_length", ".embedding_length", ... and linear RoPE scaling.
void common_hf_metadata(const HfModelConfig& c, const std::string& arch, AssembledModelFile& out);
// Adds a float32 vector tensor the view owns (tensors config.json implies, such as rope_freqs).
void add_f32_tensor(AssembledModelFile& out, std::string name, const std::vector<float>& values);
// A small tensor's values as float32 (RoPE factors going back into config.json).
std::vector<float> tensor_f32(const TensorInfo& t);
// The layers that slide, from layer_types or a period ("sliding_window_pattern").
bool hf_layer_slides(const HfModelConfig& c, int64_t layer, int64_t default_period);

}  // namespace owl
