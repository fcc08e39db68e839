// LoRA adapters in Hugging Face PEFT's layout: adapter_config.json (r, lora_alpha, use_rslora,
// target_modules, layers_to_transform) and adapter_model.safetensors with
// base_model.model.<HF module>.lora_A.weight (r, in) / lora_B.weight (out, r).
#include "models/lora_adapter.h"
#include "models/lora_files.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/fp16.h"
#include "formats/safetensors.h"
#include "models/arch/families.h"
#include "models/hf_import.h"
#include "models/registry.h"

namespace owl {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kPeftPrefix = "base_model.model.";

// The value of a PEFT pattern (rank_pattern, alpha_pattern) for a module: a key matches the module
// name or its ending after a dot, as PEFT matches them.
const json* pattern_value(const json& config, const char* pattern, std::string_view module) {
  const auto it = config.find(pattern);
  if (it == config.end() || !it->is_object()) return nullptr;
  for (const auto& [key, value] : it->items()) {
    if (module == key || (module.size() > key.size() && module.ends_with(key) && module[module.size() - key.size() - 1] == '.')) {
      return &value;
    }
  }
  return nullptr;
}

// The scale PEFT gives a module of this rank: alpha (its alpha_pattern's, if any) over the rank or
// its square root.
float peft_scale(const json& config, std::string_view module, int64_t rank, const LoraAdapter& adapter) {
  const json* alpha = pattern_value(config, "alpha_pattern", module);
  if (alpha == nullptr) return adapter.scale(rank);
  if (!alpha->is_number() || !(alpha->get<double>() > 0.0)) fail("adapter_config.json: alpha_pattern for {} must be a positive number", module);
  const float a = alpha->get<float>(), r = static_cast<float>(rank);
  return adapter.rslora ? a / std::sqrt(r) : a / r;
}

}  // namespace

namespace lora_files {

std::string gguf_weight_name(int64_t layer, LoraTarget t) {
  static constexpr std::string_view kRoles[] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                                "ffn_gate", "ffn_up", "ffn_down"};
  return "blk." + std::to_string(layer) + "." + std::string(kRoles[static_cast<int>(t)]) + ".weight";
}

const Family& family_of(const Model& model) {
  const Family* f = family_by_gguf(model.spec().arch);
  if (f == nullptr) fail("LoRA: architecture '{}' has no family record", model.spec().arch);
  return *f;
}

namespace {

// The order of q/k rows in the model's own weights (every other projection is the same in both).
RowOrder model_order(const Model& model, LoraTarget t) {
  if ((family_of(model).hf_rules & kHfPermuteQK) == 0) return RowOrder::gguf;
  const TensorInfo* info = model.file().find_tensor(gguf_weight_name(0, t));
  return info != nullptr && info->rope_halves_heads > 0 ? RowOrder::hf : RowOrder::gguf;
}

std::vector<float> reorder_b(const Model& model, const std::vector<float>& b, const LoraModule& m, RowOrder from,
                             RowOrder to) {
  if (m.target != LoraTarget::q && m.target != LoraTarget::k) return b;
  if ((family_of(model).hf_rules & kHfPermuteQK) == 0 || from == to) return b;
  const int64_t heads = m.target == LoraTarget::q ? model.spec().n_head : model.spec().n_head_kv;
  const std::vector<uint8_t> bytes = permute_rope_rows(reinterpret_cast<const uint8_t*>(b.data()), m.out,
                                                       sizeof(float) * static_cast<size_t>(m.rank), heads, to == RowOrder::gguf);
  std::vector<float> out(b.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace

std::vector<float> b_from_file(const Model& model, const LoraModule& m, RowOrder file_order) {
  return reorder_b(model, m.b, m, file_order, model_order(model, m.target));
}

std::vector<float> b_for_file(const Model& model, const LoraModule& m, RowOrder file_order) {
  return reorder_b(model, m.b, m, model_order(model, m.target), file_order);
}

std::vector<float> read_f32(const safetensors::Tensor& t, const std::string& path) {
  std::vector<float> out(t.n_elements);
  switch (t.dtype) {
    case safetensors::DType::f32:
      std::memcpy(out.data(), t.data, t.n_bytes);
      break;
    case safetensors::DType::f16:
    case safetensors::DType::bf16:
      for (uint64_t i = 0; i < t.n_elements; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        out[i] = t.dtype == safetensors::DType::f16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
      }
      break;
    default:
      fail("{}: tensor '{}': LoRA weights must be F32, F16 or BF16, not {}", path, t.name, safetensors::dtype_name(t.dtype));
  }
  return out;
}

json read_json_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) fail("{}: cannot open", p.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", p.string(), e.what());
  }
}

}  // namespace lora_files

using namespace lora_files;


std::string_view lora_target_name(LoraTarget t) {
  static constexpr std::string_view kNames[] = {"q", "k", "v", "o", "gate", "up", "down"};
  return kNames[static_cast<int>(t)];
}

std::optional<LoraTarget> lora_target_from_name(std::string_view name) {
  if (name.ends_with("_proj")) name.remove_suffix(5);
  for (LoraTarget t : kAllLoraTargets) {
    if (lora_target_name(t) == name) return t;
  }
  return std::nullopt;
}

float LoraAdapter::scale(int64_t rank) const {
  return rslora ? alpha / std::sqrt(static_cast<float>(rank)) : alpha / static_cast<float>(rank);
}

const LoraModule* LoraAdapter::find(int64_t layer, LoraTarget target) const {
  for (const LoraModule& m : modules) {
    if (m.layer == layer && m.target == target) return &m;
  }
  return nullptr;
}

LoraModule* LoraAdapter::find(int64_t layer, LoraTarget target) {
  return const_cast<LoraModule*>(static_cast<const LoraAdapter*>(this)->find(layer, target));
}

const Weight& lora_base_weight(const Model& model, int64_t layer, LoraTarget target) {
  if (layer < 0 || layer >= model.spec().n_layer) fail("LoRA: layer {} out of range (the model has {})", layer, model.spec().n_layer);
  const LayerWeights& l = model.weights().layers[static_cast<size_t>(layer)];
  switch (target) {
    case LoraTarget::q: return l.attn_q;
    case LoraTarget::k: return l.attn_k;
    case LoraTarget::v: return l.attn_v;
    case LoraTarget::o: return l.attn_output;
    case LoraTarget::gate: return l.ffn_gate;
    case LoraTarget::up: return l.ffn_up;
    case LoraTarget::down: return l.ffn_down;
  }
  fail("LoRA: unknown target");
}

LoraAdapter read_peft_adapter(const std::string& dir, const Model& model) {
  const fs::path config_path = fs::path(dir) / "adapter_config.json";
  const json config = read_json_file(config_path);
  if (!config.is_object()) fail("{}: not a JSON object", config_path.string());
  if (config.value("peft_type", std::string("LORA")) != "LORA") {
    fail("{}: peft_type '{}' is not LORA", config_path.string(), config.value("peft_type", std::string()));
  }
  if (config.value("use_dora", false)) fail("{}: DoRA adapters are not supported", config_path.string());
  if (config.value("fan_in_fan_out", false)) fail("{}: fan_in_fan_out adapters are not supported", config_path.string());
  LoraAdapter adapter;
  const json& alpha = config.contains("lora_alpha") ? config["lora_alpha"] : json();
  if (!alpha.is_number() || !(alpha.get<double>() > 0.0) || alpha.get<double>() > 1e6) {
    fail("{}: 'lora_alpha' must be a positive number", config_path.string());
  }
  adapter.alpha = alpha.get<float>();
  adapter.rslora = config.value("use_rslora", false);
  if (config.contains("base_model_name_or_path") && config["base_model_name_or_path"].is_string()) {
    adapter.base_model = config["base_model_name_or_path"].get<std::string>();
  }
  const std::string st_path = (fs::path(dir) / "adapter_model.safetensors").string();
  const auto file = safetensors::File::open(st_path);
  const ModuleNames names = hf_module_names(model);
  std::map<std::string, FileModule, std::less<>> found;  // by module name
  for (const safetensors::Tensor& t : file->tensors()) {
    const bool is_a = t.name.ends_with(".lora_A.weight"), is_b = t.name.ends_with(".lora_B.weight");
    if (!is_a && !is_b) fail("{}: tensor '{}' is not a lora_A or lora_B weight", st_path, t.name);
    std::string_view module = std::string_view(t.name).substr(0, t.name.size() - std::string_view(".lora_A.weight").size());
    if (module.starts_with(kPeftPrefix)) module.remove_prefix(kPeftPrefix.size());
    const auto it = names.find(module);
    if (it == names.end()) fail("{}: tensor '{}' names no projection of this {} model", st_path, t.name, model.spec().arch);
    if (t.shape.size() != 2) fail("{}: tensor '{}' is not a matrix", st_path, t.name);
    FileModule& m = found[std::string(module)];
    m.layer = it->second.first;
    m.parts = it->second.second;
    const int64_t rank = is_a ? t.shape[0] : t.shape[1];
    if (m.rank != 0 && m.rank != rank) fail("{}: tensor '{}' has rank {}, its pair {}", st_path, t.name, rank, m.rank);
    m.rank = rank;
    (is_a ? m.in : m.out) = is_a ? t.shape[1] : t.shape[0];
    (is_a ? m.a : m.b) = read_f32(t, st_path);
  }
  for (auto& [module, m] : found) {
    m.scale = peft_scale(config, module, m.rank, adapter);
    add_file_module(adapter, model, std::move(m), st_path, RowOrder::hf);
  }
  require_modules(adapter, st_path);
  return adapter;
}

namespace {

// The adapter's modules as PEFT holds them, with the rank and alpha patterns of those whose rank or
// scale differs from the adapter's own (a fused projection's modules joined).
struct PeftModules {
  std::vector<FileModule> modules;
  int64_t rank = 0;
  json rank_pattern = json::object(), alpha_pattern = json::object();
};

PeftModules peft_modules(const LoraAdapter& adapter, const Model& model) {
  PeftModules p;
  p.modules = file_modules(adapter, model, RowOrder::hf);
  if (p.modules.empty()) return p;
  p.rank = adapter.modules.front().rank;
  for (const FileModule& m : p.modules) {
    if (m.rank == p.rank && m.scale == adapter.scale(p.rank)) continue;
    const std::string name = hf_name(model, m);
    p.rank_pattern[name] = m.rank;
    const float r = static_cast<float>(m.rank);
    p.alpha_pattern[name] = adapter.rslora ? m.scale * std::sqrt(r) : m.scale * r;
  }
  return p;
}

void write_peft_tensors(const std::vector<FileModule>& modules, const Model& model, const std::string& path,
                        const std::map<std::string, std::string>& metadata) {
  safetensors::Writer w;
  w.set_metadata("format", "pt");
  for (const auto& [key, value] : metadata) w.set_metadata(key, value);
  for (const FileModule& m : modules) {
    const std::string base = std::string(kPeftPrefix) + hf_name(model, m);
    std::vector<uint8_t> a_bytes(m.a.size() * 4), b_bytes(m.b.size() * 4);
    std::memcpy(a_bytes.data(), m.a.data(), a_bytes.size());
    std::memcpy(b_bytes.data(), m.b.data(), b_bytes.size());
    w.add(base + ".lora_A.weight", safetensors::DType::f32, {m.rank, m.in}, std::move(a_bytes));
    w.add(base + ".lora_B.weight", safetensors::DType::f32, {m.out, m.rank}, std::move(b_bytes));
  }
  w.write(path);
}

}  // namespace

void write_peft_safetensors(const LoraAdapter& adapter, const Model& model, const std::string& path,
                            const std::map<std::string, std::string>& metadata) {
  write_peft_tensors(peft_modules(adapter, model).modules, model, path, metadata);
}

void write_peft_adapter(const LoraAdapter& adapter, const Model& model, const std::string& dir) {
  const PeftModules p = peft_modules(adapter, model);
  std::set<std::string> targets;
  std::set<int64_t> layers;
  for (const FileModule& m : p.modules) {
    const std::string module = hf_name(model, m);
    targets.insert(module.substr(module.rfind('.') + 1));
    layers.insert(m.layer);
  }
  json layer_list = nullptr;
  if (static_cast<int64_t>(layers.size()) != model.spec().n_layer) layer_list = json(std::vector<int64_t>(layers.begin(), layers.end()));
  const json config = {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"base_model_name_or_path", adapter.base_model},
      {"r", p.rank},
      {"lora_alpha", adapter.alpha},
      {"lora_dropout", 0.0},
      {"target_modules", std::vector<std::string>(targets.begin(), targets.end())},
      {"bias", "none"},
      {"use_rslora", adapter.rslora},
      {"fan_in_fan_out", false},
      {"init_lora_weights", true},
      {"layers_to_transform", layer_list},
      {"layers_pattern", nullptr},
      {"rank_pattern", p.rank_pattern},
      {"alpha_pattern", p.alpha_pattern},
      {"use_dora", false},
      {"inference_mode", true},
  };
  // Each file atomically (the directory may hold more, e.g. owl finetune's checkpoint): the
  // weights first, so a config never describes weights that are not there yet.
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the adapter directory: {}", dir, ec.message());
  write_peft_tensors(p.modules, model, (fs::path(dir) / "adapter_model.safetensors").string(), {});
  atomic_write(fs::path(dir) / "adapter_config.json", config.dump(2) + "\n");
}

LoraAdapter read_lora_adapter(const std::string& path, const Model& model) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(fs::path(path) / "adapter_model.safetensors", ec)) return read_peft_adapter(path, model);
    if (fs::exists(fs::path(path) / "adapters.safetensors", ec)) return read_mlx_adapter(path, model);
    if (fs::exists(fs::path(path) / "adapter.gguf", ec)) return read_gguf_adapter((fs::path(path) / "adapter.gguf").string(), model);
    fail("{}: not a LoRA adapter directory (PEFT's adapter_model.safetensors or mlx-lm's adapters.safetensors)", path);
  }
  if (!fs::exists(path, ec)) fail("{}: no such adapter", path);
  return read_gguf_adapter(path, model);
}

AdapterFormat adapter_format_from_name(std::string_view name) {
  if (name == "peft") return AdapterFormat::peft;
  if (name == "gguf") return AdapterFormat::gguf;
  if (name == "mlx") return AdapterFormat::mlx;
  fail("adapter format '{}': peft, gguf or mlx", name);
}

void write_lora_adapter(const LoraAdapter& adapter, const Model& model, const std::string& dir, AdapterFormat format) {
  switch (format) {
    case AdapterFormat::peft: return write_peft_adapter(adapter, model, dir);
    case AdapterFormat::mlx: return write_mlx_adapter(adapter, model, dir);
    case AdapterFormat::gguf: {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) fail("{}: cannot create the adapter directory: {}", dir, ec.message());
      return write_gguf_adapter(adapter, model, (fs::path(dir) / "adapter.gguf").string());
    }
  }
}

void attach_lora(Model& model, const LoraAdapter& adapter, float user_scale) {
  auto owned = std::make_shared<const LoraAdapter>(adapter);
  const int32_t index = model.add_lora_adapter(user_scale);
  for (const LoraModule& m : owned->modules) {
    const Weight& w = lora_base_weight(model, m.layer, m.target);
    if (m.in != w.cols || m.out != w.rows) {
      fail("LoRA: the {} module of layer {} is {} x {}; the model's projection is {} x {}", lora_target_name(m.target),
           m.layer, m.out, m.in, w.rows, w.cols);
    }
    const float own = owned->scale(m.rank);
    model.add_lora_term(m.layer, m.target, ops::LoraTerm{m.a.data(), m.b.data(), m.rank, own * user_scale, own, index},
                        owned);
  }
}

}  // namespace owl
