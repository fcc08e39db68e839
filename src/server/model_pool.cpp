// Loading, keeping and unloading the served models (see model_pool.h).
#include "server/model_pool.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "base/error.h"
#include "base/human_units.h"
#include "formats/gguf.h"
#include "models/model_source.h"
#include "server/http_error.h"
#include "tools/check/fit.h"
#include "tools/check/license.h"

namespace owl::server {

namespace fs = std::filesystem;

namespace {
SystemClock::time_point wall_time(fs::file_time_type t) {
  return SystemClock::now() + std::chrono::duration_cast<SystemClock::duration>(t - fs::file_time_type::clock::now());
}

ModelEntry entry_for(const store::StoredModel& m) {
  return {m.name.str(), m.path.string(), m.size, wall_time(m.modified), m.source, m.digest, store::stored_extras(m)};
}

// A GGUF file by its stem, a Hugging Face or MLX directory by its name (its size: the weights').
ModelEntry entry_for(const fs::path& p) {
  std::error_code ec;
  const bool dir = fs::is_directory(p, ec);
  if (!dir && !fs::is_regular_file(p, ec)) fail("{}: not a model file", p.string());
  ModelEntry e;
  const fs::path named = p.filename().empty() ? p.parent_path() : p;  // "dir/" names dir
  e.name = dir ? named.filename().string() : p.stem().string();
  e.path = p.string();
  e.size = 0;
  if (dir) {
    for (const auto& f : fs::directory_iterator(p, ec)) {
      if (f.path().extension() == ".safetensors") e.size += fs::file_size(f.path(), ec);
    }
  } else {
    e.size = fs::file_size(p, ec);
  }
  e.modified = wall_time(fs::last_write_time(dir ? p / "config.json" : p, ec));
  return e;
}
}  // namespace

ModelPool::ModelPool(ModelPoolOptions options) : options_(std::move(options)) {
  reaper_ = std::thread([this] { reap(); });
}

ModelPool::~ModelPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  reaper_.join();
}

void ModelPool::add_stored(const store::StoredModel& model) {
  const ModelEntry e = entry_for(model);
  open_model_file(e.path);
  std::lock_guard lock(mutex_);
  entries_[e.name] = e;
}

void ModelPool::add_file(const std::string& path) {
  const ModelEntry e = entry_for(fs::path(path));
  open_model_file(path);  // a file that is not a model is refused now, not at its first request
  std::lock_guard lock(mutex_);
  entries_[e.name] = e;
}

void ModelPool::add_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("{}: not a folder", dir);
  size_t n = 0;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    if (!looks_like_model(f.path().string())) continue;  // GGUF files and model directories
    try {
      add_file(f.path().string());
      ++n;
    } catch (const Error& e) {
      std::fprintf(stderr, "owl serve: skipping %s\n", e.what());  // the folder's other models still serve
    }
  }
  if (n == 0) fail("{}: no models in this folder (.gguf files or Hugging Face / MLX directories)", dir);
}

void ModelPool::serve_store(store::ModelStore own) {
  std::lock_guard lock(mutex_);
  store_.emplace(std::move(own));
}

std::vector<ModelEntry> ModelPool::available() const {
  std::vector<ModelEntry> out;
  std::set<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, e] : entries_) {
      out.push_back(e);
      names.insert(e.source.empty() ? name + ":latest" : name);
    }
    if (!store_) return out;
  }
  for (const store::StoredModel& m : store::stored_models(*store_)) {
    if (names.insert(m.name.str()).second) out.push_back(entry_for(m));
  }
  return out;
}

std::optional<ModelEntry> ModelPool::stored_entry(const std::string& name) const {
  if (!store_ || !store::looks_like_model_name(name)) return std::nullopt;
  const auto m = store::find_stored_model(*store_, store::parse_model_name(name));
  return m ? std::optional(entry_for(*m)) : std::nullopt;
}

std::optional<ModelEntry> ModelPool::lookup(const std::string& name) const {
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(name); it != entries_.end()) return it->second;
    // Ollama clients name models "name:tag"; a file has one version, ":latest".
    const std::string latest = ":latest";
    if (name.size() > latest.size() && name.ends_with(latest)) {
      if (auto it = entries_.find(name.substr(0, name.size() - latest.size())); it != entries_.end()) return it->second;
    }
    // A stored model added by name answers to every spelling of it ("llama3.2" is "llama3.2:latest").
    if (store::looks_like_model_name(name)) {
      const auto it = entries_.find(store::parse_model_name(name).str());
      if (it != entries_.end() && !it->second.source.empty()) return it->second;
    }
  }
  return stored_entry(name);
}

std::string ModelPool::resolve(const std::string& name) const {
  const auto e = lookup(name);
  return e ? e->name : "";
}

ModelEntry ModelPool::find(const std::string& name) const {
  auto e = lookup(name);
  if (!e) throw HttpError(404, fmt::format("model '{}' not found", name), "model", "model_not_found");
  return std::move(*e);
}

void ModelPool::set_expiry(Resident& r, std::chrono::seconds keep_alive) {
  if (keep_alive.count() < 0) {
    r.expires.reset();
    return;
  }
  r.expires = SteadyClock::now() + keep_alive;
  r.expires_wall = SystemClock::now() + keep_alive;
}

std::shared_ptr<Resident> ModelPool::acquire(const std::string& name, std::optional<std::chrono::seconds> keep_alive) {
  const ModelEntry entry = find(name);
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) throw HttpError(503, "the server is shutting down");
  }
  auto hold = [&](const std::shared_ptr<Resident>& r) {  // under mutex_
    r->last_used = ++clock_;
    ++r->holders;
    r->expires.reset();  // in use: never expires while a request runs
    r->keep_alive = keep_alive.value_or(options_.keep_alive);
    return r;
  };
  {
    std::lock_guard lock(mutex_);
    if (auto it = resident_.find(entry.name); it != resident_.end()) return hold(it->second);
  }
  std::lock_guard load_lock(load_mutex_);
  std::vector<std::shared_ptr<Resident>> evicted;  // destroyed outside the lock (joins, unmaps)
  {
    std::lock_guard lock(mutex_);
    if (auto it = resident_.find(entry.name); it != resident_.end()) return hold(it->second);
    // Make room: the least recently used idle model leaves.
    while (static_cast<int>(resident_.size()) >= options_.max_models) {
      std::shared_ptr<Resident> victim;
      for (const auto& [n, r] : resident_) {
        if (r->holders == 0 && !r->scheduler->busy() && (!victim || r->last_used < victim->last_used)) victim = r;
      }
      if (!victim) {
        throw HttpError(503, fmt::format("{} models are loaded and busy (--max-models); try again later",
                                         resident_.size()));
      }
      std::fprintf(stderr, "owl serve: unloading %s to make room\n", victim->entry.name.c_str());
      resident_.erase(victim->entry.name);
      evicted.push_back(std::move(victim));
    }
  }
  evicted.clear();
  // Predict before loading: a model that cannot fit is never loaded.
  const auto t0 = SteadyClock::now();
  int64_t n_ctx = options_.scheduler.n_ctx;
  try {
    const auto file = open_model_file(entry.path);
    const check::Hyper h = check::hyper_from_gguf(*file);
    if (n_ctx <= 0) n_ctx = std::clamp<int64_t>(h.n_ctx_train, 1, 2048);
    check::FitEnvironment env;
    env.baseline = check::process_rss_bytes();
    env.memory = check::system_memory();
    check::FitParams fp;
    fp.n_ctx = n_ctx;
    fp.parallel = options_.scheduler.n_parallel + 1;  // one more cache for embeddings
    fp.threads = options_.scheduler.threads;
    fp.kv_type = options_.scheduler.kv_type;
    const check::FitReport fit = check::predict_fit(*file, fp, env);
    if (!fit.fits && !options_.force) {
      throw HttpError(500, fmt::format("model '{}' needs about {} with {} slots of context {}, but {} is available "
                                       "(serve with a smaller -c or --parallel, or --force)",
                                       entry.name, human_bytes(fit.predicted_peak), fp.parallel, n_ctx,
                                       human_bytes(fit.memory.available)));
    }
    std::fprintf(stderr, "owl serve: loading %s (%s)\n", entry.name.c_str(),
                 check::license_report(*file, check::Use::personal, std::nullopt).summary_line().c_str());
  } catch (const HttpError&) {
    throw;
  } catch (const std::exception& e) {
    throw HttpError(500, fmt::format("model '{}' cannot be loaded: {}", entry.name, e.what()));
  }
  auto r = std::make_shared<Resident>();
  r->entry = entry;
  try {
    std::vector<LoraRequest> loras = options_.loras;
    for (const fs::path& a : entry.extras.adapters) loras.push_back({a.string(), 1.0f});  // Ollama's adapter layers
    r->model = LoadedModel::load(entry.path, loras);
    if (!options_.chat_template.empty()) r->model->set_chat_template(options_.chat_template, options_.chat_template_file);
    SchedulerOptions so = options_.scheduler;
    so.n_ctx = n_ctx;
    r->scheduler = std::make_unique<Scheduler>(*r->model, so);
  } catch (const std::exception& e) {
    throw HttpError(500, fmt::format("model '{}' cannot be loaded: {}", entry.name, e.what()));
  }
  r->load_seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::lock_guard lock(mutex_);
  resident_[entry.name] = r;
  return hold(r);
}

std::shared_ptr<Resident> ModelPool::acquire_requested(const std::optional<std::string>& name) {
  if (name && !name->empty()) return acquire(*name);
  const auto all = available();
  if (all.size() != 1) throw HttpError(400, "'model' is required when several models are served", "model");
  return acquire(all.front().name);
}

void ModelPool::release(const std::shared_ptr<Resident>& r) {
  {
    std::lock_guard lock(mutex_);
    if (r->holders > 0 && --r->holders == 0) set_expiry(*r, r->keep_alive);
  }
  wake_.notify_all();
}

void ModelPool::shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  for (const auto& [name, r] : resident_) r->scheduler->cancel_all();
}

std::optional<SystemClock::time_point> ModelPool::expires_at(const Resident& r) const {
  std::lock_guard lock(mutex_);
  if (r.holders > 0 || !r.expires) return std::nullopt;
  return r.expires_wall;
}

void ModelPool::unload(const std::string& name) {
  const std::string stem = resolve(name);
  {
    std::lock_guard lock(mutex_);
    if (auto it = resident_.find(stem); it != resident_.end()) {
      Resident& r = *it->second;
      r.keep_alive = std::chrono::seconds(0);  // also when a running request ends later
      if (r.holders == 0) set_expiry(r, r.keep_alive);
    }
  }
  wake_.notify_all();
}

std::vector<std::shared_ptr<Resident>> ModelPool::resident() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Resident>> out;
  for (const auto& [n, r] : resident_) out.push_back(r);
  return out;
}

void ModelPool::reap() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(250));
    const auto now = SteadyClock::now();
    for (auto it = resident_.begin(); it != resident_.end();) {
      Resident& r = *it->second;
      const bool idle = r.holders == 0 && !r.scheduler->busy();
      if (idle && r.expires && *r.expires <= now) {
        std::fprintf(stderr, "owl serve: unloading %s (keep_alive expired)\n", r.entry.name.c_str());
        std::shared_ptr<Resident> gone = std::move(it->second);
        it = resident_.erase(it);
        lock.unlock();
        gone.reset();  // joins its scheduler thread outside the lock
        lock.lock();
        it = resident_.begin();  // the map may have changed meanwhile
      } else {
        ++it;
      }
    }
  }
}

}  // namespace owl::server
