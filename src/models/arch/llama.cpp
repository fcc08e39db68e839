// Llama family (Llama 2, Llama 3/3.1/3.2, TinyLlama, Mistral 7B): the baseline every other family
// is a delta of (llama.cpp src/models/llama.cpp). Llama 3.1's frequency factors arrive as the
// rope_freqs tensor; Mistral's sliding window, when a file declares one, applies to every layer.
// HF checkpoints rotate q/k halves where GGUF rotates adjacent pairs (convert_hf_to_gguf.py permutes).
#include <cmath>
#include <numbers>
#include <vector>

#include "base/error.h"
#include "formats/gguf.h"
#include "models/arch/families.h"
#include "models/arch/hf_config.h"

namespace owl {

ModelSpec llama_spec(const ModelFile& f) {
  ModelSpec s = common_spec(f);
  const std::string a = f.get_string("general.architecture");
  const float scale = linear_rope_scale(f);
  const int64_t window = static_cast<int64_t>(f.find_uint(a + ".attention.sliding_window").value_or(0));
  for (LayerSpec& l : s.layers) {
    l.rope_freq_scale = scale;
    l.sliding_window = window;
  }
  return s;
}

namespace {

// Llama 3.1's rope_scaling {"rope_type": "llama3", ...} as the rope_freqs divisors GGUF carries
// (transformers' _compute_llama3_parameters; the converter's generate_extra_tensors).
std::vector<float> llama3_rope_freqs(const HfModelConfig& c, const nlohmann::json& s, int64_t n_rot, double theta) {
  auto num = [&](const char* key, double fallback) {
    const auto it = s.find(key);
    if (it == s.end()) return fallback;
    if (!it->is_number()) c.bad(std::string("rope_scaling.") + key, "expected a number");
    return it->get<double>();
  };
  const double factor = num("factor", 8.0), low = num("low_freq_factor", 1.0), high = num("high_freq_factor", 4.0);
  const double orig = num("original_max_position_embeddings", 8192.0);
  if (!(factor > 0.0) || !(low > 0.0) || !(high > low) || !(orig > 0.0)) c.bad("rope_scaling", "inconsistent llama3 factors");
  std::vector<float> out;
  for (int64_t i = 0; i < n_rot; i += 2) {
    const double inv_freq = 1.0 / std::pow(theta, static_cast<double>(i) / static_cast<double>(n_rot));
    const double wavelen = 2.0 * std::numbers::pi / inv_freq;
    double divisor = 1.0;
    if (wavelen > orig / low) {
      divisor = factor;
    } else if (wavelen >= orig / high) {
      const double smooth = (orig / wavelen - low) / (high - low);
      divisor = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    out.push_back(static_cast<float>(divisor));
  }
  return out;
}

void llama_hf_metadata(const HfModelConfig& c, AssembledModelFile& out) {
  if (auto w = c.find_int("sliding_window"); w && *w > 0) {
    out.set("llama.attention.sliding_window", gguf::Value{static_cast<uint32_t>(*w)});
  }
  const nlohmann::json& s = c.rope_scaling();
  const std::string type = s.value("rope_type", s.value("type", "default"));
  if (type == "llama3") {
    const int64_t n_rot = static_cast<int64_t>(out.get_uint("llama.rope.dimension_count"));
    add_f32_tensor(out, "rope_freqs.weight", llama3_rope_freqs(c, s, n_rot, c.rope_theta()));
  } else if (type != "default" && type != "linear") {
    c.bad("rope_scaling", "rope type '" + type + "' is not supported for llama (linear, llama3)");
  }
}

// The llama3 rope_scaling whose rope_freqs equal the file's: the published combinations are tried
// (GGUF keeps only the divisors), each divisor within float32 rounding.
nlohmann::json llama3_scaling_for(const ModelFile& f, const ModelSpec& spec, const std::vector<float>& freqs) {
  const nlohmann::json empty = nlohmann::json::object();
  const HfModelConfig none(empty, f.path());
  for (double factor : {8.0, 32.0, 16.0, 4.0, 2.0}) {
    for (double orig : {8192.0, 4096.0, 2048.0, 16384.0, 131072.0, 1024.0, 512.0, 256.0, 128.0, 64.0}) {
      for (auto [low, high] : {std::pair{1.0, 4.0}, std::pair{1.0, 2.0}, std::pair{2.0, 4.0}}) {
        nlohmann::json s = {{"rope_type", "llama3"}, {"factor", factor}, {"low_freq_factor", low},
                                  {"high_freq_factor", high}, {"original_max_position_embeddings", orig}};
        const std::vector<float> got = llama3_rope_freqs(none, s, spec.n_rot, spec.layers.at(0).rope_base);
        bool same = got.size() == freqs.size();
        for (size_t i = 0; same && i < got.size(); ++i) same = std::fabs(got[i] - freqs[i]) <= 1e-5f * freqs[i];
        if (same) return s;
      }
    }
  }
  fail("{}: rope_freqs.weight matches no llama3 rope_scaling owl knows; it cannot be written as config.json", f.path());
}

void llama_hf_config_out(const ModelFile& f, const ModelSpec& spec, nlohmann::json& c) {
  if (const int64_t w = spec.layers.at(0).sliding_window; w > 0) {  // a Mistral-style window
    c["architectures"] = {"MistralForCausalLM"};
    c["model_type"] = "mistral";
    c["sliding_window"] = w;
  }
  if (const TensorInfo* t = f.find_tensor("rope_freqs.weight")) c["rope_scaling"] = llama3_scaling_for(f, spec, tensor_f32(*t));
}

}  // namespace

const Family kLlamaFamily{"llama", "LlamaForCausalLM MistralForCausalLM", &llama_spec, {}, kHfPermuteQK,
                          &llama_hf_metadata, "llama", &llama_hf_config_out, ""};

}  // namespace owl
