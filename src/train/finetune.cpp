// owl finetune's loop (train/finetune.h). Micro-batch m of the run is batch m mod B of epoch
// m / B (B batches per epoch, examples shuffled per epoch from the seed), so a step's data follows
// from its number alone: a checkpoint needs the adapter, the AdamW moments and the step count.
#include "train/finetune.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/atomic_write.h"
#include "base/error.h"
#include "formats/safetensors.h"
#include "train/lora_pass.h"

namespace owl::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A uniform double in [0, 1) from 53 bits of the engine (the standard fixes mt19937_64's output,
// so a seed gives the same numbers everywhere; std's distributions are not so fixed).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  if (!shuffle) return order;
  std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(epoch + 1)));
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng() % i)]);
  return order;
}

TrainBatch make_batch(const Dataset& d, const std::vector<size_t>& order, size_t first, size_t count, int32_t pad) {
  TrainBatch b;
  b.n_seq = static_cast<int64_t>(count);
  for (size_t i = 0; i < count; ++i) {
    b.seq_len = std::max<int64_t>(b.seq_len, static_cast<int64_t>(d.examples[order[first + i]].tokens.size()));
  }
  b.ids.assign(static_cast<size_t>(b.n_seq * b.seq_len), pad);
  b.targets.assign(b.ids.size(), 0);
  for (size_t i = 0; i < count; ++i) {
    const Example& e = d.examples[order[first + i]];
    std::copy(e.tokens.begin(), e.tokens.end(), b.ids.begin() + static_cast<std::ptrdiff_t>(i * b.seq_len));
    std::copy(e.targets.begin(), e.targets.end(), b.targets.begin() + static_cast<std::ptrdiff_t>(i * b.seq_len));
  }
  return b;
}

// The run's micro-batches, by number.
class Batches {
 public:
  Batches(const Dataset& d, int64_t batch_size, uint64_t seed, bool shuffle, int32_t pad)
      : d_(d), size_(static_cast<size_t>(batch_size)), seed_(seed), shuffle_(shuffle), pad_(pad) {}
  int64_t per_epoch() const { return static_cast<int64_t>((d_.examples.size() + size_ - 1) / size_); }
  TrainBatch get(int64_t m) {
    const int64_t epoch = m / per_epoch(), index = m % per_epoch();
    if (epoch != epoch_) {
      order_ = epoch_order(d_.examples.size(), seed_, epoch, shuffle_);
      epoch_ = epoch;
    }
    const size_t first = static_cast<size_t>(index) * size_;
    return make_batch(d_, order_, first, std::min(size_, d_.examples.size() - first), pad_);
  }

 private:
  const Dataset& d_;
  size_t size_;
  uint64_t seed_;
  bool shuffle_;
  int32_t pad_;
  int64_t epoch_ = -1;
  std::vector<size_t> order_;
};

// What a checkpoint must agree on with the run that resumes it.
json run_identity(const FinetuneOptions& o, int64_t total) {
  std::vector<std::string> targets;
  for (LoraTarget t : o.targets) targets.emplace_back(lora_target_name(t));
  return json{{"rank", o.rank},         {"alpha", o.alpha},           {"rslora", o.rslora},
              {"targets", targets},     {"first_layer", o.first_layer}, {"last_layer", o.last_layer},
              {"batch_size", o.batch_size}, {"grad_accum", o.grad_accum}, {"seed", o.seed},
              {"shuffle", o.shuffle},   {"lr", o.schedule.lr},        {"total_steps", total}};
}

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

void save_checkpoint(const fs::path& dir, const Model& model, const LoraAdapter& adapter, AdamW& opt, int64_t step,
                     const json& identity) {
  atomic_write_directory(dir, [&](const fs::path& tmp) {
    write_peft_adapter(adapter, model, (tmp / "adapter").string());
    safetensors::Writer w;
    for (size_t i = 0; i < opt.first_moments().size(); ++i) {
      const auto n = static_cast<int64_t>(opt.first_moments()[i].size());
      w.add("m." + std::to_string(i), safetensors::DType::f32, {n}, float_bytes(opt.first_moments()[i]));
      w.add("v." + std::to_string(i), safetensors::DType::f32, {n}, float_bytes(opt.second_moments()[i]));
    }
    w.write((tmp / "optimizer.safetensors").string());
    atomic_write(tmp / "state.json", json{{"step", step}, {"run", identity}}.dump(2) + "\n");
  });
}

// Loads the checkpoint into adapter and opt; returns its step.
int64_t load_checkpoint(fs::path dir, const Model& model, LoraAdapter& adapter, AdamW& opt, const json& identity) {
  std::error_code ec;
  // A kill between moving the old checkpoint aside and renaming the new one leaves only the old.
  if (!fs::exists(dir / "state.json", ec) && fs::exists(dir.string() + ".owl-old/state.json", ec)) dir = dir.string() + ".owl-old";
  if (!fs::exists(dir / "state.json", ec)) fail("--resume: no checkpoint in {}", dir.string());
  std::ifstream in(dir / "state.json");
  json state;
  try {
    state = json::parse(in);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", (dir / "state.json").string(), e.what());
  }
  if (state.value("run", json()) != identity) {
    fail("--resume: {} was made with other options ({}); resume with the same ones", dir.string(), state.value("run", json()).dump());
  }
  adapter = read_peft_adapter((dir / "adapter").string(), model);
  const auto moments = safetensors::File::open((dir / "optimizer.safetensors").string());
  const size_t n = 2 * adapter.modules.size();
  opt.first_moments().resize(n);
  opt.second_moments().resize(n);
  for (size_t i = 0; i < n; ++i) {
    for (int mv = 0; mv < 2; ++mv) {
      const safetensors::Tensor* t = moments->find((mv == 0 ? "m." : "v.") + std::to_string(i));
      const size_t want = i % 2 == 0 ? adapter.modules[i / 2].a.size() : adapter.modules[i / 2].b.size();
      if (t == nullptr || t->dtype != safetensors::DType::f32 || t->n_elements != want) {
        fail("{}: optimizer state does not match the adapter", (dir / "optimizer.safetensors").string());
      }
      std::vector<float>& dst = (mv == 0 ? opt.first_moments() : opt.second_moments())[i];
      dst.resize(want);
      std::memcpy(dst.data(), t->data, t->n_bytes);
    }
  }
  const int64_t step = state.value("step", int64_t{-1});
  if (step < 0) fail("{}: no step count", (dir / "state.json").string());
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

double dataset_loss(const Model& model, const LoraAdapter& adapter, const Dataset& data, int64_t batch_size,
                    int32_t pad, ThreadPool& pool) {
  LoraPass pass(model, adapter, pool);
  const std::vector<size_t> order = epoch_order(data.examples.size(), 0, 0, false);
  double total = 0.0;
  int64_t targets = 0;
  for (size_t first = 0; first < order.size(); first += static_cast<size_t>(batch_size)) {
    const TrainBatch b = make_batch(data, order, first, std::min<size_t>(static_cast<size_t>(batch_size), order.size() - first), pad);
    const int64_t n = b.n_targets();
    if (n == 0) continue;
    total += pass.loss(b) * static_cast<double>(n);
    targets += n;
  }
  if (targets == 0) fail("{}: no target tokens", data.path);
  return total / static_cast<double>(targets);
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
  LoraPass pass(model, adapter, pool);
  pass.set_grad_checkpoint(o.grad_checkpoint);
  FinetuneResult result;
  const bool validate = !data.valid.examples.empty();
  if (validate && step == 0) result.first_val_loss = dataset_loss(model, adapter, data.valid, o.batch_size, pad, pool);

  for (; step < total; ++step) {
    const auto start = std::chrono::steady_clock::now();
    // The step's micro-batches; each one's mean loss weighted by its share of the step's targets.
    std::vector<TrainBatch> micro;
    int64_t step_targets = 0, tokens = 0;
    for (int64_t k = 0; k < o.grad_accum; ++k) {
      micro.push_back(batches.get(step * o.grad_accum + k));
      step_targets += micro.back().n_targets();
      tokens += micro.back().n_seq * micro.back().seq_len;
    }
    LoraGrads grads, part;
    double loss = 0.0;
    for (const TrainBatch& b : micro) {
      const int64_t n = b.n_targets();
      if (n == 0) continue;
      const double share = static_cast<double>(n) / static_cast<double>(step_targets);
      loss += share * pass.loss_and_grads(b, part);
      if (grads.a.empty()) {
        grads.a.resize(part.a.size());
        grads.b.resize(part.b.size());
        for (size_t i = 0; i < part.a.size(); ++i) {
          grads.a[i].assign(part.a[i].size(), 0.0f);
          grads.b[i].assign(part.b[i].size(), 0.0f);
        }
      }
      for (size_t i = 0; i < part.a.size(); ++i) {
        for (size_t j = 0; j < part.a[i].size(); ++j) grads.a[i][j] += static_cast<float>(share * part.a[i][j]);
        for (size_t j = 0; j < part.b[i].size(); ++j) grads.b[i][j] += static_cast<float>(share * part.b[i][j]);
      }
    }
    if (grads.a.empty()) fail("training step {}: its batches hold no target tokens", step + 1);
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
      r.val_loss = dataset_loss(model, adapter, data.valid, o.batch_size, pad, pool);
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
