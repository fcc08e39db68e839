// Openness: a file is open source only when all three parts are declared (OSI license, data, code);
// otherwise it is open weights, and the reason lists the parts that are missing.
#include "tools/check/openness.h"

#include <fmt/format.h>

#include "formats/gguf.h"
#include "tools/check/model_card.h"

namespace owl::check {

namespace {
bool code_host(const std::string& url) {
  for (const char* host : {"github.com/", "gitlab.com/", "codeberg.org/", "bitbucket.org/", "git."}) {
    if (url.find(host) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

Openness classify_openness(const ModelFile& f, const LicenseReport& license) {
  Openness o;
  auto str = [&](const std::string& key) -> std::string {
    const gguf::Value* v = f.find(key);
    return v != nullptr && v->type() == gguf::ValueType::string ? v->to_string(key) : std::string();
  };
  if (const gguf::Value* v = f.find("general.datasets"); v != nullptr && v->type() == gguf::ValueType::array) {
    for (const auto& item : v->to_array("general.datasets").items) {
      if (item.type() == gguf::ValueType::string) o.datasets.push_back(item.to_string("general.datasets"));
    }
  }
  const uint64_t n_data = f.find("general.dataset.count") != nullptr ? f.find_uint("general.dataset.count").value_or(0) : 0;
  for (uint64_t i = 0; i < std::min<uint64_t>(n_data, 256); ++i) {
    const std::string p = fmt::format("general.dataset.{}.", i);
    std::string name = str(p + "name");
    if (name.empty()) name = str(p + "repo_url");
    if (!name.empty()) o.datasets.push_back(name);
  }
  if (const Sidecars side = read_sidecars(f.path()); side.card) {
    for (const std::string& d : side.card->datasets) o.datasets.push_back(d);
  }
  for (const char* key : {"general.source.repo_url", "general.source.url", "general.repo_url", "general.url"}) {
    const std::string url = str(key);
    if (!url.empty() && code_host(url)) o.code.push_back(url);
  }
  // A model owl train made: its training code is this program's own (src/train/), and the file
  // names the recipe that ran it.
  if (str("training.tool") == "owl train") {
    const std::string recipe = str("training.recipe");
    o.code.push_back(recipe.empty() ? "owl train" : fmt::format("owl train, recipe {}", recipe));
  }
  const bool osi = license.record != nullptr && license.record->osi;
  std::vector<std::string> missing;
  if (!osi) {
    missing.push_back(license.record == nullptr ? "the license is unknown"
                                                : fmt::format("{} is not an OSI-approved license", license.record->id));
  }
  if (o.datasets.empty()) missing.push_back("no training data is declared (general.datasets, general.dataset.*)");
  if (o.code.empty()) missing.push_back("no training code is linked (general.source.repo_url to a code host)");
  o.open_source = missing.empty();
  if (o.open_source) {
    o.reason = fmt::format("OSI-approved license ({}), training data ({}) and code ({}) are declared",
                           license.record->id, fmt::join(o.datasets, ", "), fmt::join(o.code, ", "));
  } else {
    o.reason = fmt::format("weights only: {}", fmt::join(missing, "; "));
  }
  return o;
}

}  // namespace owl::check
