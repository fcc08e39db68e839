// `owl check`: license, openness, memory fit and ecosystem of one model file in one report, as text
// or as the JSON of docs/check-json.md, with an exit status scripts can gate on. Also the check
// `owl run` makes before running a model (license line on first use, refusal when it cannot fit).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tools/check/ecosystem.h"
#include "tools/check/fit.h"
#include "tools/check/license.h"
#include "tools/check/openness.h"
#include "tools/check/weight_scan.h"

namespace owl {
class Model;

namespace check {

// Exit statuses of `owl check` (also in its --help, README and docs/check-json.md).
inline constexpr int kExitOk = 0;          // allowed, fits, no warnings
inline constexpr int kExitWarnings = 2;    // conditions, an unknown license, or other warnings
inline constexpr int kExitNotAllowed = 3;  // the use is not allowed or the model does not fit

struct CheckOptions {
  FitParams fit;
  Use use = Use::personal;
  std::optional<int64_t> users;
};

struct CheckReport {
  std::string path;
  std::string name;
  std::string arch;
  uint64_t file_bytes = 0;
  uint64_t parameters = 0;
  bool runnable = false;
  std::string why_not_runnable;
  CheckOptions options;
  LicenseReport license;
  Openness openness;
  std::optional<FitReport> fit;  // absent when the file has no model hyperparameters
  std::string fit_error;
  EcosystemReport ecosystem;
  std::vector<NonFiniteTensor> non_finite;  // tensors holding NaN or Inf values
  std::vector<std::string> warnings;  // everything that makes the exit status 2
  int exit_status() const;
};

// env.baseline should be this process's RSS before anything was loaded, env.model_load and `load`
// what loading costs (measure_model_load): measured by the caller so that nothing here runs first.
CheckReport run_check(const ModelFile& file, const CheckOptions& options, const FitEnvironment& env,
                      const LoadCost& load);

nlohmann::json to_json(const CheckReport& report);
std::string to_text(const CheckReport& report);

// For `owl run`: the license line when this model is used for the first time (remembered in
// $OWL_STATE_DIR, else $XDG_STATE_HOME/owl, else ~/.local/state/owl: file "seen"), else "".
// Throws owl::Error when the predicted peak memory for n_ctx does not fit and force is false.
std::string check_before_run(const Model& model, int64_t n_ctx, DType kv_type, bool force);

// Where "seen" lives (exposed for tests); empty when no folder can be determined.
std::string state_dir();

}  // namespace check
}  // namespace owl
