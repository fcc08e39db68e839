// owl train's loop (train/pretrain.h), the same step as owl finetune's over every weight.
#include "train/pretrain.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/atomic_write.h"
#include "base/error.h"
#include "train/batches.h"
#include "train/checkpoint.h"

namespace owl::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// What a checkpoint must agree on with the run that resumes it.
json run_identity(const PretrainOptions& o, const ModelShape& s) {
  return json{{"n_vocab", s.n_vocab},   {"n_embd", s.n_embd},     {"n_layer", s.n_layer},
              {"n_head", s.n_head},     {"n_head_kv", s.n_head_kv}, {"n_ff", s.n_ff},
              {"n_ctx", s.n_ctx},       {"batch_size", o.batch_size}, {"grad_accum", o.grad_accum},
              {"seed", o.seed},         {"lr", o.schedule.lr},    {"warmup", o.schedule.warmup},
              {"total_steps", o.iters}, {"init_std", o.init_std}, {"weight_decay", o.adamw.weight_decay},
              {"rope_base", s.rope_base}, {"norm_eps", s.norm_eps}, {"schedule", static_cast<int>(o.schedule.kind)},
              {"grad_clip", o.grad_clip}, {"tied", s.tied}, {"beta1", o.adamw.beta1}, {"beta2", o.adamw.beta2}, {"eps", o.adamw.eps}};
}

std::vector<std::pair<std::string, gguf::Value>> run_metadata(const PretrainOptions& o, const PretrainResult& r) {
  auto text = [](std::string s) { return gguf::Value{std::move(s)}; };
  std::vector<std::pair<std::string, gguf::Value>> m = {
      {"training.steps", gguf::Value{static_cast<uint64_t>(r.steps)}},
      {"training.batch_size", gguf::Value{static_cast<uint64_t>(o.batch_size * o.grad_accum)}},
      {"training.learning_rate", gguf::Value{static_cast<float>(o.schedule.lr)}},
      {"training.seed", gguf::Value{static_cast<uint64_t>(o.seed)}},
      {"training.final_loss", gguf::Value{static_cast<float>(r.last_loss)}},
      {"general.parameter_count", gguf::Value{static_cast<uint64_t>(r.n_params)}},
  };
  if (r.last_val_loss) m.emplace_back("training.validation_loss", gguf::Value{static_cast<float>(*r.last_val_loss)});
  m.emplace_back("training.tool", text("owl train"));
  return m;
}

void save_checkpoint(const fs::path& dir, const TrainableModel& model, AdamW& opt, int64_t step, const json& identity) {
  atomic_write_directory(dir, [&](const fs::path& tmp) {
    model.write_tensors(tmp / "model.safetensors");
    write_optimizer_state(opt, tmp / "optimizer.safetensors");
    write_run_state(tmp, step, identity);
  });
}

}  // namespace

PretrainResult pretrain(const DataSplit& data, const PretrainOptions& o, int32_t pad, ThreadPool& pool,
                        const std::function<void(const StepReport&)>& on_step) {
  if (o.batch_size < 1 || o.grad_accum < 1 || o.iters < 1) fail("--iters, --batch-size and --grad-accum must be at least 1");
  if (o.output.empty()) fail("-o/--output: the GGUF file to write");
  TrainableModel tm(o.shape, o.metadata, o.seed, o.init_std);
  for (const Example& e : data.train.examples) {
    if (static_cast<int64_t>(e.tokens.size()) > tm.shape().n_ctx) {
      fail("{}: an example of {} tokens is longer than the context {}", data.train.path, e.tokens.size(), tm.shape().n_ctx);
    }
  }
  Batches batches(data.train, o.batch_size, o.seed, true, pad);
  ScheduleOptions schedule = o.schedule;
  schedule.total = o.iters;
  const json identity = run_identity(o, tm.shape());
  const fs::path checkpoint = o.output + ".checkpoint";

  AdamW opt(o.adamw);
  int64_t step = 0;
  if (o.resume) {
    const fs::path dir = checkpoint_to_resume(checkpoint);
    step = read_run_state(dir, identity);
    tm.read_tensors(dir / "model.safetensors");
    read_optimizer_state(opt, dir / "optimizer.safetensors", tm.tensor_sizes());
    opt.set_steps(step);
  }
  TrainPass pass(tm.model(), pool);
  pass.set_grad_checkpoint(o.grad_checkpoint);
  PretrainResult result;
  result.n_params = tm.n_params();
  const bool validate = !data.valid.examples.empty();

  ModelGrads grads;
  bool written = false;
  for (; step < o.iters; ++step) {
    const auto start = std::chrono::steady_clock::now();
    int64_t tokens = 0;
    const std::vector<TrainBatch> micro = batches.step(step, o.grad_accum, tokens);
    const double loss = step_gradients(pass, micro, grads);
    StepReport r;
    const std::vector<std::vector<float>*> tensors = gradient_tensors(grads);
    r.grad_norm = global_norm(tensors);
    if (!std::isfinite(r.grad_norm)) fail("training step {}: the gradient is not finite (loss {}); lower --lr", step + 1, loss);
    if (o.grad_clip > 0.0) clip_by_global_norm(tensors, r.grad_norm, o.grad_clip);
    r.lr = learning_rate(schedule, step);
    opt.step(tm.params(grads), r.lr);
    tm.sync();
    r.step = step + 1;
    r.total = o.iters;
    r.loss = loss;
    r.tokens = tokens;
    if (result.steps == 0) result.first_loss = loss;
    result.steps = r.step;
    result.last_loss = loss;
    const bool last = r.step == o.iters;
    if (validate && (last || (o.val_every > 0 && r.step % o.val_every == 0))) {
      r.val_loss = dataset_loss(pass, data.valid, o.batch_size, pad);
      result.last_val_loss = r.val_loss;
    }
    if (last || (o.save_every > 0 && r.step % o.save_every == 0)) {
      save_checkpoint(checkpoint, tm, opt, r.step, identity);
      r.saved = true;
    }
    if (last) tm.write_gguf(o.output, run_metadata(o, result));
    written = last;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (on_step) on_step(r);
  }
  if (!written) {  // resumed from the final checkpoint: a kill came before the GGUF was written
    result.steps = o.iters;
    tm.write_gguf(o.output, run_metadata(o, result));
  }
  result.steps = o.iters;
  return result;
}

}  // namespace owl::train
