// owl quantize: convert every matrix of a model to one weight type, with a progress line.
#include <cstdio>

#include "base/error.h"
#include "commands.h"
#include "common.h"
#include "tools/quantize.h"

namespace owl::app {

namespace {
struct QuantizeArgs {
  std::string input;
  std::string output;
  std::string type;
  int threads = 0;
};
}  // namespace

void add_quantize(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Convert a model's matrices to another weight type");
  cmd->add_option("input", a->input, "Input model: GGUF file, Hugging Face or MLX directory")->required();
  cmd->add_option("output", a->output, "Output GGUF file")->required();
  cmd->add_option("--type", a->type,
                  "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K or q8_K "
                  "(q8_K files run in owl only: llama.cpp has no q8_K weight kernels)")
      ->required();
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([a] {
    const auto type = dtype_from_name(a->type);
    if (!type) fail("--type: unknown type '{}'", a->type);
    QuantizeOptions o;
    o.type = *type;
    o.n_threads = a->threads > 0 ? a->threads : default_threads();
    auto progress_shown = std::make_shared<bool>(false);
    o.progress = [progress_shown](size_t done, size_t total, std::string_view name, DType t, uint64_t, uint64_t) {
      std::fprintf(stderr, "\r[%zu/%zu] %-40.*s -> %-5.*s", done, total, static_cast<int>(name.size()), name.data(),
                   static_cast<int>(dtype_name(t).size()), dtype_name(t).data());
      std::fflush(stderr);
      *progress_shown = true;
    };
    QuantizeReport r;
    try {
      r = quantize_model(a->input, a->output, o);
    } catch (...) {
      if (*progress_shown) std::fputc('\n', stderr);  // end the progress line before the error message
      throw;
    }
    std::fprintf(stderr, "\nwrote %s: %zu tensors, %.2f MiB -> %.2f MiB", a->output.c_str(), r.n_tensors,
                 r.bytes_in / 1048576.0, r.bytes_out / 1048576.0);
    if (r.n_fallback > 0) std::fprintf(stderr, " (%zu matrices kept as f16: rows not a multiple of the block)", r.n_fallback);
    std::fputc('\n', stderr);
  });
}

}  // namespace owl::app
