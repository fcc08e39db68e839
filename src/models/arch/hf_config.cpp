// HfModelConfig and the metadata all families share (convert_hf_to_gguf.py's TextModel.set_gguf_parameters).
#include "models/arch/hf_config.h"

#include <cmath>
#include <cstring>

#include "base/error.h"
#include "tensor/quant.h"

namespace owl {

using nlohmann::json;

HfModelConfig::HfModelConfig(const json& config, std::string where)
    : c_(config.contains("text_config") && config["text_config"].is_object() ? config["text_config"] : config),
      where_(std::move(where)) {}

const json* HfModelConfig::find(std::string_view key) const {
  const auto it = c_.find(key);
  return it == c_.end() || it->is_null() ? nullptr : &*it;
}

void HfModelConfig::bad(std::string_view key, std::string_view why) const { fail("{}: '{}': {}", where_, key, why); }

bool HfModelConfig::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<int64_t> HfModelConfig::find_int(std::string_view key) const {
  const json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer() || v->is_number_unsigned()) return v->get<int64_t>();
  if (v->is_number_float()) {  // some configs write 4096.0
    const double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
  }
  bad(key, "expected an integer");
}

int64_t HfModelConfig::get_int(std::string_view key) const {
  const auto v = find_int(key);
  if (!v) bad(key, "missing");
  return *v;
}

std::optional<double> HfModelConfig::find_float(std::string_view key) const {
  const json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) bad(key, "expected a number");
  const double d = v->get<double>();
  if (!std::isfinite(d)) bad(key, "expected a finite number");
  return d;
}

std::optional<bool> HfModelConfig::find_bool(std::string_view key) const {
  const json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) bad(key, "expected true or false");
  return v->get<bool>();
}

std::optional<std::string> HfModelConfig::find_string(std::string_view key) const {
  const json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) bad(key, "expected a string");
  return v->get<std::string>();
}

namespace {
// rope_parameters: one object, or one per layer type ({"full_attention": {...}, ...}).
const json* rope_parameters(const json& c, const char* layer_type) {
  const auto it = c.find("rope_parameters");
  if (it == c.end() || !it->is_object()) return nullptr;
  if (const auto per = it->find(layer_type); per != it->end() && per->is_object()) return &*per;
  return it->contains("full_attention") || it->contains("sliding_attention") ? nullptr : &*it;
}

// A RoPE object whose "rope_type" / "type" are strings where present: the families read them with
// json::value(), which throws nlohmann's type_error, not owl::Error, for any other type (found by
// fuzz/hf_config_fuzz).
const json& with_string_types(const HfModelConfig& c, const json& rope, const std::string& where) {
  for (const char* key : {"rope_type", "type"}) {
    if (const auto it = rope.find(key); it != rope.end() && !it->is_string()) c.bad(where + "." + key, "expected a string");
  }
  return rope;
}
}  // namespace

double HfModelConfig::rope_theta() const {
  if (const json* p = rope_parameters(c_, "full_attention"); p != nullptr && p->contains("rope_theta")) {
    if (!(*p)["rope_theta"].is_number()) bad("rope_parameters.rope_theta", "expected a number");
    return (*p)["rope_theta"].get<double>();
  }
  return find_float("rope_theta").value_or(10000.0);
}

const json& HfModelConfig::rope_scaling() const {
  if (const json* s = find("rope_scaling")) {
    if (!s->is_object()) bad("rope_scaling", "expected an object or null");
    return with_string_types(*this, *s, "rope_scaling");
  }
  if (const json* p = rope_parameters(c_, "full_attention")) {
    with_string_types(*this, *p, "rope_parameters");
    const std::string type = p->value("rope_type", p->value("type", "default"));
    if (type != "default") return *p;
  }
  return none_;
}

std::optional<double> HfModelConfig::local_rope_theta() const {
  if (const json* p = rope_parameters(c_, "sliding_attention"); p != nullptr && p->contains("rope_theta")) {
    if (!(*p)["rope_theta"].is_number()) bad("rope_parameters.rope_theta", "expected a number");
    return (*p)["rope_theta"].get<double>();
  }
  return find_float("rope_local_base_freq");
}

bool hf_layer_slides(const HfModelConfig& c, int64_t layer, int64_t default_period) {
  const json& raw = c.raw();
  if (const auto it = raw.find("layer_types"); it != raw.end() && it->is_array()) {
    if (layer >= static_cast<int64_t>(it->size())) c.bad("layer_types", "has fewer entries than layers");
    const json& t = (*it)[static_cast<size_t>(layer)];
    if (!t.is_string()) c.bad("layer_types", "entries must be strings");
    return t.get<std::string>() == "sliding_attention";
  }
  const int64_t period = c.find_int("sliding_window_pattern").value_or(default_period);
  if (period <= 0) c.bad("sliding_window_pattern", "must be positive");
  return (layer + 1) % period != 0;
}

void add_f32_tensor(AssembledModelFile& out, std::string name, const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  const size_t n = bytes.size();
  const uint8_t* data = out.own(std::move(bytes));
  out.add(TensorInfo{std::move(name), {static_cast<int64_t>(values.size())}, DType::f32, 0, 0, n, data});
}

std::vector<float> tensor_f32(const TensorInfo& t) {
  std::vector<float> v(t.n_elements);
  dequantize_row(t.type, t.data, v.data(), static_cast<int64_t>(t.n_elements));
  return v;
}

void common_hf_metadata(const HfModelConfig& c, const std::string& arch, AssembledModelFile& out) {
  auto u32 = [&](std::string_view key, int64_t v) {
    if (v <= 0 || v > 0xFFFFFFFFll) c.bad(key, "out of range");
    return gguf::Value{static_cast<uint32_t>(v)};
  };
  const int64_t n_embd = c.get_int("hidden_size");
  const int64_t n_head = c.get_int("num_attention_heads");
  out.set("general.architecture", gguf::Value{arch});
  out.set(arch + ".context_length", u32("max_position_embeddings", c.find_int("max_position_embeddings").value_or(4096)));
  out.set(arch + ".embedding_length", u32("hidden_size", n_embd));
  out.set(arch + ".block_count", u32("num_hidden_layers", c.get_int("num_hidden_layers")));
  out.set(arch + ".feed_forward_length", u32("intermediate_size", c.get_int("intermediate_size")));
  out.set(arch + ".attention.head_count", u32("num_attention_heads", n_head));
  out.set(arch + ".attention.head_count_kv",
          u32("num_key_value_heads", c.find_int("num_key_value_heads").value_or(n_head)));
  int64_t head_dim = n_head > 0 ? n_embd / n_head : 0;
  if (auto hd = c.find_int("head_dim")) {
    head_dim = *hd;
    out.set(arch + ".attention.key_length", u32("head_dim", head_dim));
    out.set(arch + ".attention.value_length", u32("head_dim", head_dim));
  }
  // The spec's bound (registry.cpp), before a family loops over the rotary dimensions: Llama 3's
  // rope_freqs with a head_dim of 4000000000 ran out of time and memory (a fuzz/hf_config_fuzz timeout).
  if (head_dim > (1 << 16)) c.bad("head_dim", "out of range (at most 65536)");
  const double partial = c.find_float("partial_rotary_factor").value_or(1.0);
  if (partial <= 0.0 || partial > 1.0) c.bad("partial_rotary_factor", "must be in (0, 1]");
  out.set(arch + ".rope.dimension_count", u32("head_dim", static_cast<int64_t>(static_cast<double>(head_dim) * partial)));
  out.set(arch + ".rope.freq_base", gguf::Value{static_cast<float>(c.rope_theta())});
  const double eps = c.find_float("rms_norm_eps").value_or(1e-5);
  out.set(arch + ".attention.layer_norm_rms_epsilon", gguf::Value{static_cast<float>(eps)});
  const json& scaling = c.rope_scaling();
  const std::string type = scaling.value("rope_type", scaling.value("type", "default"));
  if (type == "linear") {
    if (!scaling.contains("factor") || !scaling["factor"].is_number()) c.bad("rope_scaling.factor", "expected a number");
    out.set(arch + ".rope.scaling.type", gguf::Value{std::string("linear")});
    out.set(arch + ".rope.scaling.factor", gguf::Value{scaling["factor"].get<float>()});
  }
}

}  // namespace owl
