// The store's own commands: owl list (name, id, size, store, modified; --json; Ollama's and the Hugging
// Face cache's models too), owl rm NAME..., owl cp SRC DST
// (store/model_store.h). Every other command takes a stored name where it takes a model path.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/human_units.h"
#include "commands.h"
#include "store/catalog.h"

namespace owl::app {

namespace {

std::string age(std::filesystem::file_time_type t) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(std::filesystem::file_time_type::clock::now() - t).count();
  if (s < 60) return "just now";
  if (s < 3600) return std::to_string(s / 60) + " minutes ago";
  if (s < 86400) return std::to_string(s / 3600) + " hours ago";
  return std::to_string(s / 86400) + " days ago";
}

// owl's own models, then the ones Ollama and the Hugging Face cache hold (marked, read in place).
void list(bool as_json) {
  struct Row {
    std::string name, id, store;
    uint64_t size;
    std::filesystem::file_time_type modified;
  };
  std::vector<Row> rows;
  for (const store::StoredModel& m : store::stored_models(store::ModelStore::open_default())) {
    rows.push_back({m.name.str(), m.digest.substr(0, std::min<size_t>(12, m.digest.size())), m.source, m.size, m.modified});
  }
  if (as_json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : rows) {
      const auto since = std::chrono::duration_cast<std::chrono::seconds>(std::filesystem::file_time_type::clock::now() - r.modified).count();
      out.push_back({{"name", r.name}, {"id", r.id}, {"size", r.size}, {"modified_seconds_ago", since}, {"store", r.store}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%-48s %-14s %-10s %-9s %s\n", "NAME", "ID", "SIZE", "STORE", "MODIFIED");
  for (const Row& r : rows) {
    std::printf("%-48s %-14s %-10s %-9s %s\n", r.name.c_str(), r.id.empty() ? "-" : r.id.c_str(), human_bytes(r.size).c_str(),
                r.store.c_str(), age(r.modified).c_str());
  }
}

}  // namespace

void add_store_commands(CLI::App& app) {
  auto as_json = std::make_shared<bool>(false);
  CLI::App* ls = app.add_subcommand("list", "Models in the store ($OWL_HOME)");
  ls->alias("ls");
  ls->add_flag("--json", *as_json, "One JSON array on stdout");
  ls->callback([as_json] { list(*as_json); });

  auto names = std::make_shared<std::vector<std::string>>();
  CLI::App* rm = app.add_subcommand("rm", "Remove models from the store (blobs another name uses stay)");
  rm->add_option("names", *names, "Model names")->required();
  rm->callback([names] {
    store::ModelStore s = store::ModelStore::open_default();
    for (const std::string& n : *names) {
      s.remove(store::parse_model_name(n));
      std::fprintf(stderr, "deleted '%s'\n", n.c_str());
    }
  });

  auto pair = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* cp = app.add_subcommand("cp", "Copy a stored model to another name (the files are shared)");
  cp->add_option("source", pair->first, "Stored model")->required();
  cp->add_option("destination", pair->second, "New name")->required();
  cp->callback([pair] {
    store::ModelStore s = store::ModelStore::open_default();
    s.copy(store::parse_model_name(pair->first), store::parse_model_name(pair->second));
    std::fprintf(stderr, "copied '%s' to '%s'\n", pair->first.c_str(), pair->second.c_str());
  });
}

}  // namespace owl::app
