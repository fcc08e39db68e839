// The event queue of one request (see job.h).
#include "engine/job.h"

namespace owl {

bool Job::next(JobEvent& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
  out = std::move(events_.front());
  events_.pop_front();
  return true;
}

void JobSignal::notify() {
  {
    std::lock_guard lock(mutex);
    ++count;
  }
  changed.notify_all();
}

void Job::push(JobEvent event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  ready_.notify_all();
  if (signal_) signal_->notify();
}

}  // namespace owl
