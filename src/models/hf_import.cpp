// Hugging Face directory -> model-file view (convert_hf_to_gguf.py's mapping, done at load time).
#include "models/hf_import.h"

#include <fmt/format.h>

#include <cstring>

#include "base/error.h"
#include "base/fp16.h"
#include "formats/hf_directory.h"
#include "models/arch/families.h"
#include "models/arch/hf_config.h"
#include "models/mlx_import.h"
#include "models/registry.h"
#include "models/weights.h"
#include "tokenizer/gguf_export.h"

namespace owl {

namespace {

// The names every family shares (transformers' Llama layout); a family's own names come first.
constexpr HfName kCommonNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"lm_head.weight", "output.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"model.layers.{}.input_layernorm.weight", "blk.{}.attn_norm.weight"},
    {"model.layers.{}.self_attn.q_proj.weight", "blk.{}.attn_q.weight"},
    {"model.layers.{}.self_attn.k_proj.weight", "blk.{}.attn_k.weight"},
    {"model.layers.{}.self_attn.v_proj.weight", "blk.{}.attn_v.weight"},
    {"model.layers.{}.self_attn.o_proj.weight", "blk.{}.attn_output.weight"},
    {"model.layers.{}.self_attn.q_proj.bias", "blk.{}.attn_q.bias"},
    {"model.layers.{}.self_attn.k_proj.bias", "blk.{}.attn_k.bias"},
    {"model.layers.{}.self_attn.v_proj.bias", "blk.{}.attn_v.bias"},
    {"model.layers.{}.self_attn.q_norm.weight", "blk.{}.attn_q_norm.weight"},
    {"model.layers.{}.self_attn.k_norm.weight", "blk.{}.attn_k_norm.weight"},
    {"model.layers.{}.post_attention_layernorm.weight", "blk.{}.ffn_norm.weight"},
    {"model.layers.{}.mlp.gate_proj.weight", "blk.{}.ffn_gate.weight"},
    {"model.layers.{}.mlp.up_proj.weight", "blk.{}.ffn_up.weight"},
    {"model.layers.{}.mlp.down_proj.weight", "blk.{}.ffn_down.weight"},
};

// name against a pattern with one "{}" standing for a layer number: the number, or nullopt.
std::optional<std::string_view> match(std::string_view pattern, std::string_view name) {
  const size_t hole = pattern.find("{}");
  if (hole == std::string_view::npos) return pattern == name ? std::optional(std::string_view()) : std::nullopt;
  const std::string_view prefix = pattern.substr(0, hole), suffix = pattern.substr(hole + 2);
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix)) {
    return std::nullopt;
  }
  const std::string_view number = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (number.size() > 5 || (number.size() > 1 && number[0] == '0')) return std::nullopt;
  for (char c : number) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return number;
}

std::optional<std::string> translate(const Family& family, std::string_view name, bool from_hf) {
  for (std::span<const HfName> table : {family.hf_names, std::span<const HfName>(kCommonNames)}) {
    for (const HfName& n : table) {
      const std::string_view from = from_hf ? n.hf : n.gguf, to = from_hf ? n.gguf : n.hf;
      if (auto layer = match(from, name)) {
        std::string out(to);
        if (const size_t hole = out.find("{}"); hole != std::string::npos) out.replace(hole, 2, *layer);
        return out;
      }
    }
  }
  return std::nullopt;
}

// Multimodal wrappers keep the text model under another prefix; their vision towers are not ours.
std::optional<std::string> text_model_name(std::string_view name) {
  for (std::string_view skip : {"vision_tower.", "multi_modal_projector.", "model.vision_tower.",
                                "model.multi_modal_projector.", "audio_tower."}) {
    if (name.starts_with(skip)) return std::nullopt;
  }
  if (name.ends_with(".rotary_emb.inv_freq")) return std::nullopt;  // recomputed from the config
  for (auto [from, to] : {std::pair{"language_model.model.", "model."}, std::pair{"model.language_model.", "model."},
                          std::pair{"language_model.lm_head.", "lm_head."}}) {
    if (name.starts_with(from)) return std::string(to) + std::string(name.substr(std::strlen(from)));
  }
  return std::string(name);
}

const uint8_t* to_f32(AssembledModelFile& view, const safetensors::Tensor& t) {
  std::vector<uint8_t> bytes(t.n_elements * sizeof(float));
  safetensors::to_f32(t.dtype, t.data, reinterpret_cast<float*>(bytes.data()), t.n_elements);
  return view.own(std::move(bytes));
}

// A float HF tensor in GGUF types: F32/F16/BF16 matrices in place, 1-D tensors and other float
// types (F64, F8) converted to float32 (exactly).
TensorInfo float_tensor(AssembledModelFile& view, const std::string& gguf_name, const safetensors::Tensor& t) {
  TensorInfo out{gguf_name, t.shape, DType::f32, 0, 0, 0, t.data};
  switch (t.dtype) {
    case safetensors::DType::f32: out.type = DType::f32; break;
    case safetensors::DType::f16: out.type = DType::f16; break;
    case safetensors::DType::bf16: out.type = DType::bf16; break;
    case safetensors::DType::f64:
    case safetensors::DType::f8_e4m3:
    case safetensors::DType::f8_e5m2: out.data = to_f32(view, t); break;
    default:
      fail("{}: tensor '{}' is {}, not a floating-point weight", view.path(), t.name, safetensors::dtype_name(t.dtype));
  }
  if (t.shape.size() == 1 && out.type != DType::f32) {  // GGUF keeps 1-D tensors in float32
    out.data = to_f32(view, t);
    out.type = DType::f32;
  }
  out.n_bytes = row_bytes(out.type, static_cast<int64_t>(t.n_elements));
  return out;
}

// The family's rewrites: Gemma's 1 + w (in float32, as transformers forms it) and GGUF's q/k row
// order, which is recorded rather than applied (TensorInfo::rope_halves_heads).
void apply_rules(AssembledModelFile& view, const Family& family, const std::string& hf_name, TensorInfo& out) {
  if ((family.hf_rules & kHfNormPlusOne) != 0 && out.name.ends_with("norm.weight")) {
    if (out.type != DType::f32) fail("{}: tensor '{}' is a quantized norm", view.path(), hf_name);
    std::vector<uint8_t> bytes(out.data, out.data + out.n_bytes);
    auto* w = reinterpret_cast<float*>(bytes.data());
    for (uint64_t i = 0; i < out.n_bytes / sizeof(float); ++i) w[i] += 1.0f;
    out.data = view.own(std::move(bytes));
  }
  if ((family.hf_rules & kHfPermuteQK) != 0) {
    const RopeRows role = rope_rows(out.name);
    if (role == RopeRows::none) return;
    const bool q = role == RopeRows::q;
    const std::string arch(family.gguf_arch);
    const auto n_head =
        static_cast<int64_t>(view.get_uint(arch + (q ? ".attention.head_count" : ".attention.head_count_kv")));
    const int64_t rows = out.shape.empty() ? 1 : out.shape[0];
    if (n_head <= 0 || rows % (2 * n_head) != 0) {
      fail("{}: tensor '{}': {} rows do not split into {} heads of pairs", view.path(), hf_name, rows, n_head);
    }
    out.rope_halves_heads = n_head;  // rows stay as they are (zero-copy): see TensorInfo
  }
}

}  // namespace

std::optional<std::string> gguf_tensor_name(const Family& family, std::string_view hf_name) {
  return translate(family, hf_name, true);
}

std::optional<std::string> hf_tensor_name(const Family& family, std::string_view gguf_name) {
  return translate(family, gguf_name, false);
}

std::vector<uint8_t> gguf_row_order(const TensorInfo& t) {
  if (t.rope_halves_heads <= 0) return std::vector<uint8_t>(t.data, t.data + t.n_bytes);
  const int64_t rows = t.shape.empty() ? 1 : t.shape[0];
  return permute_rope_rows(t.data, rows, t.n_bytes / static_cast<size_t>(rows), t.rope_halves_heads, true);
}

std::vector<uint8_t> permute_rope_rows(const uint8_t* data, int64_t n_rows, size_t row_bytes, int64_t n_head,
                                       bool to_gguf) {
  std::vector<uint8_t> out(static_cast<size_t>(n_rows) * row_bytes);
  const int64_t d = n_rows / n_head, half = d / 2;
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t c = 0; c < 2; ++c) {
      for (int64_t j = 0; j < half; ++j) {
        const int64_t hf_row = h * d + c * half + j, gguf_row = h * d + 2 * j + c;
        const int64_t from = to_gguf ? hf_row : gguf_row, to = to_gguf ? gguf_row : hf_row;
        std::memcpy(out.data() + static_cast<size_t>(to) * row_bytes, data + static_cast<size_t>(from) * row_bytes,
                    row_bytes);
      }
    }
  }
  return out;
}

std::unique_ptr<ModelFile> open_hf_directory(const std::string& dir) {
  std::shared_ptr<const hf::Directory> d = hf::Directory::open(dir);
  const std::string config_path = dir + "/config.json";
  const nlohmann::json& archs = d->config().value("architectures", nlohmann::json());
  if (!archs.is_array() || archs.empty() || !archs[0].is_string()) {
    fail("{}: 'architectures' must be a list naming the model class", config_path);
  }
  const std::string hf_arch = archs[0].get<std::string>();
  const Family* family = family_by_hf(hf_arch);
  if (family == nullptr) {
    fail("{}: architecture '{}' is not supported (owl runs the families {})", config_path, hf_arch,
         fmt::join(supported_architectures(), ", "));
  }
  const bool mlx = d->config().contains("quantization");
  auto view = std::make_unique<AssembledModelFile>(dir, mlx ? "mlx" : "hf");
  view->keep(d);
  uint64_t bytes = 0;
  for (const auto& shard : d->shards()) bytes += shard->file_size();
  view->set_file_size(bytes);
  const HfModelConfig config(d->config(), config_path);
  const std::string arch(family->gguf_arch);
  common_hf_metadata(config, arch, *view);
  view->set("general.name", gguf::Value{d->name()});
  if (d->license()) view->set("general.license", gguf::Value{*d->license()});
  family->hf_metadata(config, *view);
  for (auto& [key, value] : hf_tokenizer_metadata(dir)) view->set(key, std::move(value));
  if (d->chat_template()) view->set("tokenizer.chat_template", gguf::Value{*d->chat_template()});
  // generation_config.json's end token (an id or a list of them) when the tokenizer names none.
  const nlohmann::json& eos = d->generation_config().value("eos_token_id", nlohmann::json());
  const nlohmann::json& first = eos.is_array() && !eos.empty() ? eos[0] : eos;
  if (view->find("tokenizer.ggml.model") != nullptr && view->find("tokenizer.ggml.eos_token_id") == nullptr &&
      first.is_number_unsigned() && first.get<uint64_t>() < 0xFFFFFFFFu) {
    view->set("tokenizer.ggml.eos_token_id", gguf::Value{static_cast<uint32_t>(first.get<uint64_t>())});
  }

  for (const auto& [hf_name, tensor] : d->tensors()) {
    const std::optional<std::string> name = text_model_name(hf_name);
    if (!name || mlx_side_tensor(*d, hf_name)) continue;
    const std::optional<std::string> gguf_name = gguf_tensor_name(*family, *name);
    if (!gguf_name) fail("{}: tensor '{}' is not part of a {} model as owl knows it", dir, hf_name, arch);
    TensorInfo t = mlx_quantized(*d, hf_name) ? mlx_tensor(*view, *d, hf_name, *gguf_name)
                                               : float_tensor(*view, *gguf_name, *tensor);
    apply_rules(*view, *family, hf_name, t);
    view->add(std::move(t));
  }
  return view;
}

}  // namespace owl
