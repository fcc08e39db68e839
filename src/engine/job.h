// One request's link between the scheduler thread, which produces its tokens, and whoever consumes
// them (an HTTP handler, the public API): a queue of events plus a cancel flag. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace owl {

enum class FinishReason { stop, length, cancelled, error };

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
};

struct CompletionStats {
  int64_t n_prompt = 0;     // prompt tokens
  int64_t n_reused = 0;     // of which were already in the slot's cache (prefix cache)
  int64_t n_generated = 0;  // tokens sampled and kept (an end token is not counted)
  double prompt_seconds = 0;    // from a slot to the first sampled token
  double generate_seconds = 0;  // from the first sampled token to the end
  std::vector<int32_t> generated;  // the kept tokens
};

struct JobEvent {
  enum class Kind { token, done } kind = Kind::token;
  // token: the text this token releases (may be empty while a stop string is possible) and, when
  // the request asked for them, its log-probability and the most likely alternatives.
  int32_t token = -1;
  std::string text;
  int64_t step = 0;  // the scheduler step that produced it (steps are numbered from 1)
  float logprob = 0;
  std::vector<TokenLogprob> top;
  // done: why it ended, the error text for FinishReason::error, and the request's figures.
  FinishReason finish = FinishReason::stop;
  std::string error;
  CompletionStats stats;
};

// Wakes whoever waits on several jobs at once (the choices of one request): every push bumps it.
struct JobSignal {
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t count = 0;  // pushes so far
  void notify();
};

class Job {
 public:
  explicit Job(std::shared_ptr<JobSignal> signal = nullptr) : signal_(std::move(signal)) {}
  // Waits up to timeout for the next event; false when none came.
  bool next(JobEvent& out, std::chrono::milliseconds timeout);
  // Asks the scheduler to stop this request; it frees the slot at its next step and sends done.
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  void push(JobEvent event);  // scheduler side

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<JobEvent> events_;
  std::atomic<bool> cancelled_{false};
  std::shared_ptr<JobSignal> signal_;
};

}  // namespace owl
