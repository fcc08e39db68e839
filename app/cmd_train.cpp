// owl train: a new Llama-architecture model trained from scratch on your text (train/pretrain.h),
// with a tokenizer from owl train-tokenizer (or any GGUF's tokenizer.ggml.* keys), a progress line
// per step, validation, checkpoints and --resume; writes a float32 GGUF with complete metadata.
#include <cstdio>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"
#include "train/pretrain.h"
#include "train_progress.h"

namespace owl::app {

namespace {

struct TrainArgs {
  std::string tokenizer, data, valid, lr_schedule = "cosine", name, license, description;
  std::vector<std::string> meta;
  bool json = false;
  int threads = 0;
  train::PretrainOptions o;
};

// The metadata of the new model: the tokenizer's keys, then general.* from the options.
std::vector<std::pair<std::string, gguf::Value>> model_metadata(const gguf::File& tok, const TrainArgs& a) {
  std::vector<std::pair<std::string, gguf::Value>> m;
  auto text = [](const std::string& s) { return gguf::Value{s}; };
  if (!a.name.empty()) m.emplace_back("general.name", text(a.name));
  if (!a.license.empty()) m.emplace_back("general.license", text(a.license));
  if (!a.description.empty()) m.emplace_back("general.description", text(a.description));
  for (const std::string& kv : a.meta) {  // --meta general.source.url=https://...
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) fail("--meta '{}': give KEY=VALUE", kv);
    const std::string key = kv.substr(0, eq);
    if (key == "general.datasets") {  // a list: comma-separated names
      std::vector<std::string> items;
      for (size_t p = eq + 1; p <= kv.size();) {
        const size_t comma = std::min(kv.find(',', p), kv.size());
        if (comma > p) items.push_back(kv.substr(p, comma - p));
        p = comma + 1;
      }
      m.emplace_back(key, gguf::Value::string_array(items));
    } else {
      m.emplace_back(key, text(kv.substr(eq + 1)));
    }
  }
  for (const auto& [key, value] : tok.metadata()) {
    if (key.starts_with("tokenizer.")) m.emplace_back(key, value);
  }
  return m;
}

void train_command(TrainArgs& a) {
  train::PretrainOptions& o = a.o;
  const auto tok_file = gguf::File::open(a.tokenizer);
  const auto tok = Tokenizer::from_gguf(*tok_file);
  o.metadata = model_metadata(*tok_file, a);
  o.shape.n_vocab = tok->n_vocab();
  if (a.lr_schedule == "constant") {
    o.schedule.kind = train::LrSchedule::constant;
  } else if (a.lr_schedule == "cosine") {
    o.schedule.kind = train::LrSchedule::cosine;
  } else {
    fail("--lr-schedule '{}': constant or cosine", a.lr_schedule);
  }

  train::Encoder enc;
  enc.text = [&](const std::string& text, bool bos) {
    std::vector<int32_t> ids = tok->encode(text, false);
    if (bos && tok->bos() >= 0) ids.insert(ids.begin(), tok->bos());
    return ids;
  };
  enc.eos = tok->eos();
  enc.n_vocab = tok->n_vocab();
  const int64_t ctx = o.shape.n_ctx;
  const train::DataSplit data = train::load_data(a.data, a.valid, enc, {ctx, false});
  if (data.train.n_truncated > 0) {
    fail("{}: {} examples are longer than --context {}", data.train.path, data.train.n_truncated, ctx);
  }
  const train::ModelShape shape = o.shape.resolved();
  std::fprintf(stderr, "train: %zu training examples (%lld tokens)%s; %lld layers x %lld dim, %lld heads, ffn %lld, vocab %lld\n",
               data.train.examples.size(), static_cast<long long>(data.train.n_tokens()),
               data.valid.examples.empty() ? "" : fmt::format(", {} validation", data.valid.examples.size()).c_str(),
               static_cast<long long>(shape.n_layer), static_cast<long long>(shape.n_embd),
               static_cast<long long>(shape.n_head), static_cast<long long>(shape.n_ff),
               static_cast<long long>(shape.n_vocab));
  ThreadPool pool(a.threads > 0 ? a.threads : default_threads());
  const int32_t pad = tok->eos() >= 0 ? tok->eos() : 0;  // padding is never a target
  TrainProgress progress(a.json);
  const train::PretrainResult r = train::pretrain(data, o, pad, pool, std::ref(progress));
  std::fprintf(stderr, "train: %lld parameters, %lld steps in %s, loss %.4f -> %.4f", static_cast<long long>(r.n_params),
               static_cast<long long>(r.steps), duration(progress.elapsed()).c_str(), r.first_loss, r.last_loss);
  if (r.last_val_loss) std::fprintf(stderr, ", validation loss %.4f", *r.last_val_loss);
  std::fprintf(stderr, "; model written to %s\n", o.output.c_str());
}

}  // namespace

void add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  train::PretrainOptions& o = a->o;
  CLI::App* cmd = app.add_subcommand("train", "Train a new Llama-architecture model from scratch on your text");
  cmd->add_option("--tokenizer", a->tokenizer, "Vocabulary GGUF (owl train-tokenizer), or any GGUF whose tokenizer to use")->required();
  cmd->add_option("--data", a->data, "Training data: JSONL ({\"text\"} lines), or a directory with train.jsonl (and valid.jsonl)")->required();
  cmd->add_option("--valid", a->valid, "Validation data (JSONL)");
  cmd->add_option("-o,--output", o.output, "GGUF file to write (checkpoints go to OUTPUT.checkpoint/)")->required();
  cmd->add_option("--dim", o.shape.n_embd, "Embedding width")->capture_default_str()->check(CLI::Range(8, 16384));
  cmd->add_option("--layers", o.shape.n_layer, "Transformer blocks")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--heads", o.shape.n_head, "Attention heads")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--kv-heads", o.shape.n_head_kv, "Key/value heads (grouped-query attention; default: --heads)")->check(CLI::Range(1, 1024));
  cmd->add_option("--ffn-dim", o.shape.n_ff, "Feed-forward width (default: 8/3 of --dim, a multiple of 32)")->check(CLI::Range(1, 65536));
  cmd->add_option("-c,--context", o.shape.n_ctx, "Training context; longer examples are an error")->capture_default_str()->check(CLI::Range(8, 1 << 20));
  cmd->add_flag("--tie-embeddings", o.shape.tied, "Use token_embd as the output head too (no output.weight)");
  cmd->add_option("--rope-base", o.shape.rope_base, "RoPE frequency base")->capture_default_str()->check(CLI::Range(2.0, 1e9));
  cmd->add_option("--iters", o.iters, "Optimizer steps")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--batch-size", o.batch_size, "Sequences per micro-batch")->capture_default_str()->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--grad-accum", o.grad_accum, "Micro-batches per optimizer step")->capture_default_str()->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--lr", o.schedule.lr, "Peak learning rate")->capture_default_str()->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--lr-schedule", a->lr_schedule, "constant or cosine")->capture_default_str();
  cmd->add_option("--warmup", o.schedule.warmup, "Linear warmup steps")->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--weight-decay", o.adamw.weight_decay, "AdamW decoupled weight decay (matrices only)")->capture_default_str()->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--beta2", o.adamw.beta2, "AdamW beta2")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--grad-clip", o.grad_clip, "Clip gradients to this global norm (0: off)")->capture_default_str()->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--init-std", o.init_std, "Standard deviation of the initial weights")->capture_default_str()->check(CLI::Range(1e-6, 1.0));
  cmd->add_option("--seed", o.seed, "Seed of the initial weights and the shuffles")->capture_default_str();
  cmd->add_option("--save-every", o.save_every, "Steps between checkpoints (0: at the end)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--val-every", o.val_every, "Steps between validation losses (0: at the end)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_flag("--resume", o.resume, "Continue from OUTPUT.checkpoint");
  cmd->add_flag("--grad-checkpoint", o.grad_checkpoint, "Keep only each layer's input and recompute in backward (less memory)");
  cmd->add_option("--name", a->name, "general.name of the model");
  cmd->add_option("--license", a->license, "general.license (an SPDX id such as MIT or Apache-2.0)");
  cmd->add_option("--description", a->description, "general.description: what the model is and was trained on");
  cmd->add_option("--meta", a->meta, "More metadata, KEY=VALUE (general.source.url=..., general.datasets=a,b)");
  cmd->add_flag("--json", a->json, "Log each step as a JSON line on stdout");
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([a] { train_command(*a); });
}

}  // namespace owl::app
