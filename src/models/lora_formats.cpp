// LoRA adapters as llama.cpp (GGUF: convert_lora_to_gguf.py's layout, read by llama-adapter.cpp)
// and mlx-lm (tuner/utils.py: adapters.safetensors + adapter_config.json) write them.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "base/atomic_write.h"
#include "base/error.h"
#include "formats/gguf.h"
#include "models/lora_files.h"
#include "tensor/quant.h"

namespace owl {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace lora_files;

namespace {

constexpr std::string_view kGgufA = ".lora_a", kGgufB = ".lora_b";

std::vector<float> gguf_tensor_f32(const TensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.rows() * t.cols()));
  for (int64_t r = 0; r < t.rows(); ++r) {
    dequantize_row(t.type, t.data + static_cast<size_t>(r) * row_bytes(t.type, t.cols()), out.data() + r * t.cols(), t.cols());
  }
  return out;
}

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// (rows, cols) row-major -> (cols, rows).
std::vector<float> transposed(const std::vector<float>& v, int64_t rows, int64_t cols) {
  std::vector<float> out(v.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[static_cast<size_t>(c * rows + r)] = v[static_cast<size_t>(r * cols + c)];
  }
  return out;
}

LoraModule& module_for(LoraAdapter& a, int64_t layer, LoraTarget t) {
  if (LoraModule* m = a.find(layer, t)) return *m;
  a.modules.push_back(LoraModule{layer, t, 0, 0, 0, {}, {}});
  return a.modules.back();
}

}  // namespace

LoraAdapter read_gguf_adapter(const std::string& path, const Model& model) {
  const auto file = gguf::File::open(path);
  if (file->find_string("general.type").value_or("") != "adapter" || file->find_string("adapter.type").value_or("") != "lora") {
    fail("{}: not a GGUF LoRA adapter (general.type 'adapter' and adapter.type 'lora' expected)", path);
  }
  const std::string arch = file->find_string("general.architecture").value_or("");
  if (arch != model.spec().arch) fail("{}: an adapter for a '{}' model, not '{}'", path, arch, model.spec().arch);
  const std::optional<double> alpha = file->find_float("adapter.lora.alpha");
  std::map<std::string, std::pair<int64_t, LoraTarget>, std::less<>> by_name;
  for (int64_t il = 0; il < model.spec().n_layer; ++il) {
    for (LoraTarget t : kAllLoraTargets) by_name[gguf_weight_name(il, t)] = {il, t};
  }
  LoraAdapter adapter;
  for (const TensorInfo& t : file->tensors()) {
    const bool is_a = t.name.ends_with(kGgufA), is_b = t.name.ends_with(kGgufB);
    if (!is_a && !is_b) fail("{}: tensor '{}' is not a lora_a or lora_b", path, t.name);
    const auto it = by_name.find(std::string_view(t.name).substr(0, t.name.size() - kGgufA.size()));
    if (it == by_name.end() || t.shape.size() != 2) fail("{}: tensor '{}' names no projection of this model", path, t.name);
    LoraModule& m = module_for(adapter, it->second.first, it->second.second);
    (is_a ? m.a : m.b) = gguf_tensor_f32(t);
    if (is_a) {
      m.rank = t.shape[0];
      m.in = t.shape[1];
    } else {
      m.out = t.shape[0];
    }
  }
  complete_modules(adapter, model, path, RowOrder::gguf, "lora_a and lora_b");
  // llama.cpp's scale is alpha / rank; without alpha it is 1.
  const int64_t rank = single_rank(adapter, path);
  adapter.alpha = alpha ? static_cast<float>(*alpha) : static_cast<float>(rank);
  if (!(adapter.alpha > 0.0f) || !std::isfinite(adapter.alpha)) fail("{}: adapter.lora.alpha must be positive", path);
  return adapter;
}

void write_gguf_adapter(const LoraAdapter& adapter, const Model& model, const std::string& path) {
  if (adapter.modules.empty()) fail("{}: an adapter without modules", path);
  const int64_t rank = adapter.modules.front().rank;
  gguf::Writer w;
  w.set("general.architecture", {model.spec().arch});
  w.set("general.type", {std::string("adapter")});
  w.set("adapter.type", {std::string("lora")});
  // llama.cpp scales by alpha / rank: an rsLoRA adapter's alpha / sqrt(rank) is written as such an alpha.
  w.set("adapter.lora.alpha", {static_cast<float>(adapter.scale(rank) * static_cast<float>(rank))});
  for (const LoraModule& m : adapter.modules) {
    if (m.rank != rank) fail("{}: modules of different ranks cannot share llama.cpp's one alpha", path);
    const std::string base = gguf_weight_name(m.layer, m.target);
    w.add_tensor(base + std::string(kGgufA), {m.rank, m.in}, DType::f32, bytes_of(m.a));
    w.add_tensor(base + std::string(kGgufB), {m.out, m.rank}, DType::f32, bytes_of(b_for_file(model, m, RowOrder::gguf)));
  }
  w.write(path);
}

LoraAdapter read_mlx_adapter(const std::string& dir, const Model& model) {
  const json config = read_json_file(fs::path(dir) / "adapter_config.json");
  const std::string config_path = (fs::path(dir) / "adapter_config.json").string();
  if (!config.is_object()) fail("{}: not a JSON object", config_path);
  const std::string kind = config.value("fine_tune_type", std::string("lora"));
  if (kind != "lora") fail("{}: fine_tune_type '{}' is not lora", config_path, kind);
  const json params = config.value("lora_parameters", json::object());
  const json& scale = params.contains("scale") ? params["scale"] : json(20.0);  // mlx-lm's default
  if (!scale.is_number() || !std::isfinite(scale.get<double>())) fail("{}: lora_parameters.scale must be a number", config_path);
  const std::string st_path = (fs::path(dir) / "adapters.safetensors").string();
  const auto file = safetensors::File::open(st_path);
  const auto modules = hf_modules(model);
  LoraAdapter adapter;
  for (const safetensors::Tensor& t : file->tensors()) {
    const bool is_a = t.name.ends_with(".lora_a"), is_b = t.name.ends_with(".lora_b");
    if (!is_a && !is_b) fail("{}: tensor '{}' is not a lora_a or lora_b", st_path, t.name);
    const auto it = modules.find(std::string_view(t.name).substr(0, t.name.size() - 7));
    if (it == modules.end() || t.shape.size() != 2) fail("{}: tensor '{}' names no projection of this model", st_path, t.name);
    LoraModule& m = module_for(adapter, it->second.first, it->second.second);
    // mlx-lm computes x·lora_a·lora_b: lora_a is (in, rank), lora_b (rank, out).
    const std::vector<float> v = read_f32(t, st_path);
    if (is_a) {
      m.in = t.shape[0];
      m.rank = t.shape[1];
      m.a = transposed(v, t.shape[0], t.shape[1]);
    } else {
      m.out = t.shape[1];
      m.b = transposed(v, t.shape[0], t.shape[1]);
    }
  }
  complete_modules(adapter, model, st_path, RowOrder::hf, "lora_a and lora_b");
  // mlx-lm's term is scale·(x·A)·B: as alpha/rank with alpha = scale·rank.
  const int64_t rank = single_rank(adapter, st_path);
  adapter.alpha = static_cast<float>(scale.get<double>() * static_cast<double>(rank));
  return adapter;
}

void write_mlx_adapter(const LoraAdapter& adapter, const Model& model, const std::string& dir) {
  if (adapter.modules.empty()) fail("{}: an adapter without modules", dir);
  const int64_t rank = adapter.modules.front().rank;
  safetensors::Writer w;
  w.set_metadata("format", "mlx");
  std::set<std::string> keys;
  std::set<int64_t> layers;
  for (const LoraModule& m : adapter.modules) {
    if (m.rank != rank) fail("{}: modules of different ranks cannot share mlx-lm's one scale", dir);
    const std::string module = hf_module(model, m.layer, m.target);
    keys.insert(module.substr(module.find(".layers.") + 8 + std::to_string(m.layer).size() + 1));
    layers.insert(m.layer);
    w.add(module + ".lora_a", safetensors::DType::f32, {m.in, m.rank}, bytes_of(transposed(m.a, m.rank, m.in)));
    w.add(module + ".lora_b", safetensors::DType::f32, {m.rank, m.out},
          bytes_of(transposed(b_for_file(model, m, RowOrder::hf), m.out, m.rank)));
  }
  const json config = {{"fine_tune_type", "lora"},
                       {"num_layers", static_cast<int64_t>(layers.size())},
                       {"lora_parameters", {{"rank", rank},
                                            {"scale", adapter.scale(rank)},
                                            {"dropout", 0.0},
                                            {"keys", std::vector<std::string>(keys.begin(), keys.end())}}}};
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the adapter directory: {}", dir, ec.message());
  w.write((fs::path(dir) / "adapters.safetensors").string());
  atomic_write(fs::path(dir) / "adapter_config.json", config.dump(2) + "\n");
}

}  // namespace owl
