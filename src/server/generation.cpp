// Running a request's choices on the scheduler (see generation.h).
#include "server/generation.h"

#include "server/http_error.h"

namespace owl::server {

Generation::Generation(ModelPool& pool, std::shared_ptr<Resident> model, const CompletionRequest& request, int n_choices)
    : pool_(pool), model_(std::move(model)) {
  try {
    for (int i = 0; i < n_choices; ++i) {
      CompletionRequest r = request;
      r.sampling.seed += static_cast<uint64_t>(i);
      jobs_.push_back(model_->scheduler->submit(std::move(r), signal_));
    }
  } catch (const QueueFull& e) {
    cancel();
    pool_.release(model_);
    throw HttpError(503, e.what());
  } catch (const Error& e) {
    cancel();
    pool_.release(model_);
    throw HttpError(400, e.what());
  } catch (...) {
    cancel();
    pool_.release(model_);
    throw;
  }
  finished_.assign(jobs_.size(), false);
}

Generation::~Generation() {
  cancel();
  pool_.release(model_);
}

void Generation::cancel() {
  for (auto& j : jobs_) j->cancel();
}

bool Generation::next(int& index, JobEvent& event, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    uint64_t seen;
    {
      std::lock_guard lock(signal_->mutex);
      seen = signal_->count;
    }
    // Round robin over the choices without waiting, then wait for any of them to push.
    for (size_t k = 0; k < jobs_.size(); ++k) {
      const size_t i = (turn_ + k) % jobs_.size();
      if (finished_[i] || !jobs_[i]->next(event, std::chrono::milliseconds(0))) continue;
      turn_ = i + 1;
      index = static_cast<int>(i);
      if (event.kind == JobEvent::Kind::done) finished_[i] = true, ++n_done_;
      return true;
    }
    std::unique_lock lock(signal_->mutex);
    if (!signal_->changed.wait_until(lock, deadline, [&] { return signal_->count != seen; })) return false;
  }
  return false;
}

std::vector<ChoiceResult> Generation::wait_all() {
  std::vector<ChoiceResult> out(jobs_.size());
  int i = 0;
  JobEvent ev;
  while (!done()) {
    if (!next(i, ev, std::chrono::milliseconds(1000))) continue;
    ChoiceResult& c = out[static_cast<size_t>(i)];
    if (ev.kind == JobEvent::Kind::done) {
      c.finish = ev.finish;
      c.error = ev.error;
      c.stats = std::move(ev.stats);
      if (c.finish == FinishReason::error) throw HttpError(500, "generation failed: " + c.error);
    } else {
      c.text += ev.text;
      if (ev.token >= 0) c.tokens.push_back(std::move(ev));
    }
  }
  return out;
}

}  // namespace owl::server
