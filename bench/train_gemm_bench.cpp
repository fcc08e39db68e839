// Float GEMM micro-benchmark on the matrix products of training (issue 14) and of float prompts:
// y = x·Wᵀ (ops::matmul, the forward) and dx += dy·W (ops::matmul_backward_input) through frozen
// f32 weights, at the shapes of the 100m and TinyLlama LoRA benches (bench/lora_bench.sh), in
// GFLOP/s (2 per multiply-add), best of 7. The ISA is the process's (OWL_CPU=avx2|avx512|ref).
// Run: [OWL_CPU=avx2] build/bench/bench_train_gemm [threads]
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/kernels.h"
#include "ops/matmul.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class F>
double best_of_7(F&& f) {
  double best = 1e9;
  for (int rep = 0; rep < 7; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

struct Shape {
  const char* name;
  int64_t rows, cols, tokens;
};

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : 2;
  owl::ThreadPool pool(threads);
  const auto& kt = owl::kernels::active();
  const Shape shapes[] = {
      {"100m attn 768x768", 768, 768, 512},          {"100m ffn up 2048x768", 2048, 768, 512},
      {"100m ffn down 768x2048", 768, 2048, 512},    {"tinyllama q 2048x2048", 2048, 2048, 128},
      {"tinyllama kv 256x2048", 256, 2048, 128},     {"tinyllama up 5632x2048", 5632, 2048, 128},
      {"tinyllama down 2048x5632", 2048, 5632, 128},
  };
  std::printf("float GEMM, f32 weights, %s kernels, %d thread(s): GFLOP/s\n",
              std::string(owl::kernels::isa_name(kt.isa)).c_str(), threads);
  std::printf("  %-26s %6s %10s %10s\n", "shape", "tokens", "forward", "dx=dy*W");
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 1);
  for (const Shape& s : shapes) {
    std::vector<float> w(static_cast<size_t>(s.rows * s.cols)), x(static_cast<size_t>(s.tokens * s.cols));
    std::vector<float> y(static_cast<size_t>(s.tokens * s.rows));
    for (auto& v : w) v = nd(rng) * 0.02f;
    for (auto& v : x) v = nd(rng);
    for (auto& v : y) v = nd(rng);
    const owl::Weight weight{"w", owl::DType::f32, w.data(), s.rows, s.cols};
    const double flops = 2.0 * static_cast<double>(s.rows * s.cols * s.tokens);
    std::vector<float> out(y.size()), dx(x.size());
    const double fwd = best_of_7([&] { owl::ops::matmul(out.data(), weight, x.data(), s.tokens, pool, kt); });
    const double bwd = best_of_7([&] { owl::ops::matmul_backward_input(dx.data(), weight, y.data(), s.tokens, pool); });
    std::printf("  %-26s %6lld %10.1f %10.1f\n", s.name, static_cast<long long>(s.tokens), flops / fwd / 1e9,
                flops / bwd / 1e9);
  }
}
