// Will the model fit? The peak resident memory `owl run` reaches for a context size: the process
// baseline, the mapped weights it touches, the model's heap (metadata, tokenizer, norms), the KV cache
// (models/kv_cache.*) and the decoder scratch (models/decoder.*), against /proc/meminfo.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace owl {
class ModelFile;

namespace check {

// Hyperparameters read from any architecture's GGUF metadata ({arch}.block_count, ...), without
// needing owl to support the architecture. Per-layer values where files give arrays.
struct Hyper {
  std::string arch;
  int64_t n_layer = 0;
  int64_t n_embd = 0;
  int64_t n_ff = 0;        // the largest layer's
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t head_dim_k = 0;  // key_length, or n_embd / n_head
  int64_t head_dim_v = 0;  // value_length, or head_dim_k
  std::vector<int64_t> n_head;          // per layer
  std::vector<int64_t> n_head_kv;       // per layer (grouped-query attention)
  std::vector<int64_t> sliding_window;  // per layer; 0: full attention
  bool tied_output = false;             // no output.weight: the head reuses token_embd
  bool complete() const { return n_layer > 0 && n_embd > 0 && !n_head.empty() && head_dim_k > 0; }
};
Hyper hyper_from_gguf(const ModelFile& file);

struct MemoryInfo {
  uint64_t total = 0;      // MemTotal
  uint64_t available = 0;  // MemAvailable
};
MemoryInfo system_memory();   // /proc/meminfo (sysconf when it cannot be read)
uint64_t process_rss_bytes();  // VmRSS of this process (/proc/self/status), 0 when unknown

// What loading the model costs this process: the anonymous RSS (heap) added by opening the file,
// binding its weights and building its tokenizer, measured by doing it. Falls back to the metadata and tokenizer parts
// when owl cannot run the architecture.
struct LoadCost {
  uint64_t bytes = 0;
  bool runnable = false;
  std::string why_not;  // the loader's error when not runnable
};
LoadCost measure_model_load(const std::string& path);

struct FitParams {
  int64_t n_ctx = 0;      // 0: what owl run uses (the training context, at most 4096)
  int64_t parallel = 1;   // sequences, each with its own KV cache
  int threads = 0;        // 0: one per hardware thread (owl run's default)
  DType kv_type = DType::f16;  // the KV cache's type (owl's --kv-type: f16, q8_0 or f32)
};

struct FitEnvironment {
  uint64_t baseline = 0;    // RSS of the process before the model is loaded
  uint64_t model_load = 0;  // LoadCost::bytes; 0 when baseline already includes the loaded model
  bool model_loaded = false;  // baseline includes the model (check_before_run): header pages not counted again
  MemoryInfo memory;
};

struct FitBreakdown {
  uint64_t runtime_overhead = 0;  // process baseline and worker-thread stacks
  uint64_t weights_resident = 0;  // mapped file pages the forward pass touches
  uint64_t model_heap = 0;        // metadata, tokenizer, float32 norms
  uint64_t kv_cache = 0;          // what owl allocates (kv_type, every layer, full context)
  uint64_t compute = 0;           // decoder scratch, logits, sampler
  uint64_t total() const { return runtime_overhead + weights_resident + model_heap + kv_cache + compute; }
};

struct TypeFit {
  DType type;
  uint64_t weights_bytes = 0;
  uint64_t predicted_peak = 0;
  bool fits = false;
};

struct FitReport {
  Hyper hyper;
  int64_t n_ctx = 0;
  int64_t parallel = 1;
  int threads = 1;
  DType kv_type = DType::f32;
  uint64_t weights_bytes = 0;                 // sum of tensor sizes
  uint64_t kv_cache_bytes = 0;                // owl's cache (kv_type) for n_ctx x parallel
  uint64_t kv_cache_sliding_bytes = 0;        // the same, layers with a window keeping only the window
  std::vector<uint64_t> kv_per_layer;         // kv_type bytes per layer (sliding windows honoured)
  FitBreakdown breakdown;
  uint64_t predicted_peak = 0;
  MemoryInfo memory;
  bool fits = false;
  int64_t headroom = 0;     // available - predicted
  int64_t max_context = 0;  // the largest context whose memory fits (may exceed the training context), 0: none
  std::vector<TypeFit> types;
  std::vector<std::string> notes;
};

// owl::Error when the file lacks the hyperparameters a KV cache needs (vocab-only files).
FitReport predict_fit(const ModelFile& file, const FitParams& params, const FitEnvironment& env);

// Bytes of the KV cache of one sequence in `type` (f32, f16, q8_0) with per-layer windows honoured
// when `sliding` is true, as a runtime with windowed caches stores it.
uint64_t kv_cache_bytes(const Hyper& h, int64_t n_ctx, DType type, bool sliding);

}  // namespace check
}  // namespace owl
