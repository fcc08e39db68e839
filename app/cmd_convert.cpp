// owl convert: any model owl reads (GGUF, Hugging Face or MLX directory, llama2.c checkpoint) to
// GGUF, a Hugging Face directory or an MLX quantized directory.
#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "commands.h"
#include "common.h"
#include "models/lora_adapter.h"
#include "models/model_source.h"
#include "progress_bar.h"
#include "tools/hf_writer.h"
#include "tools/llama2c_import.h"
#include "tools/merge.h"
#include "tools/quantize.h"

namespace owl::app {

namespace {

struct ConvertArgs {
  std::string input;
  std::string output;
  std::string output_option;
  std::string to;
  std::string from;
  std::string tokenizer;
  std::string type;
  int bits = 0;
  int64_t group_size = 64;
  int threads = 0;
  LoraArgs lora;  // merged into the output (owl merge)
};

// The target format: --to, else MLX when --bits is given, GGUF for a name ending in .gguf, else HF.
std::string target_format(const ConvertArgs& a) {
  if (!a.to.empty()) return a.to;
  if (a.bits > 0) return "mlx";
  return a.output.ends_with(".gguf") ? "gguf" : "hf";
}

void convert(const ConvertArgs& a, const std::string& input) {
  const std::string to = target_format(a);
  // GGUF output takes llama-quantize's presets (Q4_K_M, ...: tools/quant_mix.h); the directory formats one type.
  std::optional<DType> type;
  std::optional<QuantPreset> preset;
  if (!a.type.empty()) {
    if (to == "gguf") {
      preset = quant_preset(a.type);
      if (!preset) fail("--type: unknown type '{}' (one of {})", a.type, quant_preset_names());
    } else {
      type = dtype_from_name(a.type);
      if (!type) fail("--type: unknown type '{}'", a.type);
    }
  }
  if (a.bits > 0 && to != "mlx") fail("--bits applies to --to mlx only");
  refuse_overwriting_input(input, a.output);
  std::unique_ptr<Model> base;  // with adapters: the merged view points into it
  std::unique_ptr<ModelFile> model;
  if (a.lora.paths.empty()) {
    model = open_model_file(input);
  } else {
    base = Model::from_file(open_model_file(input));
    std::vector<ScaledAdapter> adapters;
    for (const LoraRequest& r : a.lora.requests()) adapters.push_back({read_lora_adapter(r.path, *base), r.scale});
    // GGUF keeps each merged tensor's type unless --type says otherwise; HF/MLX writers take float32.
    model = merged_view(*base, adapters, to == "gguf");
  }
  ProgressBar bar("convert");
  const int threads = a.threads > 0 ? a.threads : default_threads();
  try {
    if (to == "gguf") {
      QuantizeOptions o;
      o.type = std::nullopt;  // each tensor keeps its type unless a preset is given
      if (preset) o.preset = TensorTypeOptions{*preset};
      o.n_threads = threads;
      o.progress = [&](size_t, size_t, std::string_view, DType, uint64_t done, uint64_t total) { bar.update(done, total); };
      const QuantizeReport r = write_gguf(*model, a.output, o);
      bar.finish();
      std::fprintf(stderr, "wrote %s: GGUF, %zu tensors, %.2f MiB\n", a.output.c_str(), r.n_tensors, r.bytes_out / 1048576.0);
      return;
    }
    HfWriteOptions o;
    o.dtype = type;
    o.n_threads = threads;
    if (to == "mlx") {
      o.mlx_bits = a.bits > 0 ? a.bits : 4;
      o.mlx_group_size = a.group_size;
    }
    o.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
    const HfWriteReport r = write_hf_directory(*model, a.output, o);
    bar.finish();
    std::fprintf(stderr, "wrote %s: %s directory, %zu tensors (%zu quantized modules) in %zu file(s), %.2f MiB%s\n",
                 a.output.c_str(), to == "mlx" ? "MLX" : "Hugging Face", r.n_tensors, r.n_quantized, r.n_shards,
                 r.bytes_out / 1048576.0, r.tokenizer ? ", with the tokenizer" : ", no tokenizer (the source has none)");
  } catch (...) {
    bar.finish();  // end the progress line before the error message
    throw;
  }
}

}  // namespace

void add_merge(CLI::App& app) {
  auto a = std::make_shared<ConvertArgs>();
  auto model = std::make_shared<ModelArg>();
  CLI::App* cmd = app.add_subcommand("merge", "Merge LoRA adapters into their base model (W + scale·B·A) and write it");
  add_model_option(*cmd, *model);
  add_lora_options(*cmd, a->lora);
  cmd->add_option("-o,--output", a->output, "Output: FILE.gguf or a directory")->required();
  cmd->add_option("--to", a->to, "Output format: gguf, hf or mlx (default: gguf for *.gguf, mlx with --bits, else hf)")
      ->check(CLI::IsMember({"gguf", "hf", "mlx"}));
  cmd->add_option("--type", a->type,
                  "GGUF: a llama-quantize preset (Q4_K_M, Q8_0, F16, ...; default: each keeps its own type); "
                  "HF/MLX: f32, f16 or bf16");
  cmd->add_option("--bits", a->bits, "MLX: bits per weight")->check(CLI::Range(1, 8));
  cmd->add_option("--group-size", a->group_size, "MLX: weights per scale and bias")->capture_default_str();
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([a, model] {
    if (a->lora.paths.empty()) fail("owl merge needs --lora ADAPTER");
    convert(*a, model->path());
  });
}

void add_convert(CLI::App& app) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Convert a model between GGUF, Hugging Face and MLX (and import llama2.c checkpoints)");
  cmd->add_option("input", a->input, "Model: GGUF file, Hugging Face or MLX directory, or llama2.c MODEL.bin with --from llama2c")
      ->required();
  cmd->add_option("output", a->output, "Output: FILE.gguf or a directory");
  cmd->add_option("-o,--output-file", a->output_option, "Output (same as the second argument)");
  cmd->add_option("--to", a->to, "Output format: gguf, hf or mlx (default: gguf for *.gguf, mlx with --bits, else hf)")
      ->check(CLI::IsMember({"gguf", "hf", "mlx"}));
  cmd->add_option("--type", a->type,
                  "GGUF: a llama-quantize preset, any case (Q4_K_M, Q5_K_S, Q8_0, Q4_0, F16, ... as owl quantize; "
                  "default: keep the source types). HF/MLX: tensor float type f32, f16 or bf16");
  cmd->add_option("--bits", a->bits, "MLX: bits per weight (2, 3, 4, 5, 6 or 8; default 4)")->check(CLI::Range(1, 8));
  cmd->add_option("--group-size", a->group_size, "MLX: weights per scale and bias (32, 64 or 128)")->capture_default_str();
  cmd->add_option("--from", a->from, "Input format when it is not detected: llama2c")->check(CLI::IsMember({"llama2c"}));
  cmd->add_option("--tokenizer", a->tokenizer, "llama2.c tokenizer.bin (with --from llama2c)");
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  add_lora_options(*cmd, a->lora);
  cmd->callback([a] {
    if (!a->output_option.empty()) {
      if (!a->output.empty()) fail("give the output once: as the second argument or with -o");
      a->output = a->output_option;
    }
    if (a->output.empty()) fail("no output: owl convert INPUT OUTPUT");
    if (a->from != "llama2c") return convert(*a, ModelArg{"", a->input}.path());  // a path or a stored name
    if (a->tokenizer.empty()) fail("--from llama2c needs --tokenizer TOKENIZER.bin");
    // llama2.c checkpoints import as GGUF; other targets convert from that.
    const bool direct = target_format(*a) == "gguf";
    const std::string gguf = direct ? a->output : a->output + ".llama2c-import.gguf";
    DType type = DType::f32;
    if (direct && !a->type.empty()) {
      const auto t = dtype_from_name(a->type);
      if (!t) fail("--type: unknown type '{}'", a->type);
      type = *t;
    }
    import_llama2c({a->input, a->tokenizer, gguf, type, a->threads > 0 ? a->threads : default_threads()});
    if (direct) {
      std::fprintf(stderr, "wrote %s\n", gguf.c_str());
      return;
    }
    struct Remove {
      std::string path;
      ~Remove() { std::filesystem::remove(path); }
    } cleanup{gguf};
    convert(*a, gguf);
  });
}

}  // namespace owl::app
