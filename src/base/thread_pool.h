// A persistent pool of worker threads: no thread is created per token. parallel_for splits
// [0, n) into one contiguous chunk per thread, so a given n and thread count always give the
// same split; kernels that reduce within a chunk stay deterministic.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace owl {

class ThreadPool {
 public:
  // n_threads <= 0: one per hardware thread. owl::Error when the threads cannot be started.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n); the calling thread
  // takes chunk 0. Returns when every chunk is done; the first exception is rethrown.
  // Calls from several threads are serialised; a call from inside fn deadlocks (not reentrant).
  // min_per_thread: fewer threads are used when there is not that much work for each (waking
  // a thread costs more than a few microseconds of work).
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t min_per_thread = 1);

 private:
  void worker(int index);
  void stop_workers();

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // held for a whole parallel_for
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int job_parts_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace owl
