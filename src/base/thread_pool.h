// A persistent pool of worker threads: no thread is created per token. parallel_for splits
// [0, n) into one contiguous chunk per thread, so a given n and thread count always give the
// same split; kernels that reduce within a chunk stay deterministic.
//
// Latency: decoding one token calls parallel_for a few hundred times, so waking a sleeping thread
// (tens of microseconds) would cost more than the work. Workers and the caller therefore spin for
// a short while (kSpin) on an atomic before sleeping on a condition variable, unless there are more
// threads than cores.
#pragma once

#include <algorithm>
#include <atomic>
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

  // The same, but the threads claim chunks of `grain` items in turn until none is left, so a thread
  // slowed by its neighbours (a shared machine, memory contention) does less of the work and both
  // finish together. Which thread runs which chunk varies: fn's results must not depend on it.
  void parallel_for_dynamic(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn,
                            int64_t min_per_thread = 1);

 private:
  void worker(int index);
  void stop_workers();
  void run_chunk(int index, std::exception_ptr& err);

  int n_threads_;
  bool spin_;  // only when every thread has a core of its own
  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // held for a whole parallel_for
  std::mutex mutex_;       // guards the sleeping side of the handshakes below
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int job_parts_ = 0;
  std::atomic<uint64_t> generation_{0};  // bumped (under mutex_) to start a job
  alignas(64) std::atomic<int> pending_{0};  // workers still running the current job
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;  // under mutex_
};

// parallel_for's min_per_thread for items of work_per_item units of work each (multiply-adds,
// values), so that a thread takes at least min_work units: waking one costs more than a few
// microseconds of work.
inline int64_t min_items(int64_t work_per_item, int64_t min_work = int64_t{1} << 16) {
  return std::max<int64_t>(1, min_work / std::max<int64_t>(1, work_per_item));
}

}  // namespace owl
