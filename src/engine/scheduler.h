// Continuous batching: N slots (each a KV cache and the tokens it holds) share one loaded model.
// Every step runs ONE Decoder::eval over the next token of every decoding slot plus a bounded chunk
// of waiting prompt tokens, so running streams keep flowing while a long prompt is prefilled.
// Requests join and leave between steps; a new request takes the free slot whose cached tokens
// share the longest prefix with its prompt (a shared system prompt is not recomputed).
// The model runs on the scheduler's own thread; submit(), embed() and metrics() are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "engine/job.h"
#include "engine/loaded_model.h"
#include "models/decoder.h"
#include "sampling/sampler.h"

namespace owl {

struct CompletionRequest {
  std::vector<int32_t> prompt;  // not empty, at most the slot context
  SamplingParams sampling;
  int64_t n_predict = -1;       // < 0: until an end token or the context is full
  std::vector<std::string> stop;  // stop strings (not included in the text)
  bool stop_at_end = true;        // end at the model's end-of-generation tokens
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logits before sampling
  int32_t top_logprobs = -1;      // < 0: no log-probabilities; k >= 0: the chosen token's and the k best
  // The text continues the prompt's (a completion, as owl run prints it) rather than starting
  // afresh (a chat reply): decoding then keeps the first token's leading space.
  bool continues_prompt = false;
  // One scale per LoRA adapter the model was loaded with (replacing --lora-scale for this request;
  // 0 turns an adapter off); empty: the load-time scales.
  std::vector<float> lora_scales;
};

struct SchedulerOptions {
  int64_t n_parallel = 4;               // slots
  int64_t n_ctx = 2048;                 // context of each slot
  DType kv_type = DType::f16;           // the slots' KV cache type (f16 as llama.cpp, q8_0 or f32)
  int64_t max_queue = 64;               // requests waiting for a slot before submit() refuses
  int64_t prompt_tokens_per_step = 128;  // prompt tokens one step evaluates at most
  int threads = 0;                      // of the model's pool; 0: one per core
};

struct SchedulerMetrics {
  int64_t requests = 0;  // finished
  int64_t prompt_tokens = 0;  // evaluated (reused prefixes not counted)
  double prompt_seconds = 0;
  int64_t generated_tokens = 0;
  double generate_seconds = 0;
  int64_t running = 0;
  int64_t queued = 0;
  int64_t kv_cells_used = 0;
  int64_t kv_cells_total = 0;
  uint64_t kv_cache_bytes = 0;  // every slot's cache, allocated up front
};

// submit() refuses with this when max_queue requests already wait (HTTP 503).
class QueueFull : public Error {
 public:
  using Error::Error;
};

class Scheduler {
 public:
  // Allocates every slot's KV cache up front; owl::Error when they cannot be allocated.
  Scheduler(const LoadedModel& model, SchedulerOptions options);
  ~Scheduler();  // cancels what runs and waits for the thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request; its events arrive on the returned job. Throws owl::Error for a request that
  // can never run (empty prompt, longer than the context, a token id out of range, bad sampling
  // parameters) and QueueFull when the queue is full.
  // signal, when given, is notified at every event of the job (to wait on several jobs at once).
  std::shared_ptr<Job> submit(CompletionRequest request, std::shared_ptr<JobSignal> signal = nullptr);

  // The pooled, L2-normalised embedding of tokens, computed on the scheduler thread between steps
  // (in a cache of its own). Blocks; throws owl::Error for bad input.
  std::vector<float> embed(const std::vector<int32_t>& tokens);

  // Cancels every running and waiting request and refuses new ones (a server shutting down).
  void cancel_all();

  SchedulerMetrics metrics() const;
  const SchedulerOptions& options() const { return options_; }
  const LoadedModel& model() const { return model_; }
  bool busy() const;  // a request is running or waiting

 private:
  struct Slot;
  struct Waiting {
    std::shared_ptr<Job> job;
    CompletionRequest request;
  };

  void loop();
  void admit(Waiting w);
  void step();
  void sample(Slot& slot, std::span<const float> logits);
  void finish(Slot& slot, FinishReason reason, const std::string& error = "");

  const LoadedModel& model_;
  SchedulerOptions options_;
  ThreadPool pool_;
  Decoder decoder_;
  std::vector<std::unique_ptr<Slot>> slots_;
  uint64_t clock_ = 0;  // admission counter: orders prefills and picks the least recently used slot
  int64_t step_ = 0;    // steps run

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<Waiting> waiting_;
  std::deque<std::function<void()>> tasks_;  // embeddings, run between steps
  int64_t running_ = 0;
  SchedulerMetrics totals_;
  bool stop_ = false;
  std::atomic<bool> cancel_all_{false};
  std::thread thread_;
};

}  // namespace owl
