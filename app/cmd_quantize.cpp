// owl quantize: a model's matrices to one of llama-quantize's presets (Q4_K_M, Q8_0, ...: per-tensor
// types, tools/quant_mix.h) or, with --pure, to one type, with a progress line. Ctrl-C removes the
// half-written output.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

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
  std::string output_type;
  std::string token_embd_type;
  bool pure = false;
  bool allow_requantize = false;
  std::string imatrix;
  std::vector<std::string> include_weights, exclude_weights;
  int threads = 0;
};

// The temporary file of the output (base/atomic_write.h: "<path>.tmp"), removed by a signal.
char g_partial[4096] = {};

extern "C" void remove_partial_and_exit(int sig) {
  if (g_partial[0] != '\0') ::unlink(g_partial);
  ::_exit(128 + sig);
}

// llama-quantize's --include-weights/--exclude-weights: entries whose name contains one of the strings.
void filter_entries(Imatrix& m, const QuantizeArgs& a) {
  const auto named = [](const std::string& name, const std::vector<std::string>& parts) {
    return std::any_of(parts.begin(), parts.end(), [&](const std::string& p) { return name.find(p) != std::string::npos; });
  };
  std::erase_if(m.entries, [&](const auto& entry) {
    const std::string& name = entry.first;
    return (!a.include_weights.empty() && !named(name, a.include_weights)) || named(name, a.exclude_weights);
  });
}

DType plain_type(const std::string& option, const std::string& name) {
  const auto t = dtype_from_name(name);
  if (!t) fail("{}: unknown type '{}'", option, name);
  return *t;
}

void quantize(const QuantizeArgs& a) {
  const auto preset = quant_preset(a.type);
  if (!preset) fail("--type: unknown type '{}' (one of {})", a.type, quant_preset_names());
  QuantizeOptions o;
  TensorTypeOptions t{*preset};
  t.pure = a.pure;
  if (!a.output_type.empty()) t.output_type = plain_type("--output-tensor-type", a.output_type);
  if (!a.token_embd_type.empty()) t.token_embd_type = plain_type("--token-embedding-type", a.token_embd_type);
  o.preset = t;
  o.allow_requantize = a.allow_requantize;
  Imatrix imatrix;
  if (!a.imatrix.empty()) {
    imatrix = read_imatrix(a.imatrix);
    filter_entries(imatrix, a);
    o.imatrix = &imatrix;
    o.imatrix_file = a.imatrix;
  } else if (!a.include_weights.empty() || !a.exclude_weights.empty()) {
    fail("--include-weights and --exclude-weights choose entries of --imatrix, which is not given");
  }
  o.n_threads = a.threads > 0 ? a.threads : default_threads();
  auto progress_shown = std::make_shared<bool>(false);
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  o.progress = [progress_shown, terminal](size_t done, size_t total, std::string_view name, DType type, uint64_t,
                                          uint64_t) {
    // A line per tensor when stderr is a file or a pipe; one line rewritten in place on a terminal.
    std::fprintf(stderr, "%s[%zu/%zu] %-40.*s -> %-5.*s%s", terminal ? "\r" : "", done, total,
                 static_cast<int>(name.size()), name.data(), static_cast<int>(dtype_name(type).size()),
                 dtype_name(type).data(), terminal ? "" : "\n");
    std::fflush(stderr);
    *progress_shown = terminal;
  };
  const std::string partial = a.output + ".tmp";
  if (partial.size() < sizeof(g_partial)) {
    std::snprintf(g_partial, sizeof(g_partial), "%s", partial.c_str());
    std::signal(SIGINT, remove_partial_and_exit);
    std::signal(SIGTERM, remove_partial_and_exit);
  }
  QuantizeReport r;
  try {
    r = quantize_model(ModelArg{"", a.input}.path(), a.output, o);  // a path or a stored name
  } catch (...) {
    if (*progress_shown) std::fputc('\n', stderr);  // end the progress line before the error message
    throw;
  }
  std::fprintf(stderr, "%swrote %s (%s): %zu tensors, %.2f MiB -> %.2f MiB", *progress_shown ? "\n" : "",
               a.output.c_str(), preset->name.c_str(), r.n_tensors, r.bytes_in / 1048576.0, r.bytes_out / 1048576.0);
  if (o.imatrix != nullptr) std::fprintf(stderr, ", %zu under the importance matrix", r.n_importance);
  if (r.n_fallback > 0) {
    std::fprintf(stderr, " (%zu matrices in another type: rows not a multiple of the type's block)", r.n_fallback);
  }
  std::fputc('\n', stderr);
}
}  // namespace

void add_quantize(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Quantize a model as llama-quantize does (Q4_K_M, Q8_0, ...)");
  cmd->add_option("input", a->input, "Input model: GGUF file, Hugging Face or MLX directory")->required();
  cmd->add_option("output", a->output, "Output GGUF file")->required();
  cmd->add_option("--type", a->type,
                  "A llama-quantize preset, any case: Q4_K_M (alias Q4_K), Q4_K_S, Q5_K_M (Q5_K), Q5_K_S, Q6_K, Q8_0, "
                  "Q3_K_S/M/L (Q3_K = M), Q2_K, Q2_K_S, Q4_0, Q4_1, Q5_0, Q5_1, F16, BF16, F32; or q8_K (owl only)")
      ->required();
  cmd->add_flag("--pure", a->pure, "Every matrix the preset's base type (no higher-precision tensors)");
  cmd->add_option("--output-tensor-type", a->output_type, "Type of output.weight (or the tied embeddings)");
  cmd->add_option("--token-embedding-type", a->token_embd_type, "Type of token_embd.weight");
  cmd->add_flag("--allow-requantize", a->allow_requantize,
                "Quantize matrices that are already quantized (each round loses precision)");
  cmd->add_option("--imatrix", a->imatrix,
                  "Importance matrix (owl imatrix or llama-imatrix, GGUF or .dat): errors weighted by it");
  cmd->add_option("--include-weights", a->include_weights, "Use the importance matrix only for tensors naming this");
  cmd->add_option("--exclude-weights", a->exclude_weights, "Do not use the importance matrix for tensors naming this")
      ->excludes("--include-weights");
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([a] { quantize(*a); });
}

}  // namespace owl::app
