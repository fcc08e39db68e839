// One API request's generation: n choices submitted to the model's scheduler (choice i with seed
// seed + i), read as one merged stream of events or waited for whole. Ending it early (a client
// gone, an error) cancels what still runs; it always hands the model back to the pool.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/scheduler.h"
#include "server/model_pool.h"

namespace owl::server {

struct ChoiceResult {
  std::string text;
  std::vector<JobEvent> tokens;  // every token event (text, id, log-probabilities)
  FinishReason finish = FinishReason::stop;
  std::string error;
  CompletionStats stats;
};

// The API's finish_reason / done_reason: "length" when the token budget or the context ran out.
inline const char* api_finish_reason(FinishReason r) { return r == FinishReason::length ? "length" : "stop"; }

class Generation {
 public:
  // Submits; HttpError 400 for a request the model cannot run, 503 when the queue is full.
  Generation(ModelPool& pool, std::shared_ptr<Resident> model, const CompletionRequest& request, int n_choices);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // The next event of any choice (index set to its choice); false when none came within timeout.
  bool next(int& index, JobEvent& event, std::chrono::milliseconds timeout);
  bool done() const { return n_done_ == jobs_.size(); }
  // Waits for every choice; HttpError 500 when one failed.
  std::vector<ChoiceResult> wait_all();
  void cancel();

  const Resident& model() const { return *model_; }
  double load_seconds = 0;  // what acquiring the model cost this request

 private:
  ModelPool& pool_;
  std::shared_ptr<Resident> model_;
  std::shared_ptr<JobSignal> signal_ = std::make_shared<JobSignal>();  // any choice's event
  std::vector<std::shared_ptr<Job>> jobs_;
  std::vector<bool> finished_;
  size_t n_done_ = 0;
  size_t turn_ = 0;
};

}  // namespace owl::server
