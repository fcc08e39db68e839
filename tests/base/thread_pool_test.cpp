// The thread pool: every index visited once, fixed chunks, exceptions propagated, the pool
// reusable after an exception and across many jobs.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
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
