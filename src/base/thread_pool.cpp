// Thread pool: workers spin briefly, then sleep on a condition variable, between jobs.
#include "base/thread_pool.h"

#include <algorithm>
#include <chrono>

#include "base/error.h"

namespace owl {

namespace {
constexpr auto kSpin = std::chrono::microseconds(200);

int resolve_threads(int n) {
  if (n > 0) return n;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

void chunk_of(int64_t n, int parts, int index, int64_t& begin, int64_t& end) {
  if (index >= parts) {
    begin = end = n;
    return;
  }
  const int64_t base = n / parts;
  const int64_t extra = n % parts;
  begin = index * base + std::min<int64_t>(index, extra);
  end = begin + base + (index < extra ? 1 : 0);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until done() or kSpin has passed (not at all when spin is false); returns done().
template <typename Done>
bool spin_until(Done done, bool spin) {
  if (!spin) return done();
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return done();
  }
}
}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(resolve_threads(n_threads)),
      // With more threads than cores a spinning thread takes the core from one with work.
      spin_(n_threads_ <= static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {
  try {
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
  } catch (const std::exception& e) {
    stop_workers();  // the destructor does not run for a half-built pool
    fail("cannot start {} threads: {}", n_threads_, e.what());
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::run_chunk(int index, std::exception_ptr& err) {
  try {
    int64_t b, e;
    chunk_of(job_n_, job_parts_, index, b, e);
    if (b < e) (*job_)(b, e, index);
  } catch (...) {
    err = std::current_exception();
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                              int64_t min_per_thread) {
  if (n <= 0) return;
  std::lock_guard<std::mutex> caller(call_mutex_);  // one job at a time; see the header
  const int parts = static_cast<int>(std::clamp<int64_t>(n / std::max<int64_t>(min_per_thread, 1), 1, n_threads_));
  if (parts == 1) {
    fn(0, n, 0);
    return;
  }
  // Workers read the job fields only after seeing the new generation (acquire/release).
  job_ = &fn;
  job_n_ = n;
  job_parts_ = parts;
  error_ = nullptr;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_cv_.notify_all();
  std::exception_ptr mine;
  run_chunk(0, mine);
  const auto all_done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(all_done, spin_)) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, all_done);
  }
  job_ = nullptr;
  if (mine) std::rethrow_exception(mine);
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallel_for_dynamic(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn,
                                      int64_t min_per_thread) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t threads = std::clamp<int64_t>(n / std::max<int64_t>(min_per_thread, 1), 1, n_threads_);
  alignas(64) std::atomic<int64_t> next{0};
  parallel_for(
      threads,
      [&](int64_t, int64_t, int thread) {
        for (int64_t b = next.fetch_add(grain, std::memory_order_relaxed); b < n;
             b = next.fetch_add(grain, std::memory_order_relaxed)) {
          fn(b, std::min(b + grain, n), thread);
        }
      },
      1);
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    const auto started = [&] {
      return stop_.load(std::memory_order_relaxed) || generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(started, spin_)) {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, started);
    }
    if (stop_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    std::exception_ptr err;
    run_chunk(index, err);
    if (err) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = err;
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);  // the caller may be between its check and its wait
      done_cv_.notify_all();
    }
  }
}

}  // namespace owl
