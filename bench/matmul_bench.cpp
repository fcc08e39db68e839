// Kernel micro-benchmark: ops::matmul on 7B shapes (4096x4096 and 11008x4096) for a weight type,
// 1 token (decode, GB/s of weights) and 64 tokens (prefill batch, GMAC/s), per ISA table.
// Run: build-kern/bench/bench_matmul [type] [threads] (target bench_matmul).
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "ops/matmul.h"
#include "tensor/quant.h"

int main(int argc, char** argv) {
  const std::string type_name = argc > 1 ? argv[1] : "q4_0";
  const int threads = argc > 2 ? std::stoi(argv[2]) : 1;
  const auto type = owl::dtype_from_name(type_name);
  if (!type) return 1;
  const int64_t rows = 11008, cols = 4096;
  std::vector<float> f(static_cast<size_t>(cols));
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 1);
  const size_t rb = owl::row_bytes(*type, cols);
  std::vector<uint8_t> data(rb * rows);
  for (int64_t r = 0; r < 64; ++r) {
    for (auto& v : f) v = nd(rng);
    owl::quantize_row(*type, f.data(), data.data() + r * rb, cols);
  }
  for (int64_t r = 64; r < rows; ++r) std::copy_n(data.data() + (r % 64) * rb, rb, data.data() + r * rb);
  owl::Weight w{"w", *type, data.data(), rows, cols};
  std::vector<float> x(64 * cols), y(64 * rows);
  for (auto& v : x) v = nd(rng);
  owl::ThreadPool pool(threads);
  for (auto isa : {owl::kernels::Isa::ref, owl::kernels::Isa::avx512}) {
    const auto& kt = owl::kernels::table_for(isa);
    for (int64_t nt : {1, 64}) {
      if (isa == owl::kernels::Isa::ref && nt == 64 && rows > 4096) continue;
      owl::ops::matmul(y.data(), w, x.data(), nt, pool, kt);
      double best = 1e9;
      for (int rep = 0; rep < (nt == 1 ? 20 : 3); ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        owl::ops::matmul(y.data(), w, x.data(), nt, pool, kt);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("%-6s %-5s tokens %2lld: %8.3f ms  %7.2f GB/s weights  %8.1f GMAC/s\n",
                  std::string(owl::kernels::isa_name(isa)).c_str(), type_name.c_str(), static_cast<long long>(nt),
                  best * 1e3, data.size() / best / 1e9, rows * cols * nt / best / 1e9);
    }
  }
}
