// The thread pool: every index visited once, fixed chunks, dynamic chunks that go to whichever
// thread is free, exceptions propagated, the pool reusable after an exception and across many jobs.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "base/thread_pool.h"

namespace {

TEST(ThreadPool, VisitsEveryIndexOnceForManySizes) {
  owl::ThreadPool pool(3);
  for (int64_t n : {1, 2, 3, 7, 64, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << i;
  }
}

TEST(ThreadPool, MinimumWorkPerThreadLimitsTheSplit) {
  owl::ThreadPool pool(4);
  std::atomic<int> chunks{0};
  pool.parallel_for(10, [&](int64_t, int64_t, int) { chunks++; }, 5);
  EXPECT_EQ(chunks.load(), 2);
  chunks = 0;
  pool.parallel_for(10, [&](int64_t, int64_t, int) { chunks++; }, 100);
  EXPECT_EQ(chunks.load(), 1);
}

TEST(ThreadPool, DynamicChunksCoverEveryIndexOnceAndStayWithinTheGrain) {
  owl::ThreadPool pool(3);
  for (int64_t n : {1, 5, 64, 1001}) {
    for (int64_t grain : {1, 4, 8, 2000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> bad_chunks{0};
      std::atomic<int> bad_thread{0};
      pool.parallel_for_dynamic(n, grain, [&](int64_t b, int64_t e, int thread) {
        if (e <= b || e - b > grain || b % grain != 0) bad_chunks++;
        if (thread < 0 || thread >= pool.size()) bad_thread++;
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (int64_t i = 0; i < n; ++i)
        EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << grain << " " << i;
      EXPECT_EQ(bad_chunks.load(), 0) << n << " " << grain;
      EXPECT_EQ(bad_thread.load(), 0) << n << " " << grain;
    }
  }
}

TEST(ThreadPool, DynamicChunksGoToTheThreadThatIsFree) {
  // One thread is held up on its first chunk; the others must take all the rest meanwhile.
  owl::ThreadPool pool(2);
  std::atomic<bool> release{false};
  std::atomic<int> chunks_while_held{0};
  std::atomic<int> held_thread{-1};
  pool.parallel_for_dynamic(100, 1, [&](int64_t b, int64_t, int thread) {
    if (b == 0) {
      held_thread = thread;
      while (!release.load()) std::this_thread::yield();
      return;
    }
    if (b == 99) release = true;
    if (!release.load() || b == 99) chunks_while_held++;
  });
  EXPECT_EQ(chunks_while_held.load(), 99);
}

TEST(ThreadPool, ExceptionsReachTheCallerAndThePoolKeepsWorking) {
  owl::ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(100, [](int64_t b, int64_t, int) {
                 if (b > 0) throw std::runtime_error("worker failed");
               }),
               std::runtime_error);
  std::atomic<int64_t> sum{0};
  for (int round = 0; round < 1000; ++round) {
    pool.parallel_for(10, [&](int64_t b, int64_t e, int) { sum += e - b; });
  }
  EXPECT_EQ(sum.load(), 10000);
}

}  // namespace
