// LoRA adapters as llama.cpp (GGUF: convert_lora_to_gguf.py's layout, read by llama-adapter.cpp)
// and mlx-lm (tuner/utils.py: adapters.safetensors + adapter_config.json) write them.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <map>
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

}  // namespace

LoraAdapter read_gguf_adapter(const std::string& path, const Model& model) {
  const auto file = gguf::File::open(path);
  if (file->find_string("general.type").value_or("") != "adapter" || file->find_string("adapter.type").value_or("") != "lora") {
    fail("{}: not a GGUF LoRA adapter (general.type 'adapter' and adapter.type 'lora' expected)", path);
  }
  const std::string arch = file->find_string("general.architecture").value_or("");
  if (arch != model.spec().arch) fail("{}: an adapter for a '{}' model, not '{}'", path, arch, model.spec().arch);
  const std::optional<double> alpha = file->find_float("adapter.lora.alpha");
  const ModuleNames names = gguf_module_names(model);
  std::map<std::string, FileModule, std::less<>> found;
  for (const TensorInfo& t : file->tensors()) {
    const bool is_a = t.name.ends_with(kGgufA), is_b = t.name.ends_with(kGgufB);
    if (!is_a && !is_b) fail("{}: tensor '{}' is not a lora_a or lora_b", path, t.name);
    const std::string_view weight = std::string_view(t.name).substr(0, t.name.size() - kGgufA.size());
    const auto it = names.find(weight);
    if (it == names.end() || t.shape.size() != 2) fail("{}: tensor '{}' names no projection of this model", path, t.name);
    FileModule& m = found[std::string(weight)];
    m.layer = it->second.first;
    m.parts = it->second.second;
    (is_a ? m.a : m.b) = gguf_tensor_f32(t);
    if (is_a) {
      m.rank = t.shape[0];
      m.in = t.shape[1];
    } else {
      m.out = t.shape[0];
    }
  }
  if (found.empty()) fail("{}: no LoRA tensors", path);
  // llama.cpp's scale is alpha / rank, each tensor's own rank; without alpha it is 1.
  LoraAdapter adapter;
  adapter.alpha = alpha ? static_cast<float>(*alpha) : static_cast<float>(found.begin()->second.rank);
  if (!(adapter.alpha > 0.0f) || !std::isfinite(adapter.alpha)) fail("{}: adapter.lora.alpha must be positive", path);
  for (auto& [weight, m] : found) {
    m.scale = alpha ? adapter.scale(m.rank) : 1.0f;
    add_file_module(adapter, model, std::move(m), path, RowOrder::gguf);
  }
  return adapter;
}

void write_gguf_adapter(const LoraAdapter& adapter, const Model& model, const std::string& path) {
  if (adapter.modules.empty()) fail("{}: an adapter without modules", path);
  const int64_t rank = adapter.modules.front().rank;
  // llama.cpp scales by alpha / rank: an rsLoRA adapter's alpha / sqrt(rank) is written as such an
  // alpha; a module of another rank (a fused projection's) gets its scale folded into B.
  const float alpha = adapter.scale(rank) * static_cast<float>(rank);
  gguf::Writer w;
  w.set("general.architecture", {model.spec().arch});
  w.set("general.type", {std::string("adapter")});
  w.set("adapter.type", {std::string("lora")});
  w.set("adapter.lora.alpha", {alpha});
  for (FileModule& m : file_modules(adapter, model, RowOrder::gguf)) {
    rescale(m, alpha / static_cast<float>(m.rank));
    const std::string base = gguf_name(model, m);
    w.add_tensor(base + std::string(kGgufA), {m.rank, m.in}, DType::f32, bytes_of(m.a));
    w.add_tensor(base + std::string(kGgufB), {m.out, m.rank}, DType::f32, bytes_of(m.b));
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
  const ModuleNames names = hf_module_names(model);
  std::map<std::string, FileModule, std::less<>> found;
  for (const safetensors::Tensor& t : file->tensors()) {
    const bool is_a = t.name.ends_with(".lora_a"), is_b = t.name.ends_with(".lora_b");
    if (!is_a && !is_b) fail("{}: tensor '{}' is not a lora_a or lora_b", st_path, t.name);
    const std::string_view module = std::string_view(t.name).substr(0, t.name.size() - 7);
    const auto it = names.find(module);
    if (it == names.end() || t.shape.size() != 2) fail("{}: tensor '{}' names no projection of this model", st_path, t.name);
    FileModule& m = found[std::string(module)];
    m.layer = it->second.first;
    m.parts = it->second.second;
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
  if (found.empty()) fail("{}: no LoRA tensors", st_path);
  // mlx-lm's term is scale·(x·A)·B for every module: as alpha/rank with alpha = scale·rank.
  LoraAdapter adapter;
  adapter.alpha = static_cast<float>(scale.get<double>() * static_cast<double>(found.begin()->second.rank));
  for (auto& [module, m] : found) {
    m.scale = static_cast<float>(scale.get<double>());
    add_file_module(adapter, model, std::move(m), st_path, RowOrder::hf);
  }
  return adapter;
}

void write_mlx_adapter(const LoraAdapter& adapter, const Model& model, const std::string& dir) {
  if (adapter.modules.empty()) fail("{}: an adapter without modules", dir);
  std::vector<FileModule> modules = file_modules(adapter, model, RowOrder::hf);
  // mlx-lm has one rank and one scale for all modules: a smaller module is padded with zero rows of A
  // and columns of B, and a module of another scale gets it folded into B.
  int64_t rank = 0;
  for (const FileModule& m : modules) rank = std::max(rank, m.rank);
  const float scale = modules.front().scale;
  safetensors::Writer w;
  w.set_metadata("format", "mlx");
  std::set<std::string> keys;
  std::set<int64_t> layers;
  for (FileModule& m : modules) {
    rescale(m, scale);
    std::vector<float> a(static_cast<size_t>(rank * m.in), 0.0f), b(static_cast<size_t>(m.out * rank), 0.0f);
    std::copy(m.a.begin(), m.a.end(), a.begin());
    for (int64_t r = 0; r < m.out; ++r) std::copy_n(m.b.begin() + r * m.rank, m.rank, b.begin() + r * rank);
    const std::string module = hf_name(model, m);
    keys.insert(module.substr(module.find(".layers.") + 8 + std::to_string(m.layer).size() + 1));
    layers.insert(m.layer);
    w.add(module + ".lora_a", safetensors::DType::f32, {m.in, rank}, bytes_of(transposed(a, rank, m.in)));
    w.add(module + ".lora_b", safetensors::DType::f32, {rank, m.out}, bytes_of(transposed(b, m.out, rank)));
  }
  const json config = {{"fine_tune_type", "lora"},
                       {"num_layers", static_cast<int64_t>(layers.size())},
                       {"lora_parameters", {{"rank", rank},
                                            {"scale", scale},
                                            {"dropout", 0.0},
                                            {"keys", std::vector<std::string>(keys.begin(), keys.end())}}}};
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the adapter directory: {}", dir, ec.message());
  w.write((fs::path(dir) / "adapters.safetensors").string());
  atomic_write(fs::path(dir) / "adapter_config.json", config.dump(2) + "\n");
}

}  // namespace owl
