// owl finetune's loop (train/finetune.h). A step's data follows from its number alone
// (train/batches.h): a checkpoint needs the adapter, the AdamW moments and the step count.
#include "train/finetune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/atomic_write.h"
#include "base/error.h"
#include "train/batches.h"
#include "train/checkpoint.h"
#include "train/train_pass.h"

namespace owl::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A uniform double in [0, 1) from 53 bits of the engine (the standard fixes mt19937_64's output,
// so a seed gives the same numbers everywhere; std's distributions are not so fixed).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// What a checkpoint must agree on with the run that resumes it.
json run_identity(const FinetuneOptions& o, int64_t total) {
  std::vector<std::string> targets;
  for (LoraTarget t : o.targets) targets.emplace_back(lora_target_name(t));
  return json{{"rank", o.rank},         {"alpha", o.alpha},           {"rslora", o.rslora},
              {"targets", targets},     {"first_layer", o.first_layer}, {"last_layer", o.last_layer},
              {"batch_size", o.batch_size}, {"grad_accum", o.grad_accum}, {"seed", o.seed},
              {"shuffle", o.shuffle},   {"lr", o.schedule.lr},        {"total_steps", total}};
}

void save_checkpoint(const fs::path& dir, const Model& model, const LoraAdapter& adapter, AdamW& opt, int64_t step,
                     const json& identity) {
  atomic_write_directory(dir, [&](const fs::path& tmp) {
    write_peft_adapter(adapter, model, (tmp / "adapter").string());
    write_optimizer_state(opt, tmp / "optimizer.safetensors");
    write_run_state(tmp, step, identity);
  });
}

// Loads the checkpoint into adapter and opt; returns its step.
int64_t load_checkpoint(const fs::path& where, const Model& model, LoraAdapter& adapter, AdamW& opt,
                        const json& identity) {
  const fs::path dir = checkpoint_to_resume(where);
  const int64_t step = read_run_state(dir, identity);
  // In the order of the run's own modules (the optimizer state's order), whatever order the file has.
  const LoraAdapter loaded = read_peft_adapter((dir / "adapter").string(), model);
  if (loaded.modules.size() != adapter.modules.size()) fail("{}: the checkpoint's adapter has other modules than this run", dir.string());
  for (LoraModule& m : adapter.modules) {
    const LoraModule* from = loaded.find(m.layer, m.target);
    if (from == nullptr || from->rank != m.rank) fail("{}: the checkpoint's adapter has other modules than this run", dir.string());
    m = *from;
  }
  std::vector<size_t> sizes;
  for (const LoraModule& m : adapter.modules) sizes.insert(sizes.end(), {m.a.size(), m.b.size()});
  read_optimizer_state(opt, dir / "optimizer.safetensors", sizes);
  opt.set_steps(step);
  return step;
}

}  // namespace

LoraAdapter init_adapter(const Model& model, const FinetuneOptions& o) {
  const int64_t last = o.last_layer < 0 ? model.spec().n_layer - 1 : o.last_layer;
  if (o.first_layer < 0 || o.first_layer > last || last >= model.spec().n_layer) {
    fail("--layers {}-{}: the model has layers 0-{}", o.first_layer, last, model.spec().n_layer - 1);
  }
  if (o.rank < 1 || o.rank > 4096) fail("--rank {}: must be 1 to 4096", o.rank);
  LoraAdapter a;
  a.alpha = o.alpha;
  a.rslora = o.rslora;
  a.base_model = model.spec().name;
  std::mt19937_64 rng(o.seed);
  for (int64_t il = o.first_layer; il <= last; ++il) {
    for (LoraTarget t : o.targets) {
      const Weight& w = lora_base_weight(model, il, t);
      LoraModule m{il, t, o.rank, w.cols, w.rows, {}, {}};
      const double bound = 1.0 / std::sqrt(static_cast<double>(w.cols));
      m.a.resize(static_cast<size_t>(o.rank * w.cols));
      for (float& x : m.a) x = static_cast<float>((2.0 * uniform01(rng) - 1.0) * bound);
      m.b.assign(static_cast<size_t>(w.rows * o.rank), 0.0f);
      a.modules.push_back(std::move(m));
    }
  }
  return a;
}

FinetuneResult finetune(const Model& model, const DataSplit& data, const FinetuneOptions& o, int32_t pad,
                        ThreadPool& pool, const std::function<void(const StepReport&)>& on_step) {
  if (o.batch_size < 1 || o.grad_accum < 1) fail("--batch-size and --grad-accum must be at least 1");
  Batches batches(data.train, o.batch_size, o.seed, o.shuffle, pad);
  const int64_t total = o.iters > 0 ? o.iters : std::max<int64_t>(1, o.epochs * batches.per_epoch() / o.grad_accum);
  ScheduleOptions schedule = o.schedule;
  schedule.total = total;
  const json identity = run_identity(o, total);
  const fs::path checkpoint = fs::path(o.output) / "checkpoint";

  LoraAdapter adapter = o.init_from.empty() ? init_adapter(model, o) : read_lora_adapter(o.init_from, model);
  AdamW opt(o.adamw);
  int64_t step = 0;
  if (o.resume) step = load_checkpoint(checkpoint, model, adapter, opt, identity);
  TrainPass pass(model, adapter, pool);
  pass.set_grad_checkpoint(o.grad_checkpoint);
  FinetuneResult result;
  const bool validate = !data.valid.examples.empty();
  if (validate && step == 0) result.first_val_loss = dataset_loss(pass, data.valid, o.batch_size, pad);

  for (; step < total; ++step) {
    const auto start = std::chrono::steady_clock::now();
    int64_t tokens = 0;
    const std::vector<TrainBatch> micro = batches.step(step, o.grad_accum, tokens);
    LoraGrads grads;
    const double loss = step_gradients(pass, micro, grads);
    if (step == 0 && !o.dump_grads.empty()) {
      LoraAdapter g = adapter;
      for (size_t i = 0; i < g.modules.size(); ++i) {
        g.modules[i].a = grads.a[i];
        g.modules[i].b = grads.b[i];
      }
      write_peft_safetensors(g, model, o.dump_grads, {{"loss", fmt::format("{:.17g}", loss)}});
    }
    StepReport r;
    r.grad_norm = global_norm(grads);
    if (o.grad_clip > 0.0) clip_by_global_norm(grads, r.grad_norm, o.grad_clip);
    r.lr = learning_rate(schedule, step);
    opt.step(adapter, grads, r.lr);
    r.step = step + 1;
    r.total = total;
    r.loss = loss;
    r.tokens = tokens;
    if (step == 0) result.first_loss = loss;
    result.last_loss = loss;
    const bool last = r.step == total;
    if (validate && (last || (o.val_every > 0 && r.step % o.val_every == 0))) {
      r.val_loss = dataset_loss(pass, data.valid, o.batch_size, pad);
      result.last_val_loss = r.val_loss;
    }
    if (last || (o.save_every > 0 && r.step % o.save_every == 0)) {
      save_checkpoint(checkpoint, model, adapter, opt, r.step, identity);
      write_lora_adapter(adapter, model, o.output, o.format);
      r.saved = true;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (on_step) on_step(r);
  }
  result.steps = total;
  return result;
}

}  // namespace owl::train
