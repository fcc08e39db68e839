// Kernel micro-benchmark on 7B shapes (11008x4096, the FFN matrices) for one weight type:
//  - decode: 1 token through 8 different matrices in turn (their weights do not fit in L3, so this
//    streams from memory like a real decode), in GB/s of weights read;
//  - prefill: 64 and 512 tokens through one matrix, in GMAC/s;
//  - the decode's roofline: the same product on rows that stay in the caches, and a plain read loop;
// for the scalar reference, the unpacking path and the packed path (weights packed at load,
// ops/packed_matrix.h) of this CPU's kernels (OWL_CPU=avx2 picks the AVX2 ones on an AVX-512 CPU).
// Run: build/bench/bench_matmul [type] [threads].
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "ops/matmul.h"
#include "ops/packed_matrix.h"
#include "tensor/quant.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string type_name = argc > 1 ? argv[1] : "q4_0";
  const int threads = argc > 2 ? std::stoi(argv[2]) : 1;
  const auto type = owl::dtype_from_name(type_name);
  if (!type) {
    std::fprintf(stderr, "unknown type %s\n", type_name.c_str());
    return 1;
  }
  constexpr int kMatrices = 8;
  const int64_t rows = 11008, cols = 4096;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 1);
  const size_t rb = owl::row_bytes(*type, cols);
  // 64 distinct random rows, repeated: quantising 11008 rows per matrix would dominate the run.
  std::vector<uint8_t> seed_rows(rb * 64);
  std::vector<float> f(static_cast<size_t>(cols));
  for (int64_t r = 0; r < 64; ++r) {
    for (auto& v : f) v = nd(rng);
    owl::quantize_row(*type, f.data(), seed_rows.data() + r * rb, cols);
  }
  std::vector<std::vector<uint8_t>> data(kMatrices, std::vector<uint8_t>(rb * rows));
  std::vector<owl::Weight> plain, packed;
  owl::ThreadPool pool(threads);
  const auto& simd = owl::kernels::active();
  for (int m = 0; m < kMatrices; ++m) {
    for (int64_t r = 0; r < rows; ++r) std::copy_n(seed_rows.data() + ((r + m) % 64) * rb, rb, data[m].data() + r * rb);
    plain.push_back(owl::Weight{"w", *type, data[m].data(), rows, cols});
    packed.push_back(plain.back());
    packed.back().packed = owl::ops::pack_matrix(packed.back(), simd, pool);
  }
  const double bytes = static_cast<double>(rb * rows);
  std::vector<float> x(512 * cols), y(512 * rows);
  for (auto& v : x) v = nd(rng);

  struct Path {
    const char* name;
    const owl::kernels::KernelTable& kt;
    const std::vector<owl::Weight>& w;
  };
  std::vector<Path> paths = {{"ref", owl::kernels::table_for(owl::kernels::Isa::ref), plain}, {"unpack", simd, plain}};
  if (packed[0].packed) paths.push_back({"packed", simd, packed});
  std::printf("%s, 11008x4096, %d thread(s), %s kernels\n", type_name.c_str(), threads,
              std::string(owl::kernels::isa_name(simd.isa)).c_str());
  for (const Path& p : paths) {
    // decode: best of 5 sweeps over all matrices
    double best = 1e9;
    for (int rep = 0; rep < (p.kt.isa == owl::kernels::Isa::ref ? 1 : 5); ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int m = 0; m < kMatrices; ++m) owl::ops::matmul(y.data(), p.w[m], x.data(), 1, pool, p.kt);
      best = std::min(best, seconds_since(t0) / kMatrices);
    }
    std::printf("  %-7s decode   1 token : %8.3f ms  %6.2f GB/s\n", p.name, best * 1e3, bytes / best / 1e9);
    if (p.kt.isa == owl::kernels::Isa::ref) continue;
    for (int64_t nt : {64, 512}) {
      double b = 1e9;
      for (int rep = 0; rep < 2; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        owl::ops::matmul(y.data(), p.w[0], x.data(), nt, pool, p.kt);
        b = std::min(b, seconds_since(t0));
      }
      std::printf("  %-7s prefill %3lld tokens: %8.3f ms  %6.1f GMAC/s\n", p.name, static_cast<long long>(nt), b * 1e3,
                  static_cast<double>(rows * cols * nt) / b / 1e9);
    }
  }
  // The decode's two ceilings, for the last path: the same product on 1024 rows of one matrix,
  // which stay in the caches (what the arithmetic allows), and a plain read of the eight matrices,
  // two streams a thread as owl bench's probe reads them (what memory allows).
  const Path& last = paths.back();
  owl::Weight slice = last.w[0];
  slice.rows = 1024;
  double cached = 1e9;
  for (int rep = 0; rep < 200; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    owl::ops::matmul(y.data(), slice, x.data(), 1, pool, last.kt);
    cached = std::min(cached, seconds_since(t0));
  }
  std::printf("  %-7s decode from cache  : %8.3f ms  %6.2f GB/s\n", last.name, cached * 1e3,
              static_cast<double>(rb * 1024) / cached / 1e9);
  const auto len = static_cast<int64_t>(rb * rows / sizeof(float)) / threads / 2;  // floats a stream
  std::vector<float> sink(static_cast<size_t>(threads));
  double read = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int m = 0; m < kMatrices; ++m) {
      pool.parallel_for(threads, [&](int64_t p0, int64_t p1, int) {
        for (int64_t p = p0; p < p1; ++p) {
          const float* a = reinterpret_cast<const float*>(data[static_cast<size_t>(m)].data()) + p * 2 * len;
          sink[static_cast<size_t>(p)] = simd.dot_f32(a, a + len, len);
        }
      });
    }
    read = std::min(read, seconds_since(t0) / kMatrices);
  }
  std::printf("  read loop (2 streams a thread): %6.2f GB/s%s\n",
              static_cast<double>(len * 2 * threads * 4) / read / 1e9, sink[0] == 12345.0f ? " " : "");
}
