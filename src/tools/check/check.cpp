// The `owl check` report: runs the four checks, decides the exit status, renders text and JSON
// (schema: data/check-schema.json, described in docs/check-json.md), and the pre-run check of `owl run`.
#include "tools/check/check.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/atomic_write.h"
#include "base/error.h"
#include "formats/gguf.h"
#include "models/model.h"

namespace owl::check {

namespace {

std::string gib(uint64_t b) {
  if (b >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", static_cast<double>(b) / (1 << 30));
  return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1 << 20));
}

nlohmann::json str_or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

}  // namespace

int CheckReport::exit_status() const {
  if (license.verdict.verdict == Verdict::not_allowed || (fit && !fit->fits)) return kExitNotAllowed;
  if (license.verdict.verdict != Verdict::allowed || !warnings.empty()) return kExitWarnings;
  return kExitOk;
}

CheckReport run_check(const ModelFile& file, const CheckOptions& o, const FitEnvironment& env, const LoadCost& load) {
  CheckReport r;
  r.path = file.path();
  r.name = file.find_string("general.name").value_or("");
  r.arch = file.find_string("general.architecture").value_or("");
  r.file_bytes = file.file_size();
  r.parameters = file.parameter_count();
  r.runnable = load.runnable;
  r.why_not_runnable = load.why_not;
  r.options = o;
  r.license = license_report(file, o.use, o.users);
  r.openness = classify_openness(file, r.license);
  try {
    r.fit = predict_fit(file, o.fit, env);
  } catch (const Error& e) {
    r.fit_error = e.what();
  }
  r.ecosystem = ecosystem_report(file);
  r.non_finite = non_finite_weights(file);

  r.warnings = r.license.warnings;
  if (r.license.verdict.verdict == Verdict::unknown) r.warnings.push_back("the license could not be identified");
  if (!r.runnable) r.warnings.push_back("owl cannot run this file: " + r.why_not_runnable);
  if (!r.non_finite.empty()) {
    std::string which;
    for (size_t i = 0; i < std::min<size_t>(r.non_finite.size(), 3); ++i) {
      which += fmt::format("{}{} ({})", i ? ", " : "", r.non_finite[i].name, r.non_finite[i].count);
    }
    if (r.non_finite.size() > 3) which += fmt::format(" and {} more", r.non_finite.size() - 3);
    r.warnings.push_back(fmt::format("{} tensors hold NaN or Inf values, which break every output: {}", r.non_finite.size(), which));
  }
  if (!r.fit) r.warnings.push_back("memory fit not predicted: " + r.fit_error);
  if (r.fit && r.fit->fits && r.fit->headroom < static_cast<int64_t>(r.fit->memory.available / 10)) {
    r.warnings.push_back(fmt::format("tight fit: {} of headroom", gib(static_cast<uint64_t>(r.fit->headroom))));
  }
  return r;
}

nlohmann::json to_json(const CheckReport& r) {
  using nlohmann::json;
  json j;
  j["schema_version"] = 1;
  j["model"] = {{"path", r.path},           {"name", str_or_null(r.name)},    {"architecture", r.arch},
                {"file_bytes", r.file_bytes}, {"parameters", r.parameters}, {"runnable_by_owl", r.runnable}};
  j["use"] = std::string(use_name(r.options.use));
  j["users"] = r.options.users ? json(*r.options.users) : json(nullptr);

  const LicenseRecord* rec = r.license.record;
  json lic;
  lic["id"] = r.license.id();
  lic["name"] = rec != nullptr ? json(rec->name) : json(nullptr);
  lic["spdx"] = rec != nullptr ? str_or_null(rec->spdx) : json(nullptr);
  lic["verdict"] = std::string(verdict_name(r.license.verdict.verdict));
  lic["conditions"] = r.license.verdict.conditions;
  lic["reasons"] = r.license.verdict.reasons;
  lic["commercial"] = rec != nullptr ? json(rec->commercial) : json(nullptr);
  lic["user_limit"] = rec != nullptr && rec->user_limit > 0 ? json(rec->user_limit) : json(nullptr);
  lic["attribution"] = rec != nullptr ? str_or_null(rec->attribution) : json(nullptr);
  lic["naming"] = rec != nullptr ? str_or_null(rec->naming) : json(nullptr);
  lic["acceptable_use"] = rec != nullptr ? str_or_null(rec->acceptable_use) : json(nullptr);
  lic["redistribution"] = rec != nullptr ? str_or_null(rec->redistribution) : json(nullptr);
  lic["source"] = rec != nullptr ? json(rec->source) : json(nullptr);
  lic["declared"] = json::array();
  for (const auto& d : r.license.declared) lic["declared"].push_back({{"origin", d.origin}, {"value", d.value}, {"id", d.id}});
  lic["base_models"] = json::array();
  for (const auto& b : r.license.base_models) {
    lic["base_models"].push_back({{"name", b.name}, {"repo_url", str_or_null(b.repo_url)}, {"license_hint", b.license_hint}});
  }
  j["license"] = lic;
  j["openness"] = r.openness.label();
  j["openness_reason"] = r.openness.reason;

  json fit;
  if (r.fit) {
    const FitReport& f = *r.fit;
    fit["verdict"] = f.fits ? "fits" : "does_not_fit";
    fit["predicted_peak_bytes"] = f.predicted_peak;
    fit["headroom_bytes"] = f.headroom;
    fit["max_context"] = f.max_context;
    fit["n_ctx"] = f.n_ctx;
    fit["n_ctx_train"] = f.hyper.n_ctx_train;
    fit["parallel"] = f.parallel;
    fit["threads"] = f.threads;
    fit["kv_type"] = std::string(dtype_name(f.kv_type));
    fit["weights_bytes"] = f.weights_bytes;
    fit["kv_cache_bytes"] = f.kv_cache_bytes;
    fit["kv_cache_sliding_window_bytes"] = f.kv_cache_sliding_bytes;
    fit["kv_cache_per_layer_bytes"] = f.kv_per_layer;
    fit["breakdown"] = {{"runtime_overhead", f.breakdown.runtime_overhead}, {"weights_resident", f.breakdown.weights_resident},
                        {"model_heap", f.breakdown.model_heap},             {"kv_cache", f.breakdown.kv_cache},
                        {"compute", f.breakdown.compute}};
    fit["memory"] = {{"total_bytes", f.memory.total}, {"available_bytes", f.memory.available}, {"gpu", nullptr}};
    fit["weight_types"] = json::array();
    for (const TypeFit& t : f.types) {
      fit["weight_types"].push_back({{"type", std::string(dtype_name(t.type))}, {"weights_bytes", t.weights_bytes},
                                     {"predicted_peak_bytes", t.predicted_peak}, {"fits", t.fits}});
    }
    fit["notes"] = f.notes;
  } else {
    // No hyperparameters (a vocabulary-only file): nothing to run, so nothing that does not fit.
    const MemoryInfo m = system_memory();
    fit = {{"verdict", "fits"}, {"predicted_peak_bytes", 0}, {"max_context", 0}, {"n_ctx", 1}, {"parallel", 1},
           {"kv_type", std::string(dtype_name(r.options.fit.kv_type))},
           {"breakdown", {{"runtime_overhead", 0}, {"weights_resident", 0}, {"model_heap", 0}, {"kv_cache", 0}, {"compute", 0}}},
           {"memory", {{"total_bytes", m.total}, {"available_bytes", m.available}, {"gpu", nullptr}}},
           {"weight_types", json::array()}, {"notes", {r.fit_error}}};
  }
  j["fit"] = fit;

  json eco;
  eco["runtimes"] = r.ecosystem.loading();
  eco["details"] = json::array();
  for (const auto& rt : r.ecosystem.runtimes) {
    eco["details"].push_back({{"id", rt.id}, {"name", rt.name}, {"loads", rt.loads}, {"reason", rt.reason}});
  }
  eco["convert"] = json::array();
  for (const auto& c : r.ecosystem.convert) {
    eco["convert"].push_back({{"target", c.target}, {"command", c.command}, {"available", c.available}, {"opens", c.opens}});
  }
  j["ecosystem"] = eco;
  j["non_finite_weights"] = json::array();
  for (const auto& t : r.non_finite) j["non_finite_weights"].push_back({{"tensor", t.name}, {"values", t.count}});
  j["warnings"] = r.warnings;
  j["exit_status"] = r.exit_status();
  return j;
}

std::string to_text(const CheckReport& r) {
  std::string o;
  o += fmt::format("model:       {}{} ({}, {} parameters, {})\n", r.path, r.name.empty() ? "" : " - " + r.name,
                   r.arch.empty() ? "no architecture" : r.arch, r.parameters, gib(r.file_bytes));
  const LicenseRecord* rec = r.license.record;
  o += fmt::format("\nlicense:     {}\n", rec != nullptr ? fmt::format("{} ({})", rec->name, rec->id) : "unknown");
  for (const auto& d : r.license.declared) o += fmt::format("  declared   {}: '{}' -> {}\n", d.origin, d.value, d.id);
  for (const auto& b : r.license.base_models) o += fmt::format("  base model {} -> {}\n", b.name, b.license_hint);
  const char* v = r.license.verdict.verdict == Verdict::allowed      ? "allowed"
                  : r.license.verdict.verdict == Verdict::conditions ? "allowed with conditions"
                  : r.license.verdict.verdict == Verdict::not_allowed ? "NOT allowed"
                                                                      : "unknown (read the terms yourself)";
  o += fmt::format("  {} use{}: {}\n", use_name(r.options.use),
                   r.options.users ? fmt::format(" ({} users)", *r.options.users) : "", v);
  for (const auto& c : r.license.verdict.conditions) o += "    - " + c + "\n";
  for (const auto& c : r.license.verdict.reasons) o += "    ! " + c + "\n";
  if (rec != nullptr) {
    if (!rec->redistribution.empty()) o += "  redistribution: " + rec->redistribution + "\n";
    o += "  terms: " + rec->source + "\n";
  }
  o += fmt::format("\nopenness:    {}: {}\n", r.openness.label(), r.openness.reason);
  if (r.fit) {
    const FitReport& f = *r.fit;
    const FitBreakdown& b = f.breakdown;
    o += fmt::format("\nfit:         {} - predicted peak {} of {} available ({} total){}\n",
                     f.fits ? "fits" : "DOES NOT FIT", gib(f.predicted_peak), gib(f.memory.available), gib(f.memory.total),
                     f.fits ? fmt::format(", headroom {}", gib(static_cast<uint64_t>(f.headroom))) : "");
    o += fmt::format("  context {} x {} sequence(s), {} threads; weights {}\n", f.n_ctx, f.parallel, f.threads,
                     gib(f.weights_bytes));
    o += fmt::format("  runtime {} + weights resident {} + model heap {} + KV cache {} ({}) + compute {}\n",
                     gib(b.runtime_overhead), gib(b.weights_resident), gib(b.model_heap), gib(b.kv_cache),
                     dtype_name(f.kv_type), gib(b.compute));
    if (f.kv_cache_sliding_bytes < f.kv_cache_bytes) {
      o += fmt::format("  KV cache with sliding windows kept to their window: {}\n", gib(f.kv_cache_sliding_bytes));
    }
    o += fmt::format("  largest context that fits in memory: {} (the model was trained on {})\n", f.max_context,
                     f.hyper.n_ctx_train);
    o += "  weight types:";
    for (const TypeFit& t : f.types) o += fmt::format(" {} {}{}", dtype_name(t.type), gib(t.weights_bytes), t.fits ? "" : " (no)");
    o += "\n";
    for (const auto& n : f.notes) o += "  note: " + n + "\n";
  } else {
    o += "\nfit:         unknown - " + r.fit_error + "\n";
  }
  o += "\necosystem:\n";
  for (const auto& rt : r.ecosystem.runtimes) o += fmt::format("  {:<13} {}  {}\n", rt.name, rt.loads ? "yes" : "no ", rt.reason);
  for (const auto& c : r.ecosystem.convert) {
    if (c.opens.empty()) continue;
    o += fmt::format("  {} ({}) would open: {}\n", c.command, c.available ? "available" : "not in owl yet", fmt::join(c.opens, ", "));
  }
  if (!r.warnings.empty()) {
    o += "\nwarnings:\n";
    for (const auto& w : r.warnings) o += "  - " + w + "\n";
  }
  o += fmt::format("\nexit status: {}\n", r.exit_status());
  return o;
}

std::string state_dir() {
  if (const char* d = std::getenv("OWL_STATE_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && *x != '\0') return std::string(x) + "/owl";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.local/state/owl";
  return {};
}

std::string check_before_run(const Model& model, int64_t n_ctx, DType kv_type, bool force) {
  const ModelFile& file = model.file();
  FitEnvironment env;
  env.baseline = process_rss_bytes();  // the model is already loaded: its heap is in here
  env.model_loaded = true;
  env.memory = system_memory();
  FitParams p;
  p.n_ctx = n_ctx;
  p.kv_type = kv_type;
  const FitReport fit = predict_fit(file, p, env);
  if (!fit.fits && !force) {
    fail("{}: needs about {} at context {} but {} is available{} (use --force to run anyway)", file.path(),
         gib(fit.predicted_peak), fit.n_ctx, gib(fit.memory.available),
         fit.max_context > 0 ? fmt::format("; the largest context that fits in memory is {} (-c {})", fit.max_context, fit.max_context)
                             : "");
  }
  // First use: remember the model by its absolute path and size.
  std::error_code ec;
  const std::string key = fmt::format("{} {}", file.file_size(), std::filesystem::absolute(file.path(), ec).string());
  const std::string dir = state_dir();
  std::string line = license_report(file, Use::personal, std::nullopt).summary_line();
  if (dir.empty()) return line;
  const std::filesystem::path seen = std::filesystem::path(dir) / "seen";
  std::string content;
  {
    std::ifstream in(seen);
    std::string l;
    while (std::getline(in, l)) {
      if (l == key) return "";
      content += l + "\n";
    }
  }
  try {
    std::filesystem::create_directories(dir, ec);
    atomic_write(seen, content + key + "\n");
  } catch (const Error&) {
    // Not remembering is harmless: the line is printed again next time.
  }
  return line;
}

}  // namespace owl::check
