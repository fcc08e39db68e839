// The continuous-batching loop (see scheduler.h). Slots are touched only by the scheduler thread;
// the queue, the task list and the totals are shared under mutex_.
#include "engine/scheduler.h"

#include <algorithm>
#include <cmath>
#include <future>

#include "engine/generator.h"
#include "engine/text_stream.h"
#include "models/kv_cache.h"

namespace owl {

namespace {
using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// log-softmax of one logit row at `id`, and the k most likely ids with theirs.
void log_probs(std::span<const float> logits, int32_t id, int32_t k, JobEvent& ev) {
  float max = -INFINITY;
  for (float v : logits) max = std::isnan(v) ? max : std::max(max, v);
  double sum = 0;
  for (float v : logits) sum += std::isnan(v) ? 0.0 : std::exp(static_cast<double>(v - max));
  const auto lse = static_cast<float>(max + std::log(sum));
  auto lp = [&](int32_t i) {
    const float v = logits[static_cast<size_t>(i)];
    return std::isnan(v) ? -INFINITY : v - lse;
  };
  ev.logprob = lp(id);
  if (k <= 0) return;
  std::vector<int32_t> ids(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  const auto kk = std::min<size_t>(static_cast<size_t>(k), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(kk), ids.end(), [&](int32_t a, int32_t b) {
    return lp(a) > lp(b) || (lp(a) == lp(b) && a < b);
  });
  for (size_t i = 0; i < kk; ++i) ev.top.push_back({ids[i], lp(ids[i])});
}
}  // namespace

struct Scheduler::Slot {
  Slot(const ModelSpec& spec, int64_t n_ctx, DType kv_type) : cache(spec, n_ctx, kv_type) {}
  KvCache cache;
  std::vector<int32_t> cached;  // the tokens whose keys and values the cache holds
  std::vector<float> cached_lora;  // the adapter scales they were computed with (empty: the model's)
  uint64_t last_used = 0;

  // The request it runs, if any.
  std::shared_ptr<Job> job;
  CompletionRequest request;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<TextStream> text;
  size_t n_prompt_done = 0;  // prompt tokens in the cache
  int32_t pending = -1;      // the last sampled token, evaluated at the next step
  std::vector<float> biased;  // logits with the request's bias
  CompletionStats stats;
  Clock::time_point admitted, first_token;
  bool decoding() const { return job != nullptr && n_prompt_done == request.prompt.size(); }
};

Scheduler::Scheduler(const LoadedModel& model, SchedulerOptions options)
    : model_(model), options_(options), pool_(options.threads), decoder_(model.model(), pool_) {
  if (options_.n_parallel < 1 || options_.n_parallel > 256) fail("--parallel must be 1..256, not {}", options_.n_parallel);
  if (options_.n_ctx < 1) fail("the context size must be positive, not {}", options_.n_ctx);
  options_.prompt_tokens_per_step = std::max<int64_t>(1, options_.prompt_tokens_per_step);
  for (int64_t i = 0; i < options_.n_parallel; ++i) slots_.push_back(std::make_unique<Slot>(model.spec(), options_.n_ctx, options_.kv_type));
  totals_.kv_cells_total = options_.n_parallel * options_.n_ctx;
  for (const auto& s : slots_) totals_.kv_cache_bytes += s->cache.bytes();
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<Job> Scheduler::submit(CompletionRequest request, std::shared_ptr<JobSignal> signal) {
  const auto n = static_cast<int64_t>(request.prompt.size());
  if (n == 0) fail("the prompt has no tokens");
  if (n > options_.n_ctx) fail("the prompt has {} tokens, more than the context size {}", n, options_.n_ctx);
  const int64_t n_vocab = model_.spec().n_vocab;
  for (int32_t t : request.prompt) {
    if (t < 0 || t >= n_vocab) fail("token id {} is out of range (vocabulary size {})", t, n_vocab);
  }
  for (const auto& [id, bias] : request.logit_bias) {
    if (id < 0 || id >= n_vocab) fail("logit_bias names token {}, outside the vocabulary (size {})", id, n_vocab);
    if (!std::isfinite(bias) && bias != -INFINITY) fail("logit_bias for token {} is not a number", id);
  }
  validate(request.sampling);
  const std::span<const float> adapters = model_.model().lora_scales();
  if (!request.lora_scales.empty() && request.lora_scales.size() != adapters.size()) {
    fail("{} LoRA scales for a model loaded with {} adapters", request.lora_scales.size(), adapters.size());
  }
  for (const float scale : request.lora_scales) {
    if (!std::isfinite(scale) || std::fabs(scale) > 100.0f) fail("a LoRA scale must be a number from -100 to 100");
  }
  // The load-time scales asked for again are the default: such requests share cached prefixes.
  if (std::equal(request.lora_scales.begin(), request.lora_scales.end(), adapters.begin(), adapters.end())) {
    request.lora_scales.clear();
  }
  auto job = std::make_shared<Job>(std::move(signal));
  {
    std::lock_guard lock(mutex_);
    if (stop_ || cancel_all_) throw QueueFull("the model is being unloaded");
    // Requests not yet admitted that will find a free slot do not count against the queue.
    const int64_t free_slots = std::max<int64_t>(0, options_.n_parallel - running_);
    if (static_cast<int64_t>(waiting_.size()) >= options_.max_queue + free_slots) {
      throw QueueFull(fmt::format("the server is busy: {} requests are waiting (--max-queue)", waiting_.size()));
    }
    waiting_.push_back({job, std::move(request)});
  }
  wake_.notify_all();
  return job;
}

std::vector<float> Scheduler::embed(const std::vector<int32_t>& tokens) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail("the input has no tokens");
  if (n > options_.n_ctx) fail("the input has {} tokens, more than the context size {}", n, options_.n_ctx);
  // Shared: the scheduler thread may still be leaving the task when get() returns here.
  auto task = std::make_shared<std::packaged_task<std::vector<float>()>>([this, tokens, n] {
    KvCache cache(model_.spec(), n, options_.kv_type);
    const std::span<const float> hidden = decoder_.eval_hidden(cache, tokens);
    return pool_embedding(hidden.data(), n, model_.spec().n_embd, model_.pooling());
  });
  std::future<std::vector<float>> result = task->get_future();
  {
    std::lock_guard lock(mutex_);
    if (stop_) fail("the model is being unloaded");
    tasks_.emplace_back([task] { (*task)(); });
  }
  wake_.notify_all();
  return result.get();
}

void Scheduler::cancel_all() {
  cancel_all_ = true;
  wake_.notify_all();
}

SchedulerMetrics Scheduler::metrics() const {
  std::lock_guard lock(mutex_);
  SchedulerMetrics m = totals_;
  m.running = running_;
  m.queued = static_cast<int64_t>(waiting_.size());
  return m;
}

bool Scheduler::busy() const {
  std::lock_guard lock(mutex_);
  return running_ > 0 || !waiting_.empty() || !tasks_.empty();
}

void Scheduler::loop() {
  for (;;) {
    std::vector<std::function<void()>> tasks;
    std::vector<Waiting> admitted;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      auto has_free = [&] { return running_ < options_.n_parallel; };
      wake_.wait(lock, [&] { return stop_ || !tasks_.empty() || running_ > 0 || (!waiting_.empty() && has_free()); });
      stopping = stop_;
      while (!tasks_.empty()) tasks.push_back(std::move(tasks_.front())), tasks_.pop_front();
      // Requests cancelled while waiting leave the queue; then FIFO into the free slots.
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (it->job->cancelled() || stopping || cancel_all_) {
          JobEvent done;
          done.kind = JobEvent::Kind::done;
          done.finish = FinishReason::cancelled;
          it->job->push(std::move(done));
          it = waiting_.erase(it);
        } else {
          ++it;
        }
      }
      while (!waiting_.empty() && has_free()) {
        admitted.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
        ++running_;
      }
    }
    for (auto& t : tasks) t();  // packaged tasks keep their own exceptions
    for (Waiting& w : admitted) {
      std::shared_ptr<Job> job = w.job;
      try {
        admit(std::move(w));
      } catch (const std::exception& e) {  // nothing may escape this thread
        bool in_slot = false;
        for (auto& s : slots_) {
          if (s->job == job) finish(*s, FinishReason::error, e.what()), in_slot = true;
        }
        if (!in_slot) {
          JobEvent done;
          done.kind = JobEvent::Kind::done;
          done.finish = FinishReason::error;
          done.error = e.what();
          job->push(std::move(done));
          std::lock_guard lock(mutex_);
          --running_;
        }
      }
    }
    if (stopping) {
      for (auto& s : slots_) {
        if (s->job) finish(*s, FinishReason::cancelled);
      }
      return;
    }
    step();
  }
}

void Scheduler::admit(Waiting w) {
  const std::vector<int32_t>& prompt = w.request.prompt;
  // The free slot sharing the longest prefix; the least recently used among equals.
  Slot* best = nullptr;
  size_t best_common = 0;
  for (auto& s : slots_) {
    if (s->job) continue;
    const auto mm = std::mismatch(s->cached.begin(), s->cached.end(), prompt.begin(), prompt.end());
    // Keys and values computed with other adapter scales are another model's: nothing is shared.
    const auto common = s->cached_lora == w.request.lora_scales ? static_cast<size_t>(mm.first - s->cached.begin()) : 0;
    if (best == nullptr || common > best_common || (common == best_common && s->last_used < best->last_used)) {
      best = s.get();
      best_common = common;
    }
  }
  Slot& s = *best;  // running_ counted a free slot for this request
  const size_t common = std::min(best_common, prompt.size() - 1);  // at least one token for fresh logits
  s.cache.set_n_past(static_cast<int64_t>(common));
  s.cached.resize(common);
  s.cached_lora = w.request.lora_scales;
  s.last_used = ++clock_;
  s.job = std::move(w.job);
  s.request = std::move(w.request);
  s.sampler = std::make_unique<Sampler>(s.request.sampling);
  for (int32_t t : s.request.prompt) s.sampler->accept(t);
  s.text = std::make_unique<TextStream>(model_.tokenizer(), s.request.stop);
  if (s.request.continues_prompt) {
    for (int32_t t : s.request.prompt) s.text->skip(t);
  }
  s.n_prompt_done = common;
  s.pending = -1;
  s.stats = CompletionStats{};
  s.stats.n_prompt = static_cast<int64_t>(s.request.prompt.size());
  s.stats.n_reused = static_cast<int64_t>(common);
  s.admitted = Clock::now();
}

void Scheduler::step() {
  for (auto& s : slots_) {
    if (s->job && (s->job->cancelled() || cancel_all_)) finish(*s, FinishReason::cancelled);
  }
  // Decoding slots first (one token each), then prompt chunks in admission order within the budget.
  std::vector<Slot*> order;
  for (auto& s : slots_) {
    if (s->decoding()) order.push_back(s.get());
  }
  std::vector<Slot*> prefilling;
  for (auto& s : slots_) {
    if (s->job && !s->decoding()) prefilling.push_back(s.get());
  }
  std::sort(prefilling.begin(), prefilling.end(), [](Slot* a, Slot* b) { return a->last_used < b->last_used; });
  std::vector<SequenceInput> batch;
  std::vector<size_t> chunk;
  for (Slot* s : order) {
    batch.push_back({&s->cache, std::span<const int32_t>(&s->pending, 1), false, s->request.lora_scales});
    chunk.push_back(1);
  }
  int64_t budget = options_.prompt_tokens_per_step;
  for (Slot* s : prefilling) {
    const size_t take = std::min<size_t>(static_cast<size_t>(budget), s->request.prompt.size() - s->n_prompt_done);
    if (take == 0) continue;
    budget -= static_cast<int64_t>(take);
    order.push_back(s);
    batch.push_back({&s->cache, std::span<const int32_t>(s->request.prompt).subspan(s->n_prompt_done, take), false,
                     s->request.lora_scales});
    chunk.push_back(take);
  }
  if (batch.empty()) return;
  ++step_;

  std::span<const float> logits;
  try {
    logits = decoder_.eval(batch);
  } catch (const std::exception& e) {
    for (Slot* s : order) finish(*s, FinishReason::error, e.what());
    return;
  }
  int64_t prompt_tokens = 0;
  const auto n_vocab = static_cast<size_t>(model_.spec().n_vocab);
  for (size_t i = 0; i < order.size(); ++i) {
    Slot& s = *order[i];
    if (s.decoding()) {
      s.cached.push_back(s.pending);
    } else {
      s.cached.insert(s.cached.end(), batch[i].tokens.begin(), batch[i].tokens.end());
      s.n_prompt_done += chunk[i];
      prompt_tokens += static_cast<int64_t>(chunk[i]);
      if (!s.decoding()) continue;  // more of the prompt to come
    }
    try {
      sample(s, logits.subspan(i * n_vocab, n_vocab));
    } catch (const std::exception& e) {
      if (s.job) finish(s, FinishReason::error, e.what());
    }
  }
  int64_t used = 0;
  for (auto& s : slots_) used += s->cache.n_past();
  std::lock_guard lock(mutex_);
  totals_.prompt_tokens += prompt_tokens;
  totals_.kv_cells_used = used;
}

void Scheduler::sample(Slot& s, std::span<const float> logits) {
  const CompletionRequest& r = s.request;
  if (r.n_predict == 0) return finish(s, FinishReason::length);  // the prompt only (a cache warm-up)
  check_finite_logits(logits);
  if (!r.logit_bias.empty()) {
    s.biased.assign(logits.begin(), logits.end());
    for (const auto& [id, bias] : r.logit_bias) s.biased[static_cast<size_t>(id)] += bias;
    logits = s.biased;
  }
  const int32_t token = s.sampler->sample(logits);
  s.sampler->accept(token);
  const bool first = s.stats.generated.empty() && s.pending < 0;
  if (first) {
    s.first_token = Clock::now();
    s.stats.prompt_seconds = seconds(s.admitted, s.first_token);
  }
  if (r.stop_at_end && model_.is_stop_token(token)) return finish(s, FinishReason::stop);
  s.stats.generated.push_back(token);
  ++s.stats.n_generated;
  JobEvent ev;
  ev.token = token;
  ev.step = step_;
  ev.text = s.text->feed(token);
  if (r.top_logprobs >= 0) log_probs(logits, token, r.top_logprobs, ev);
  s.job->push(std::move(ev));
  if (s.text->stopped()) return finish(s, FinishReason::stop);
  if (r.n_predict >= 0 && s.stats.n_generated >= r.n_predict) return finish(s, FinishReason::length);
  if (s.cache.n_past() >= s.cache.n_ctx()) return finish(s, FinishReason::length);
  s.pending = token;
}

void Scheduler::finish(Slot& s, FinishReason reason, const std::string& error) {
  if (reason != FinishReason::error && reason != FinishReason::cancelled) {
    if (std::string rest = s.text->finish(); !rest.empty()) {
      JobEvent tail;
      tail.text = std::move(rest);
      s.job->push(std::move(tail));
    }
  }
  const Clock::time_point now = Clock::now();
  if (s.stats.generated.empty() && s.pending < 0 && s.first_token < s.admitted) {
    s.stats.prompt_seconds = seconds(s.admitted, now);  // ended before any token was sampled
    s.first_token = now;
  }
  s.stats.generate_seconds = seconds(s.first_token, now);
  JobEvent done;
  done.kind = JobEvent::Kind::done;
  done.finish = reason;
  done.error = error;
  done.stats = s.stats;
  {
    std::lock_guard lock(mutex_);
    --running_;
    ++totals_.requests;
    totals_.generated_tokens += s.stats.n_generated;
    totals_.prompt_seconds += s.stats.prompt_seconds;
    totals_.generate_seconds += s.stats.generate_seconds;
  }
  s.job->push(std::move(done));
  s.job.reset();
  s.sampler.reset();
  s.text.reset();
  s.pending = -1;
}

}  // namespace owl
