// The family table and the metadata checks every family shares.
#include "models/registry.h"

#include <array>
#include <cmath>
#include <utility>

#include <fmt/ranges.h>

#include "base/error.h"
#include "formats/gguf.h"
#include "models/arch/families.h"

namespace owl {

namespace {
// Mistral 7B, TinyLlama and Llama 2/3 GGUF files all declare "llama"; Qwen 2.5 declares "qwen2".
constexpr std::array<const Family*, 7> kFamilies{
    &kLlamaFamily, &kGemmaFamily, &kGemma2Family, &kGemma3Family, &kQwen2Family, &kQwen3Family, &kPhi3Family,
};

void check_spec(const ModelFile& file, const ModelSpec& s) {
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

ModelSpec spec_from_gguf(const ModelFile& file) {
  const std::string arch = file.get_string("general.architecture");
  const Family* f = family_by_gguf(arch);
  if (f == nullptr) {
    fail("{}: architecture '{}' is not supported (supported: {})", file.path(), arch,
         fmt::join(supported_architectures(), ", "));
  }
  ModelSpec spec = f->spec(file);
  spec.arch = arch;
  spec.name = file.find_string("general.name").value_or("");
  check_spec(file, spec);
  return spec;
}

const Family* family_by_gguf(std::string_view arch) {
  for (const Family* f : kFamilies) {
    if (f->gguf_arch == arch) return f;
  }
  return nullptr;
}

const Family* family_by_hf(std::string_view hf_architecture) {
  for (const Family* f : kFamilies) {
    std::string_view names = f->hf_architectures;
    while (!names.empty()) {
      const size_t space = std::min(names.find(' '), names.size());
      if (names.substr(0, space) == hf_architecture) return f;
      names.remove_prefix(std::min(space + 1, names.size()));
    }
  }
  return nullptr;
}

std::optional<std::string_view> chat_fallback_for(const ModelFile& file) {
  const Family* f = family_by_gguf(file.find_string("general.architecture").value_or(""));
  return f != nullptr ? std::optional(f->chat_fallback) : std::nullopt;
}

std::optional<std::string_view> gguf_arch_for_hf(std::string_view hf_architecture) {
  const Family* f = family_by_hf(hf_architecture);
  return f != nullptr ? std::optional(f->gguf_arch) : std::nullopt;
}

std::vector<std::string_view> supported_architectures() {
  std::vector<std::string_view> out;
  out.reserve(std::size(kFamilies));
  for (const Family* f : kFamilies) out.push_back(f->gguf_arch);
  return out;
}

}  // namespace owl
