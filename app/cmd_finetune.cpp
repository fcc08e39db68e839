// owl finetune: train a LoRA adapter on JSONL data (train/finetune.h), a progress line per step,
// validation loss, checkpoints; the adapter is written in PEFT's layout.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "models/model_source.h"
#include "common.h"
#include "train/finetune.h"
#include "train_progress.h"

namespace owl::app {

namespace {

struct FinetuneArgs {
  ModelArg model;
  std::string data, valid, output, format = "peft", lr_schedule = "constant", targets = "q,v", layers, init_adapter, dump_grads;
  int64_t max_seq_len = 2048;
  bool mask_prompt = false, no_shuffle = false, json = false;
  int threads = 0;
  train::FinetuneOptions o;
};

std::vector<LoraTarget> parse_targets(const std::string& list) {
  std::vector<LoraTarget> out;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name == "all") return {std::begin(kAllLoraTargets), std::end(kAllLoraTargets)};
    const auto t = lora_target_from_name(name);
    if (!t) fail("--targets: '{}' is not one of q, k, v, o, gate, up, down (or all)", name);
    if (std::find(out.begin(), out.end(), *t) == out.end()) out.push_back(*t);
  }
  if (out.empty()) fail("--targets: no projection named");
  return out;
}

// --layers N (the last N layers, as mlx-lm's --num-layers) or a-b (those layers).
void parse_layers(const std::string& s, int64_t n_layer, train::FinetuneOptions& o) {
  if (s.empty()) return;
  try {
    const size_t dash = s.find('-');
    if (dash == std::string::npos) {
      const int64_t n = std::stoll(s);
      if (n < 1 || n > n_layer) fail("--layers {}: the model has {} layers", n, n_layer);
      o.first_layer = n_layer - n;
      o.last_layer = n_layer - 1;
    } else {
      o.first_layer = std::stoll(s.substr(0, dash));
      o.last_layer = std::stoll(s.substr(dash + 1));
    }
  } catch (const std::logic_error&) {
    fail("--layers '{}': give a count N or a range a-b", s);
  }
}

void finetune_command(FinetuneArgs& a) {
  if (a.output.empty()) fail("-o/--output: the adapter directory to write");
  if (a.data.empty()) fail("--data: a JSONL file or a directory with train.jsonl");
  const std::string path = a.model.path();
  // A model that carries no tokenizer trains on pre-tokenized data ({"tokens": [...]}) alone.
  const bool has_tokenizer = open_model_file(path)->find("tokenizer.ggml.model") != nullptr;
  const std::unique_ptr<LoadedModel> m = has_tokenizer ? LoadedModel::load(path) : nullptr;
  const std::unique_ptr<Model> bare = has_tokenizer ? nullptr : Model::from_file(open_model_file(path));
  const Model& model = m ? m->model() : *bare;
  train::FinetuneOptions& o = a.o;
  o.output = a.output;
  o.format = adapter_format_from_name(a.format);
  o.targets = parse_targets(a.targets);
  parse_layers(a.layers, model.spec().n_layer, o);
  o.shuffle = !a.no_shuffle;
  o.init_from = a.init_adapter;
  o.dump_grads = a.dump_grads;
  if (a.lr_schedule == "cosine") {
    o.schedule.kind = train::LrSchedule::cosine;
  } else if (a.lr_schedule != "constant") {
    fail("--lr-schedule '{}': constant or cosine", a.lr_schedule);
  }

  train::Encoder enc;
  enc.n_vocab = model.spec().n_vocab;
  if (m) {
    enc.text = [&](const std::string& text, bool bos) {
      std::vector<int32_t> ids = m->tokenizer().encode(text, false);
      if (bos && m->tokenizer().add_bos_by_default() && m->tokenizer().bos() >= 0) ids.insert(ids.begin(), m->tokenizer().bos());
      return ids;
    };
    if (m->has_own_chat_template()) {
      enc.render = [&](const nlohmann::ordered_json& msgs, const nlohmann::ordered_json& tools, bool gen) {
        return m->render_chat(msgs, tools, gen);
      };
    }
    enc.chat_tokens = [&](const std::string& rendered) { return m->encode_chat_text(rendered); };
    enc.eos = m->tokenizer().eos();
  } else {
    const auto refuse = [path](const auto&...) -> std::vector<int32_t> {
      fail("{} carries no tokenizer: give the data pre-tokenized ({{\"tokens\": [...]}} lines)", path);
    };
    enc.text = [refuse](const std::string& t, bool bos) { return refuse(t, bos); };
    enc.chat_tokens = [refuse](const std::string& t) { return refuse(t); };
    enc.eos = -1;
  }
  const train::DataSplit data = train::load_data(a.data, a.valid, enc, {a.max_seq_len, a.mask_prompt});
  for (const train::Dataset* d : {&data.train, &data.valid}) {
    if (d->n_truncated > 0) {
      std::fprintf(stderr, "owl: warning: %lld examples of %s are longer than --max-seq-len %lld and were cut\n",
                   static_cast<long long>(d->n_truncated), d->path.c_str(), static_cast<long long>(a.max_seq_len));
    }
  }
  std::fprintf(stderr, "finetune: %zu training examples (%lld tokens, %lld targets)%s, rank %lld, %zu projections x %s layers\n",
               data.train.examples.size(), static_cast<long long>(data.train.n_tokens()),
               static_cast<long long>(data.train.n_targets()),
               data.valid.examples.empty() ? "" : fmt::format(", {} validation", data.valid.examples.size()).c_str(),
               static_cast<long long>(o.rank), o.targets.size(), a.layers.empty() ? "all" : a.layers.c_str());

  ThreadPool pool(a.threads > 0 ? a.threads : default_threads());
  const int32_t pad = enc.eos >= 0 ? enc.eos : 0;  // padding is never a target
  TrainProgress progress(a.json);
  const train::FinetuneResult r = train::finetune(model, data, o, pad, pool, std::ref(progress));
  std::fprintf(stderr, "finetune: %lld steps in %s, loss %.4f -> %.4f", static_cast<long long>(r.steps),
               duration(progress.elapsed()).c_str(), r.first_loss, r.last_loss);
  if (r.first_val_loss && r.last_val_loss) std::fprintf(stderr, ", validation loss %.4f -> %.4f", *r.first_val_loss, *r.last_val_loss);
  std::fprintf(stderr, "; adapter written to %s\n", a.output.c_str());
}

}  // namespace

void add_finetune(CLI::App& app) {
  auto a = std::make_shared<FinetuneArgs>();
  train::FinetuneOptions& o = a->o;
  CLI::App* cmd = app.add_subcommand("finetune", "Train a LoRA adapter on your data (JSONL: text, prompt/completion, messages, tokens)");
  add_model_option(*cmd, a->model);
  cmd->add_option("--data", a->data, "Training data: a JSONL file, or a directory with train.jsonl (and valid.jsonl)")->required();
  cmd->add_option("--valid", a->valid, "Validation data (JSONL)");
  cmd->add_option("-o,--output", a->output, "Adapter directory to write")->required();
  cmd->add_option("--format", a->format, "Adapter format: peft (Hugging Face), gguf (llama.cpp: OUTPUT/adapter.gguf) or mlx (mlx-lm)")
      ->capture_default_str();
  cmd->add_option("--iters", o.iters, "Optimizer steps (default: --epochs over the data)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--epochs", o.epochs, "Epochs when --iters is not given")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--batch-size", o.batch_size, "Sequences per micro-batch")->capture_default_str()->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--grad-accum", o.grad_accum, "Micro-batches per optimizer step")->capture_default_str()->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--max-seq-len", a->max_seq_len, "Longer examples are cut")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--lr", o.schedule.lr, "Peak learning rate")->capture_default_str()->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--lr-schedule", a->lr_schedule, "constant or cosine")->capture_default_str();
  cmd->add_option("--warmup", o.schedule.warmup, "Linear warmup steps")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--weight-decay", o.adamw.weight_decay, "AdamW decoupled weight decay")->capture_default_str()->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--grad-clip", o.grad_clip, "Clip gradients to this global norm (0: off)")->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--rank", o.rank, "LoRA rank")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--alpha", o.alpha, "LoRA alpha (scale alpha/rank)")->capture_default_str()->check(CLI::Range(0.0, 1e6));
  cmd->add_flag("--rslora", o.rslora, "Scale alpha/sqrt(rank) (rank-stabilized LoRA)");
  cmd->add_option("--targets", a->targets, "Projections to adapt: q,k,v,o,gate,up,down or all")->capture_default_str();
  cmd->add_option("--layers", a->layers, "Layers to adapt: the last N, or a range a-b (default: all)");
  cmd->add_flag("--mask-prompt", a->mask_prompt, "Train only on completions / the last assistant turn");
  cmd->add_option("--seed", o.seed, "Seed of the adapter init and the shuffles")->capture_default_str();
  cmd->add_flag("--no-shuffle", a->no_shuffle, "Take the examples in file order");
  cmd->add_option("--save-every", o.save_every, "Steps between checkpoints (0: at the end)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--val-every", o.val_every, "Steps between validation losses (0: at the end)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_flag("--resume", o.resume, "Continue from OUTPUT/checkpoint");
  cmd->add_flag("--grad-checkpoint", o.grad_checkpoint, "Keep only each layer's input and recompute in backward (less memory)");
  cmd->add_option("--init-adapter", a->init_adapter, "Start from this adapter instead of a random init");
  cmd->add_option("--dump-grads", a->dump_grads, "Write the step-0 loss and LoRA gradients (safetensors)");
  cmd->add_flag("--json", a->json, "Log each step as a JSON line on stdout");
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([a] { finetune_command(*a); });
}

}  // namespace owl::app
