// owl show NAME: everything about a model in one place — where it is stored, what owl info and owl
// check say, and the chat template, parameters, system prompt and license it carries. --template,
// --parameters, --system, --license print that part alone (as ollama show does).
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "base/human_units.h"
#include "commands.h"
#include "common.h"
#include "model_reports.h"
#include "store/catalog.h"
#include "tools/check/license.h"

namespace owl::app {

namespace {

struct ShowArgs {
  ModelArg model;
  bool template_only = false, parameters_only = false, system_only = false, license_only = false;
};

std::string section(const std::string& title, const std::string& text) {
  if (text.empty()) return "";
  return fmt::format("\n{}:\n{}{}", title, text, text.ends_with('\n') ? "" : "\n");
}

void show(const ShowArgs& a) {
  std::optional<store::StoredModel> stored;
  if (const std::string name = a.model.stored_name(); !name.empty()) {
    stored = store::find_stored_model(store::ModelStore::open_default(), store::parse_model_name(name));
  }
  const std::string path = a.model.path();
  const store::StoredExtras extras = stored ? store::stored_extras(*stored) : store::StoredExtras{};
  const bool only = a.template_only || a.parameters_only || a.system_only || a.license_only;
  // The check measures what loading adds to this process: before the model is loaded for the rest.
  const std::optional<check::CheckReport> report = only ? std::nullopt : std::optional(model_check(path, {}));
  const auto m = LoadedModel::load(path);
  // The license text a store layer carries, else what the file declares.
  const std::string license = extras.license.empty()
                                  ? check::license_report(m->model().file(), check::Use::personal, std::nullopt).summary_line()
                                  : extras.license;
  std::string out;
  if (a.template_only) out += m->chat_template().source + "\n";
  if (a.parameters_only) out += extras.params.empty() ? "" : extras.params + "\n";
  if (a.system_only) out += extras.system.empty() ? "" : extras.system + "\n";
  if (a.license_only) out += license.empty() ? "" : license + "\n";
  if (!only) {
    if (stored) {
      out += fmt::format("model:           {}\nstore:           {}{}\nsize:            {}\n", stored->name.str(), stored->source,
                         stored->digest.empty() ? "" : " (id " + stored->digest.substr(0, 12) + ")", human_bytes(stored->size));
      for (const auto& adapter : extras.adapters) out += fmt::format("adapter:         {}\n", adapter.string());
    }
    out += model_description(*m);
    std::string checked = check::to_text(*report);
    if (const size_t at = checked.rfind("\nexit status:"); at != std::string::npos) checked.resize(at + 1);  // owl check's own
    out += "\n" + checked;
    out += section("chat template", m->chat_template().source);
    if (!extras.template_text.empty()) out += section("Ollama's template (Go syntax; owl uses the chat template above)", extras.template_text);
    out += section("parameters", extras.params);
    out += section("system", extras.system);
    out += section("license", extras.license);  // (what the file declares is in the check above)
  }
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void add_show(CLI::App& app) {
  auto a = std::make_shared<ShowArgs>();
  CLI::App* cmd = app.add_subcommand("show", "Everything about a model: store, description, check, template, parameters, license");
  add_model_option(*cmd, a->model);
  cmd->add_flag("--template", a->template_only, "Only the chat template");
  cmd->add_flag("--parameters", a->parameters_only, "Only the stored parameters (Ollama's params layer)");
  cmd->add_flag("--system", a->system_only, "Only the stored system prompt");
  cmd->add_flag("--license", a->license_only, "Only the license");
  cmd->callback([a] { show(*a); });
}

}  // namespace owl::app
