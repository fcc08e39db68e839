// The models a server offers (one file, or every GGUF in a folder, named by file stem) and those
// resident now: a model is loaded on first use (only when owl check predicts it fits), kept while
// requests use it and for keep_alive after, and unloaded when that expires or when --max-models
// would be exceeded (the least recently used idle one goes first).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/loaded_model.h"
#include "engine/scheduler.h"
#include "store/catalog.h"

namespace owl::server {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

struct ModelPoolOptions {
  SchedulerOptions scheduler;  // n_ctx 0: the model's training context, at most 2048
  std::chrono::seconds keep_alive{300};  // negative: forever
  int max_models = 2;
  bool force = false;  // load even when predicted not to fit
  std::vector<LoraRequest> loras;  // adapters attached to every model served (--lora)
  // A chat template for every model instead of its own (--chat-template-file): the source and its file.
  std::string chat_template;
  std::string chat_template_file;
};

struct ModelEntry {
  std::string name;  // a file's stem, or a stored model's name ("llama3.2:1b", "hf.co/OWNER/REPO:Q4_K_M")
  std::string path;
  uint64_t size = 0;
  SystemClock::time_point modified;
  std::string source;  // "" for a file given to owl serve; "owl", "ollama" or "hf-cache" for a stored model
  std::string digest;  // a stored model's manifest SHA-256 (hex), else ""
  store::StoredExtras extras;  // a stored model's template, parameters, system, license and adapters
};

// One resident model: requests hold it through a shared_ptr, so unloading never pulls it from
// under a running request.
struct Resident {
  ModelEntry entry;
  std::unique_ptr<LoadedModel> model;
  std::unique_ptr<Scheduler> scheduler;
  double load_seconds = 0;
  int64_t n_ctx() const { return scheduler->options().n_ctx; }

 private:
  friend class ModelPool;  // the fields below are guarded by the pool's mutex
  int holders = 0;         // requests using it now
  std::chrono::seconds keep_alive{0};  // what the latest request asked for (negative: forever)
  std::optional<SteadyClock::time_point> expires;  // nullopt: never (or in use)
  SystemClock::time_point expires_wall;
  uint64_t last_used = 0;
};

class ModelPool {
 public:
  explicit ModelPool(ModelPoolOptions options);
  ~ModelPool();

  void add_file(const std::string& path);  // owl::Error when it is not a readable model
  void add_stored(const store::StoredModel& model);  // one stored model, by its name
  void add_dir(const std::string& dir);    // every valid *.gguf in it (others skipped with a warning); owl::Error when none

  // Also serve every stored model by its name (store/catalog.h), read anew at each lookup so that a
  // pull, copy or delete shows at once; files added by name win over a stored model of that name.
  void serve_store(store::ModelStore own);
  store::ModelStore* store() { return store_ ? &*store_ : nullptr; }

  std::vector<ModelEntry> available() const;
  // The entry for a name ("stem", "stem:latest"), or HttpError 404.
  ModelEntry find(const std::string& name) const;

  // The resident model, loading it if needed (HttpError 404 unknown, 500 when it would not fit or
  // the file fails to load, 503 when --max-models are loaded and busy). Each acquire must be
  // matched by one release. keep_alive: how long the model stays once the last request using it
  // ends (nullopt: the server's default; the latest request's choice wins).
  std::shared_ptr<Resident> acquire(const std::string& name, std::optional<std::chrono::seconds> keep_alive = {});
  // A request using it ended: when it was the last, the expiry starts (0: unload once idle).
  void release(const std::shared_ptr<Resident>& r);
  // Unloads a model as soon as no request uses it (nothing happens when it is not loaded).
  void unload(const std::string& name);
  // Cancels what every model runs and refuses new requests (503): the server is stopping.
  void shutdown();

  // When a resident model will be unloaded; nullopt while in use or kept forever.
  std::optional<SystemClock::time_point> expires_at(const Resident& r) const;

  // The model a request names, or the only one served when it names none (400 when several are).
  std::shared_ptr<Resident> acquire_requested(const std::optional<std::string>& name);

  std::vector<std::shared_ptr<Resident>> resident() const;
  std::string resolve(const std::string& name) const;  // the entry name a name refers to, or ""

 private:
  void reap();  // unloads expired idle models
  std::optional<ModelEntry> stored_entry(const std::string& name) const;
  // The entry a name means: a file's (by stem, "stem:latest", a stored name's spellings), else the
  // served store's; one read of the store.
  std::optional<ModelEntry> lookup(const std::string& name) const;
  void set_expiry(Resident& r, std::chrono::seconds keep_alive);

  ModelPoolOptions options_;
  std::map<std::string, ModelEntry> entries_;
  std::optional<store::ModelStore> store_;
  mutable std::mutex mutex_;
  std::mutex load_mutex_;  // one load at a time
  std::map<std::string, std::shared_ptr<Resident>> resident_;
  uint64_t clock_ = 0;
  bool shutting_down_ = false;
  bool stop_ = false;
  std::condition_variable wake_;
  std::thread reaper_;
};

// A resident model held for the length of a scope, released (its keep-alive started) at the end.
class ModelLease {
 public:
  ModelLease(ModelPool& pool, std::shared_ptr<Resident> r) : pool_(pool), r_(std::move(r)) {}
  ~ModelLease() {
    if (r_) pool_.release(r_);
  }
  ModelLease(const ModelLease&) = delete;
  ModelLease& operator=(const ModelLease&) = delete;
  Resident* operator->() const { return r_.get(); }
  // Passes the hold on to whoever releases it next (a Generation).
  std::shared_ptr<Resident> hand_over() { return std::move(r_); }

 private:
  ModelPool& pool_;
  std::shared_ptr<Resident> r_;
};

}  // namespace owl::server
