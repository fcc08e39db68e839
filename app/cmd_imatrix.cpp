// owl imatrix: an importance matrix for owl quantize --imatrix (and llama-quantize), computed on a
// calibration text as llama-imatrix computes it (tools/imatrix.h), merged with earlier ones (--in-file),
// or converted between the GGUF and legacy .dat formats.
#include <cstdio>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "tools/imatrix.h"

namespace owl::app {

namespace {

struct ImatrixArgs {
  ModelArg model;
  std::string file;
  std::string output = "imatrix.gguf";
  std::string format;
  std::vector<std::string> in_files;
  ImatrixOptions o;
  std::string kv_type = "f16";
  int64_t output_frequency = 10;
  int threads = 0;
};

ImatrixFormat output_format(const ImatrixArgs& a) {
  if (a.format == "gguf") return ImatrixFormat::gguf;
  if (a.format == "dat") return ImatrixFormat::dat;
  if (!a.format.empty()) fail("--output-format: '{}' is neither gguf nor dat", a.format);
  // As llama-imatrix reads a name: GGUF unless it asks for the legacy format by its extension.
  return a.output.ends_with(".dat") ? ImatrixFormat::dat : ImatrixFormat::gguf;
}

void run(ImatrixArgs& a) {
  if (a.file.empty() && a.in_files.empty()) fail("-f FILE is required (the calibration text; - for stdin), or --in-file");
  const ImatrixFormat format = output_format(a);
  Imatrix merged;
  for (const std::string& path : a.in_files) merged.merge(read_imatrix(path));
  if (!a.file.empty()) {
    a.o.chunks.kv_type = kv_type_from_name(a.kv_type);
    const auto m = LoadedModel::load(a.model.path());
    const std::vector<int32_t> tokens = perplexity_tokens(m->tokenizer(), read_text_arg("-f", a.file), a.o.chunks);
    std::fprintf(stderr, "imatrix: %zu tokens; chunks of %lld\n", tokens.size(), static_cast<long long>(a.o.chunks.n_ctx));
    ThreadPool pool(a.threads > 0 ? a.threads : default_threads());
    const auto with_earlier = [&](Imatrix computed) {
      computed.datasets = {a.file == "-" ? std::string("stdin") : a.file};
      computed.merge(merged);
      return computed;
    };
    // Saved every --output-frequency chunks, so that a long run stopped early leaves its data.
    const auto progress = [&](const PerplexityReport& r, const Imatrix& so_far) {
      std::fprintf(stderr, "[%zu]%.4f,", r.running.size(), r.running.back());
      if (a.output_frequency > 0 && static_cast<int64_t>(r.running.size()) % a.output_frequency == 0) {
        write_imatrix(with_earlier(so_far), a.output, format);
      }
      std::fflush(stderr);
    };
    ImatrixRun result = compute_imatrix(m->model(), tokens, a.o, pool, progress);
    std::fprintf(stderr, "\nFinal estimate: PPL = %.4f +/- %.5f\n", result.perplexity.perplexity, result.perplexity.error);
    merged = with_earlier(std::move(result.imatrix));
  }
  write_imatrix(merged, a.output, format);
  std::fprintf(stderr, "imatrix: wrote %s (%s, %zu entries, %lld chunks)\n", a.output.c_str(),
               format == ImatrixFormat::gguf ? "GGUF" : "legacy .dat", merged.entries.size(),
               static_cast<long long>(merged.chunk_count));
}

}  // namespace

void add_imatrix(CLI::App& app) {
  auto a = std::make_shared<ImatrixArgs>();
  CLI::App* cmd = app.add_subcommand("imatrix", "Importance matrix for owl quantize --imatrix, as llama-imatrix computes it");
  add_model_option(*cmd, a->model);
  cmd->add_option("-f,--file", a->file, "Calibration text (- for stdin)");
  cmd->add_option("-o,--output-file", a->output, "Where to write it")->capture_default_str();
  cmd->add_option("--output-format", a->format, "gguf or dat (llama.cpp's legacy format); default: from the name");
  cmd->add_option("--in-file", a->in_files, "An earlier importance matrix to add in (repeatable; alone: a conversion)");
  cmd->add_option("-c,--ctx-size", a->o.chunks.n_ctx, "Tokens per chunk")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{4}, int64_t{1} << 24));
  cmd->add_option("--chunks", a->o.chunks.max_chunks, "Chunks to process at most (0: all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("-b,--batch-size", a->o.chunks.n_batch, "Tokens per evaluation")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_flag("--process-output", a->o.process_output, "Also collect for the output projection");
  cmd->add_option("--output-frequency", a->output_frequency, "Save every this many chunks (0: only at the end)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("--kv-type", a->kv_type, "KV cache type: f16, q8_0 or f32")->capture_default_str();
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([a] { run(*a); });
}

}  // namespace owl::app
