// The memory model of `owl run`, term by term. Every term mirrors an allocation in owl: the KV cache
// (models/kv_cache.cpp: 2 x n_layer x n_ctx x n_head_kv*head_dim floats), the decoder scratch
// (models/decoder.cpp reserve(): batches of up to 64 positions, threads x n_ctx scores, logits), the
// sampler's per-vocabulary buffers, and the weights, mapped MAP_PRIVATE and resident once touched.
#include "tools/check/fit.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "base/system_memory.h"
#include "formats/gguf.h"
#include "models/decoder.h"
#include "models/model.h"
#include "models/model_source.h"
#include "models/packing.h"
#include "models/registry.h"
#include "ops/packed_matrix.h"
#include "tokenizer/tokenizer.h"
#include "tools/tensor_convert.h"

namespace owl::check {

namespace {

constexpr uint64_t kFaultAround = 64 * 1024;   // the kernel maps up to 16 cached file pages per read fault
constexpr uint64_t kThreadBytes = 160 * 1024;  // a worker's touched stack, TLS and malloc arena (measured)
// Sampler work_ (sampling/sampler.h): one float per token. With the default top-k its candidates_
// stay small; with top-k off they add 12 bytes per token (and kept_ 8), a few MB at most.
constexpr uint64_t kSamplerBytesPerToken = 4;
constexpr uint64_t kPage = 4096;
// Code and data pages of the binary that generation touches beyond what a freshly started owl
// command has touched (decoder, kernels, sampler, generation loop): measured as the gap between
// this model and `owl run` on stories260K, where every other term is small. Re-measure when the
// run path grows (last: with the SIMD kernels, the PCRE2/utf8proc tokenizers and the run-time
// license check, 1.3 MiB; before them 0.5 MiB).
constexpr uint64_t kRunCodeBytes = 1344 * 1024;

uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

// A per-layer metadata value: a scalar for every layer, or an array with one entry per layer.
std::vector<int64_t> per_layer(const ModelFile& f, const std::string& key, int64_t n_layer, int64_t fallback) {
  std::vector<int64_t> out(static_cast<size_t>(std::max<int64_t>(n_layer, 0)), fallback);
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return out;
  if (v->type() == gguf::ValueType::array) {
    const auto& items = v->to_array(key).items;
    for (size_t i = 0; i < out.size() && i < items.size(); ++i) out[i] = items[i].to_int(key);
  } else if (v->is_integer()) {
    std::fill(out.begin(), out.end(), v->to_int(key));
  }
  return out;
}

int64_t meta_int(const ModelFile& f, const std::string& key, int64_t fallback) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return fallback;
  if (v->is_integer()) return v->to_int(key);
  if (v->type() == gguf::ValueType::array) {  // per-layer arrays: the largest entry
    int64_t m = fallback;
    for (const auto& item : v->to_array(key).items) m = std::max(m, item.to_int(key));
    return m;
  }
  return fallback;
}

uint64_t kv_row_bytes(DType type, int64_t values) {
  const DTypeTraits& t = dtype_traits(type);
  return static_cast<uint64_t>((values + t.block_size - 1) / t.block_size) * t.block_bytes;
}

uint64_t read_status_kib(const char* path, const char* key) {
  std::ifstream in(path);
  std::string line;
  const std::string k = key;
  while (std::getline(in, line)) {
    if (line.compare(0, k.size(), k) == 0) {
      std::istringstream ss(line.substr(k.size()));
      uint64_t v = 0;
      ss >> v;
      return v * 1024;
    }
  }
  return 0;
}

}  // namespace

Hyper hyper_from_gguf(const ModelFile& f) {
  Hyper h;
  h.arch = f.find_string("general.architecture").value_or("");
  const std::string a = h.arch + ".";
  h.n_layer = meta_int(f, a + "block_count", 0);
  h.n_embd = meta_int(f, a + "embedding_length", 0);
  h.n_ff = meta_int(f, a + "feed_forward_length", 0);
  h.n_ctx_train = meta_int(f, a + "context_length", 0);
  h.n_head = per_layer(f, a + "attention.head_count", h.n_layer, 0);
  const int64_t heads = h.n_head.empty() ? 0 : *std::max_element(h.n_head.begin(), h.n_head.end());
  h.n_head_kv = per_layer(f, a + "attention.head_count_kv", h.n_layer, heads);
  for (size_t i = 0; i < h.n_head_kv.size(); ++i) {
    if (h.n_head_kv[i] == 0 && f.find(a + "attention.head_count_kv") == nullptr) h.n_head_kv[i] = h.n_head[i];
  }
  h.head_dim_k = meta_int(f, a + "attention.key_length", heads > 0 ? h.n_embd / heads : 0);
  h.head_dim_v = meta_int(f, a + "attention.value_length", h.head_dim_k);
  // Sliding windows: a family owl runs says which layers slide (its spec, models/arch/); for other
  // architectures a declared window is taken to cover every layer, as Mistral-style files mean.
  h.sliding_window.assign(static_cast<size_t>(h.n_layer), meta_int(f, a + "attention.sliding_window", 0));
  if (family_by_gguf(h.arch) != nullptr) {
    try {
      const ModelSpec spec = spec_from_gguf(f);
      for (size_t il = 0; il < spec.layers.size() && il < h.sliding_window.size(); ++il) {
        h.sliding_window[il] = spec.layers[il].sliding_window;
      }
    } catch (const Error&) {  // metadata the model cannot load with: keep the plain reading
    }
  }
  if (const gguf::TensorInfo* t = f.find_tensor("token_embd.weight"); t != nullptr && !t->shape.empty()) {
    h.n_vocab = t->shape.front();
  } else if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
             tokens != nullptr && tokens->type() == gguf::ValueType::array) {
    h.n_vocab = static_cast<int64_t>(tokens->to_array("tokenizer.ggml.tokens").items.size());
  } else {
    h.n_vocab = meta_int(f, a + "vocab_size", 0);
  }
  h.tied_output = f.find_tensor("output.weight") == nullptr && f.find_tensor("token_embd.weight") != nullptr;
  return h;
}

uint64_t kv_cache_bytes(const Hyper& h, int64_t n_ctx, DType type, bool sliding) {
  uint64_t total = 0;
  for (int64_t il = 0; il < h.n_layer; ++il) {
    const size_t i = static_cast<size_t>(il);
    const int64_t w = sliding && h.sliding_window[i] > 0 ? std::min(n_ctx, h.sliding_window[i]) : n_ctx;
    total += static_cast<uint64_t>(w) * (kv_row_bytes(type, h.n_head_kv[i] * h.head_dim_k) +
                                         kv_row_bytes(type, h.n_head_kv[i] * h.head_dim_v));
  }
  return total;
}

MemoryInfo system_memory() {
  MemoryInfo m;
  m.total = read_status_kib("/proc/meminfo", "MemTotal:");
  m.available = read_status_kib("/proc/meminfo", "MemAvailable:");
  if (m.total == 0) m.total = total_memory_bytes();
  if (m.available == 0) m.available = m.total;
  return m;
}

uint64_t process_rss_bytes() { return read_status_kib("/proc/self/status", "VmRSS:"); }

LoadCost measure_model_load(const std::string& path) {
  LoadCost c;
  // Anonymous memory only: the file pages loading touches (header, norms) are counted with the weights.
  const uint64_t before = read_status_kib("/proc/self/status", "RssAnon:");
  std::unique_ptr<ModelFile> file = open_model_file(path);
  const ModelFile* view = file.get();
  std::unique_ptr<Model> model;
  try {
    model = Model::from_file(std::move(file));
    view = &model->file();
    c.runnable = true;
  } catch (const Error& e) {
    c.why_not = e.what();
    file = open_model_file(path);  // from_file consumed the first one
    view = file.get();
  }
  std::unique_ptr<Tokenizer> tokenizer;
  try {
    tokenizer = Tokenizer::from_gguf(*view);
  } catch (const Error& e) {
    if (c.runnable) {
      c.runnable = false;
      c.why_not = e.what();
    }
  }
  const uint64_t after = read_status_kib("/proc/self/status", "RssAnon:");
  c.bytes = after > before ? after - before : 0;
  return c;
}

// Matrices packed at load (models/packing.h): their file pages are given back and the packed copies
// live on the heap. token_embd is packed only as a tied output head, and keeps its pages.
struct PackedSplit {
  uint64_t dropped_file_bytes = 0;
  uint64_t heap_bytes = 0;
};

PackedSplit packed_split(const ModelFile& f, bool tied_output) {
  PackedSplit out;
  if (!packing_enabled()) return out;
  static constexpr std::string_view kLayerMatrices[] = {".attn_q.weight", ".attn_k.weight", ".attn_v.weight",
                                                        ".attn_qkv.weight", ".attn_output.weight",
                                                        ".ffn_gate.weight", ".ffn_up.weight", ".ffn_down.weight"};
  for (const auto& t : f.tensors()) {
    const std::string_view name = t.name;
    bool matrix = name == "output.weight" || (tied_output && name == "token_embd.weight");
    for (std::string_view suffix : kLayerMatrices) {
      matrix = matrix || (name.starts_with("blk.") && name.ends_with(suffix));
    }
    if (!matrix || t.shape.size() != 2) continue;
    const Weight w{t.name, t.type, nullptr, t.rows(), t.cols()};
    if (!ops::packs(w, kernels::active())) continue;
    out.heap_bytes += ops::packed_bytes(w);
    // Only whole pages are given back: on average a page per tensor stays.
    if (name != "token_embd.weight" && t.n_bytes > kPage) out.dropped_file_bytes += t.n_bytes - kPage;
  }
  return out;
}

FitReport predict_fit(const ModelFile& f, const FitParams& p, const FitEnvironment& env) {
  FitReport r;
  r.hyper = hyper_from_gguf(f);
  const Hyper& h = r.hyper;
  if (!h.complete()) {
    fail("{}: no model hyperparameters ({}.block_count, embedding_length, attention.head_count): "
         "a vocabulary-only file or an unknown layout, so memory cannot be predicted",
         f.path(), h.arch.empty() ? "<arch>" : h.arch);
  }
  r.n_ctx = p.n_ctx > 0 ? p.n_ctx : std::min<int64_t>(h.n_ctx_train > 0 ? h.n_ctx_train : 4096, 4096);
  r.parallel = std::max<int64_t>(p.parallel, 1);
  const unsigned hw = std::thread::hardware_concurrency();
  r.threads = p.threads > 0 ? p.threads : (hw == 0 ? 1 : static_cast<int>(hw));
  r.kv_type = p.kv_type;
  r.memory = env.memory;

  const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
  for (const auto& t : f.tensors()) r.weights_bytes += t.n_bytes;
  const PackedSplit packed = packed_split(f, h.tied_output);
  const uint64_t data_section = f.file_size() > f.header_bytes() ? f.file_size() - f.header_bytes() : 0;
  // The header pages are touched by parsing (already in the baseline when the model is loaded).
  const uint64_t header = env.model_loaded ? 0 : round_up(std::min<uint64_t>(f.header_bytes(), f.file_size()), kPage);

  // Everything the forward pass reads is resident once touched. An untied token_embd is read one
  // row per position: at most min(n_vocab, positions) rows, each faulting in its 64 KiB neighbourhood.
  auto resident_weights = [&](int64_t n_ctx, double scale) {
    uint64_t untouched = 0;
    if (embd != nullptr && !h.tied_output && embd->shape.size() == 2) {
      const uint64_t rows = static_cast<uint64_t>(std::min<int64_t>(embd->shape[0], n_ctx * r.parallel));
      const uint64_t row = embd->n_bytes / static_cast<uint64_t>(std::max<int64_t>(embd->shape[0], 1));
      const uint64_t touched = std::min<uint64_t>(embd->n_bytes, rows * (row + kFaultAround));
      untouched = embd->n_bytes - touched;
    }
    const uint64_t gone = std::min(untouched + packed.dropped_file_bytes, data_section);
    return header + static_cast<uint64_t>(static_cast<double>(data_section - gone) * scale);
  };
  // Model heap: measured when the caller loaded the model; otherwise norms + rope factors in float32
  // and the packed matrices.
  uint64_t heap = env.model_load;
  if (!env.model_loaded && env.model_load == 0) {
    heap = static_cast<uint64_t>(h.n_layer * 2 + 1) * h.n_embd * 4 + packed.heap_bytes;
  }

  int64_t q_dim = 0;
  int64_t kv_dim = 0;
  for (int64_t il = 0; il < h.n_layer; ++il) {
    q_dim = std::max(q_dim, h.n_head[static_cast<size_t>(il)] * h.head_dim_k);
    kv_dim = std::max(kv_dim, h.n_head_kv[static_cast<size_t>(il)] * h.head_dim_k);
  }
  auto compute = [&](int64_t n_ctx) {
    const int64_t b = std::min<int64_t>(Decoder::kMaxBatch, n_ctx);
    // Activations, attention scores (up to 4 queries per thread), the logits row.
    const int64_t floats = b * (2 * h.n_embd + 2 * q_dim + 2 * kv_dim + std::max(h.n_ff, h.n_embd) + h.n_ff) +
                           static_cast<int64_t>(r.threads) * 4 * n_ctx + h.n_vocab;
    // The matmul's int8 copy of its widest input: a byte and 3/4 of a byte of scales per value.
    const int64_t quantized = b * std::max(h.n_ff, h.n_embd) * 7 / 4;
    return static_cast<uint64_t>(floats) * 4 + static_cast<uint64_t>(quantized) +
           static_cast<uint64_t>(h.n_vocab) * kSamplerBytesPerToken;
  };
  const uint64_t overhead = env.baseline + kRunCodeBytes +
                            static_cast<uint64_t>(r.threads - 1) * kThreadBytes;
  auto peak = [&](int64_t n_ctx, double weight_scale) {
    return overhead + resident_weights(n_ctx, weight_scale) + heap + kv_cache_bytes(h, n_ctx, p.kv_type, false) * r.parallel +
           compute(n_ctx);
  };

  r.kv_cache_bytes = kv_cache_bytes(h, r.n_ctx, p.kv_type, false) * r.parallel;
  r.kv_cache_sliding_bytes = kv_cache_bytes(h, r.n_ctx, p.kv_type, true) * r.parallel;
  for (int64_t il = 0; il < h.n_layer; ++il) {
    Hyper one = h;
    one.n_layer = 1;
    one.n_head_kv = {h.n_head_kv[static_cast<size_t>(il)]};
    one.sliding_window = {h.sliding_window[static_cast<size_t>(il)]};
    r.kv_per_layer.push_back(kv_cache_bytes(one, r.n_ctx, p.kv_type, true) * r.parallel);
  }
  r.breakdown = {overhead, resident_weights(r.n_ctx, 1.0), heap, r.kv_cache_bytes, compute(r.n_ctx)};
  r.predicted_peak = r.breakdown.total();
  r.fits = r.predicted_peak <= r.memory.available;
  r.headroom = static_cast<int64_t>(r.memory.available) - static_cast<int64_t>(r.predicted_peak);

  // The largest context whose memory fits (the training context is another matter, told apart by the
  // callers): peak grows with n_ctx, so bisect.
  const int64_t cap = int64_t{1} << 30;
  if (peak(1, 1.0) <= r.memory.available) {
    int64_t lo = 1;
    int64_t hi = cap;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo + 1) / 2;
      if (peak(mid, 1.0) <= r.memory.available) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    r.max_context = lo;
  }

  // Other weight types: matrices converted as `owl quantize` would (tools/tensor_convert.h).
  for (DType t : {DType::f32, DType::f16, DType::bf16, DType::q8_0, DType::q6_k, DType::q5_k, DType::q5_0, DType::q4_k,
                  DType::q4_0, DType::q3_k, DType::q2_k}) {
    TypeFit tf{t};
    for (const auto& ti : f.tensors()) {
      const DType st = storage_type(t, ti.shape);
      tf.weights_bytes += row_bytes(st, ti.cols()) * static_cast<uint64_t>(ti.rows());
    }
    const double scale = r.weights_bytes > 0 ? static_cast<double>(tf.weights_bytes) / static_cast<double>(r.weights_bytes) : 1.0;
    tf.predicted_peak = peak(r.n_ctx, scale);
    tf.fits = tf.predicted_peak <= r.memory.available;
    r.types.push_back(tf);
  }

  if (p.kv_type == DType::q8_0 && h.head_dim_k % 32 != 0) {
    r.notes.push_back(fmt::format("a q8_0 KV cache needs a head size that is a multiple of 32 (this model's is {}); "
                                  "owl refuses it, use f16", h.head_dim_k));
  }
  if (r.kv_cache_sliding_bytes < r.kv_cache_bytes) {
    r.notes.push_back(fmt::format("sliding-window layers need only {} bytes of KV cache in a windowed cache; owl keeps "
                                  "the full context in every layer", r.kv_cache_sliding_bytes));
  }
  if (h.n_ctx_train > 0 && r.n_ctx > h.n_ctx_train) {
    r.notes.push_back(fmt::format("context {} is beyond the training context {}", r.n_ctx, h.n_ctx_train));
  }
  r.notes.emplace_back("no GPU backend: all memory is host memory");
  return r;
}

}  // namespace owl::check
