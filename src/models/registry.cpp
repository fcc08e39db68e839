// The family table and the metadata checks every family shares.
#include "models/registry.h"

#include <array>
#include <cmath>
#include <utility>

#include "base/error.h"
#include "formats/gguf.h"
#include "models/arch/families.h"

namespace owl {

namespace {
struct Family {
  std::string_view gguf_arch;
  std::string_view hf_architectures;  // space-separated HF config.json "architectures[0]" names
  SpecBuilder build;
};
// Mistral 7B, TinyLlama and Llama 2/3 GGUF files all declare "llama"; Qwen 2.5 declares "qwen2".
constexpr std::array<Family, 7> kFamilies{{
    {"llama", "LlamaForCausalLM MistralForCausalLM", &llama_spec},
    {"gemma", "GemmaForCausalLM", &gemma_spec},
    {"gemma2", "Gemma2ForCausalLM", &gemma2_spec},
    {"gemma3", "Gemma3ForCausalLM Gemma3ForConditionalGeneration", &gemma3_spec},
    {"qwen2", "Qwen2ForCausalLM", &qwen2_spec},
    {"qwen3", "Qwen3ForCausalLM", &qwen3_spec},
    {"phi3", "Phi3ForCausalLM", &phi3_spec},
}};

void check_spec(const gguf::File& file, const ModelSpec& s) {
  auto positive = [&](const char* what, int64_t v, int64_t limit) {
    if (v <= 0 || v > limit) fail("{}: {} = {} is out of range (1..{})", file.path(), what, v, limit);
  };
  positive("n_embd", s.n_embd, 1 << 20);
  positive("n_layer", s.n_layer, 4096);
  positive("n_head", s.n_head, 1 << 16);
  positive("n_head_kv", s.n_head_kv, 1 << 16);
  positive("head_dim", s.head_dim, 1 << 16);
  positive("n_ff", s.n_ff, 1 << 22);
  positive("n_ctx_train", s.n_ctx_train, int64_t{1} << 24);
  if (s.n_head % s.n_head_kv != 0) {
    fail("{}: n_head {} is not a multiple of n_head_kv {}", file.path(), s.n_head, s.n_head_kv);
  }
  if (s.n_rot <= 0 || s.n_rot > s.head_dim || s.n_rot % 2 != 0) {
    fail("{}: rope dimension count {} must be even and at most head_dim {}", file.path(), s.n_rot, s.head_dim);
  }
  auto finite_positive = [&](const char* what, float v) {
    if (!std::isfinite(v) || v <= 0.0f) fail("{}: {} = {} must be finite and positive", file.path(), what, v);
  };
  finite_positive("rms norm epsilon", s.norm_eps);
  finite_positive("RoPE attention factor", s.rope_attn_factor);
  finite_positive("embedding scale", s.embd_scale);
  auto finite_non_negative = [&](const char* what, float v) {
    if (!std::isfinite(v) || v < 0.0f) fail("{}: {} = {} must be finite and not negative", file.path(), what, v);
  };
  finite_non_negative("attention scale", s.attn_scale);
  finite_non_negative("attention soft-cap", s.attn_softcap);
  finite_non_negative("final logit soft-cap", s.final_softcap);
  if (s.layers.size() != static_cast<size_t>(s.n_layer)) fail("{}: {} layer specs for {} layers", file.path(), s.layers.size(), s.n_layer);
  for (const LayerSpec& l : s.layers) {
    finite_positive("RoPE frequency base", l.rope_base);
    finite_positive("RoPE frequency scale", l.rope_freq_scale);
    if (l.sliding_window < 0) fail("{}: sliding window {} is negative", file.path(), l.sliding_window);
  }
}
}  // namespace

ModelSpec spec_from_gguf(const gguf::File& file) {
  const std::string arch = file.get_string("general.architecture");
  for (const Family& f : kFamilies) {
    if (f.gguf_arch == arch) {
      ModelSpec spec = f.build(file);
      spec.arch = arch;
      spec.name = file.find_string("general.name").value_or("");
      check_spec(file, spec);
      return spec;
    }
  }
  std::string names;
  for (const Family& f : kFamilies) names += (names.empty() ? "" : ", ") + std::string(f.gguf_arch);
  fail("{}: architecture '{}' is not supported (supported: {})", file.path(), arch, names);
}

std::optional<std::string_view> gguf_arch_for_hf(std::string_view hf_architecture) {
  for (const Family& f : kFamilies) {
    std::string_view names = f.hf_architectures;
    while (!names.empty()) {
      const size_t space = std::min(names.find(' '), names.size());
      if (names.substr(0, space) == hf_architecture) return f.gguf_arch;
      names.remove_prefix(std::min(space + 1, names.size()));
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> supported_architectures() {
  std::vector<std::string_view> out;
  for (const Family& f : kFamilies) out.push_back(f.gguf_arch);
  return out;
}

}  // namespace owl
