// A Llama-architecture GGUF with random F32 weights and chosen shapes, written with owl's own
// writer: for tests that need shapes the fixtures lack (e.g. 256-wide rows for K-quants).
#pragma once

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <vector>

#include "formats/gguf.h"

struct RandomLlamaShape {
  int64_t n_vocab = 300;
  int64_t n_embd = 256;
  int64_t n_ff = 512;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_head_kv = 2;
};

// extra(writer) may add or replace metadata and tensors before the file is written.
inline void write_random_llama(const std::filesystem::path& path, const RandomLlamaShape& s, uint32_t seed = 1,
                               const std::function<void(owl::gguf::Writer&)>& extra = {}) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> storage;
  owl::gguf::Writer w;
  w.set("general.architecture", {std::string("llama")});
  w.set("llama.context_length", {uint32_t{256}});
  w.set("llama.embedding_length", {static_cast<uint32_t>(s.n_embd)});
  w.set("llama.block_count", {static_cast<uint32_t>(s.n_layer)});
  w.set("llama.feed_forward_length", {static_cast<uint32_t>(s.n_ff)});
  w.set("llama.attention.head_count", {static_cast<uint32_t>(s.n_head)});
  w.set("llama.attention.head_count_kv", {static_cast<uint32_t>(s.n_head_kv)});
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, float offset) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = offset + scale * normal(rng);
    std::vector<uint8_t> bytes(v.size() * sizeof(float));
    std::memcpy(bytes.data(), v.data(), bytes.size());
    w.add_tensor(name, std::move(shape), owl::DType::f32, std::move(bytes));
  };
  const int64_t head_dim = s.n_embd / s.n_head;
  const float in_scale = 1.0f / std::sqrt(static_cast<float>(s.n_embd));
  add("token_embd.weight", {s.n_vocab, s.n_embd}, 1.0f, 0.0f);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    add(p + "attn_norm.weight", {s.n_embd}, 0.1f, 1.0f);
    add(p + "attn_q.weight", {s.n_head * head_dim, s.n_embd}, in_scale, 0.0f);
    add(p + "attn_k.weight", {s.n_head_kv * head_dim, s.n_embd}, in_scale, 0.0f);
    add(p + "attn_v.weight", {s.n_head_kv * head_dim, s.n_embd}, in_scale, 0.0f);
    add(p + "attn_output.weight", {s.n_embd, s.n_head * head_dim}, in_scale, 0.0f);
    add(p + "ffn_norm.weight", {s.n_embd}, 0.1f, 1.0f);
    add(p + "ffn_gate.weight", {s.n_ff, s.n_embd}, in_scale, 0.0f);
    add(p + "ffn_up.weight", {s.n_ff, s.n_embd}, in_scale, 0.0f);
    add(p + "ffn_down.weight", {s.n_embd, s.n_ff}, 1.0f / std::sqrt(static_cast<float>(s.n_ff)), 0.0f);
  }
  add("output_norm.weight", {s.n_embd}, 0.1f, 1.0f);
  add("output.weight", {s.n_vocab, s.n_embd}, in_scale, 0.0f);
  if (extra) extra(w);
  w.write(path.string());
}
