// A model trained in full (train/trainable_model.h).
#include "train/trainable_model.h"

#include <cmath>
#include <cstring>
#include <numbers>
#include <random>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace owl::train {

namespace {

using gguf::Value;

// A normal draw from two uniform ones (Box-Muller): mt19937_64's output is fixed by the standard,
// std::normal_distribution's is not, so a seed gives the same weights with every library.
double normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
  const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Value u32(int64_t v) { return Value{static_cast<uint32_t>(v)}; }

}  // namespace

ModelShape ModelShape::resolved() const {
  ModelShape s = *this;
  if (s.n_head_kv == 0) s.n_head_kv = s.n_head;
  if (s.n_ff == 0) s.n_ff = (s.n_embd * 8 / 3 + 31) / 32 * 32;
  auto need = [](bool ok, const char* what, int64_t v) {
    if (!ok) fail("model shape: {} {} is not possible", what, v);
  };
  need(s.n_vocab >= 2 && s.n_vocab <= (1 << 20), "vocabulary size", s.n_vocab);
  need(s.n_embd >= 8 && s.n_embd <= 16384, "--dim", s.n_embd);
  need(s.n_layer >= 1 && s.n_layer <= 256, "--layers", s.n_layer);
  need(s.n_head >= 1 && s.n_embd % s.n_head == 0 && (s.n_embd / s.n_head) % 2 == 0, "--heads", s.n_head);
  need(s.n_head_kv >= 1 && s.n_head % s.n_head_kv == 0, "--kv-heads", s.n_head_kv);
  need(s.n_ff >= 1 && s.n_ff <= 65536, "--ffn-dim", s.n_ff);
  need(s.n_ctx >= 8 && s.n_ctx <= (1 << 20), "--context", s.n_ctx);
  if (!(s.rope_base > 1.0) || !(s.norm_eps > 0.0)) fail("model shape: RoPE base and norm epsilon must be positive");
  return s;
}

TrainableModel::Tensor& TrainableModel::add(std::string name, std::vector<int64_t> shape, bool matrix) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  tensors_.push_back(Tensor{std::move(name), std::move(shape), std::vector<float>(static_cast<size_t>(n), 1.0f), matrix});
  return tensors_.back();
}

TrainableModel::TrainableModel(const ModelShape& shape, std::vector<std::pair<std::string, Value>> metadata,
                               uint64_t seed, double init_std)
    : shape_(shape.resolved()), metadata_(std::move(metadata)) {
  const ModelShape& s = shape_;
  const int64_t hd = s.n_embd / s.n_head, kv = s.n_head_kv * hd;
  tensors_.reserve(static_cast<size_t>(3 + 9 * s.n_layer));  // references into it stay valid
  std::mt19937_64 rng(seed);
  auto random = [&](std::string name, std::vector<int64_t> dims, double std_dev) {
    Tensor& t = add(std::move(name), std::move(dims), true);
    for (float& v : t.values) v = static_cast<float>(std_dev * normal(rng));
  };
  const double residual_std = init_std / std::sqrt(2.0 * static_cast<double>(s.n_layer));
  random("token_embd.weight", {s.n_vocab, s.n_embd}, init_std);
  add("output_norm.weight", {s.n_embd}, false);
  if (!s.tied) random("output.weight", {s.n_vocab, s.n_embd}, init_std);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {s.n_embd}, false);
    random(p + "attn_q.weight", {s.n_embd, s.n_embd}, init_std);
    random(p + "attn_k.weight", {kv, s.n_embd}, init_std);
    random(p + "attn_v.weight", {kv, s.n_embd}, init_std);
    random(p + "attn_output.weight", {s.n_embd, s.n_embd}, residual_std);
    add(p + "ffn_norm.weight", {s.n_embd}, false);
    random(p + "ffn_gate.weight", {s.n_ff, s.n_embd}, init_std);
    random(p + "ffn_up.weight", {s.n_ff, s.n_embd}, init_std);
    random(p + "ffn_down.weight", {s.n_embd, s.n_ff}, residual_std);
  }

  auto file = std::make_unique<AssembledModelFile>("<owl train>", "gguf");
  file->set("general.architecture", Value{std::string("llama")});
  file->set("llama.context_length", u32(s.n_ctx));
  file->set("llama.embedding_length", u32(s.n_embd));
  file->set("llama.block_count", u32(s.n_layer));
  file->set("llama.feed_forward_length", u32(s.n_ff));
  file->set("llama.attention.head_count", u32(s.n_head));
  file->set("llama.attention.head_count_kv", u32(s.n_head_kv));
  file->set("llama.rope.dimension_count", u32(hd));
  file->set("llama.rope.freq_base", Value{static_cast<float>(s.rope_base)});
  file->set("llama.attention.layer_norm_rms_epsilon", Value{static_cast<float>(s.norm_eps)});
  file->set("llama.vocab_size", u32(s.n_vocab));
  for (const auto& [key, value] : metadata_) {
    if (!key.starts_with("llama.") && key != "general.architecture") file->set(key, value);
  }
  for (const Tensor& t : tensors_) {
    TensorInfo info;
    info.name = t.name;
    info.shape = t.shape;
    info.type = DType::f32;
    info.n_elements = t.values.size();
    info.n_bytes = t.values.size() * sizeof(float);
    info.data = reinterpret_cast<const uint8_t*>(t.values.data());
    file->add(std::move(info));
  }
  model_ = Model::from_file(std::move(file));
  if (model_->spec().tied_output != s.tied || model_->spec().n_vocab != s.n_vocab) fail("owl train: the new model did not bind");
}

int64_t TrainableModel::n_params() const {
  int64_t n = 0;
  for (const Tensor& t : tensors_) n += static_cast<int64_t>(t.values.size());
  return n;
}

std::vector<size_t> TrainableModel::tensor_sizes() const {
  std::vector<size_t> out;
  for (const Tensor& t : tensors_) out.push_back(t.values.size());
  return out;
}

std::vector<ParamTensor> TrainableModel::params(ModelGrads& grads) {
  const std::vector<std::vector<float>*> g = gradient_tensors(grads);  // the order of tensors_
  if (g.size() != tensors_.size()) fail("owl train: {} gradients for {} tensors", g.size(), tensors_.size());
  std::vector<ParamTensor> out;
  for (size_t i = 0; i < tensors_.size(); ++i) out.push_back({tensors_[i].values, *g[i], tensors_[i].matrix});
  return out;
}

void TrainableModel::sync() {
  ModelWeights& w = model_->weights_for_training();
  auto copy = [&](std::vector<float>& dst, const std::string& name) {
    for (const Tensor& t : tensors_) {
      if (t.name == name) dst = t.values;
    }
  };
  copy(w.output_norm, "output_norm.weight");
  for (size_t l = 0; l < w.layers.size(); ++l) {
    copy(w.layers[l].attn_norm, "blk." + std::to_string(l) + ".attn_norm.weight");
    copy(w.layers[l].ffn_norm, "blk." + std::to_string(l) + ".ffn_norm.weight");
  }
}

void TrainableModel::write_tensors(const std::filesystem::path& path) const {
  safetensors::Writer w;
  for (const Tensor& t : tensors_) w.add(t.name, safetensors::DType::f32, t.shape, t.values.data(), t.values.size() * 4);
  w.write(path.string());
}

void TrainableModel::read_tensors(const std::filesystem::path& path) {
  const auto file = safetensors::File::open(path.string());
  for (Tensor& t : tensors_) {
    const safetensors::Tensor* s = file->find(t.name);
    if (s == nullptr || s->dtype != safetensors::DType::f32 || s->n_elements != t.values.size()) {
      fail("{}: tensor {} is missing or not of the model's shape", path.string(), t.name);
    }
    std::memcpy(t.values.data(), s->data, s->n_bytes);
  }
  sync();
}

void TrainableModel::write_gguf(const std::string& path, const std::vector<std::pair<std::string, Value>>& extra) const {
  gguf::Writer w = gguf::Writer::from(model_->file());
  for (const auto& [key, value] : extra) w.set(key, value);
  w.write(path);
}

}  // namespace owl::train
