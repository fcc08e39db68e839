// owl logits: the vocabulary logits of the last position (or every position) as JSON.
#include <nlohmann/json.hpp>

#include <cstdio>

#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "models/decoder.h"

namespace owl::app {

namespace {
struct LogitsArgs {
  ModelArg model;
  LoraArgs lora;
  std::string prompt;
  std::string tokens;
  bool all = false;
  bool use_tokens = false;
  std::string dump_dir;
  int threads = 0;
  std::string kv_type = "f32";
};

std::vector<int32_t> parse_ids(const std::string& list) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    try {
      size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      fail("--tokens: '{}' is not a token id", item);
    }
    pos = comma + 1;
  }
  return ids;
}

void run(const LogitsArgs& a) {
  const auto m = LoadedModel::load(a.model.path(), adapters_for(a.model, a.lora));
  const std::vector<int32_t> ids = a.use_tokens ? parse_ids(a.tokens) : m->encode_prompt(a.prompt);
  if (ids.empty()) fail("no tokens to evaluate");
  ThreadPool pool(a.threads > 0 ? a.threads : default_threads());
  Decoder decoder(m->model(), pool);
  // Named activations, gathered over micro-batches: (name, layer) -> (rows, width).
  std::map<std::pair<std::string, int64_t>, std::pair<std::vector<float>, int64_t>> acts;
  if (!a.dump_dir.empty()) {
    decoder.set_observer([&](std::string_view name, int64_t layer, const float* data, int64_t n, int64_t width) {
      auto& [rows, w] = acts[{std::string(name), layer}];
      rows.insert(rows.end(), data, data + n * width);
      w = width;
    });
  }
  KvCache cache(m->model().spec(), static_cast<int64_t>(ids.size()), kv_type_from_name(a.kv_type));
  const std::span<const float> logits = decoder.eval(cache, ids, a.all);
  const auto n_vocab = static_cast<size_t>(m->model().spec().n_vocab);
  nlohmann::json out;
  out["tokens"] = ids;
  out["n_vocab"] = n_vocab;
  auto row = [&](size_t i) { return std::vector<float>(logits.begin() + i * n_vocab, logits.begin() + (i + 1) * n_vocab); };
  if (a.all) {
    nlohmann::json rows = nlohmann::json::array();
    for (size_t i = 0; i < ids.size(); ++i) rows.push_back(row(i));
    out["logits"] = std::move(rows);
  } else {
    out["logits"] = row(0);
  }
  if (!a.dump_dir.empty()) {
    // One raw little-endian float32 file per activation, (n_tokens, width) row-major, and an index.
    std::filesystem::create_directories(a.dump_dir);
    nlohmann::json index = nlohmann::json::array();
    for (const auto& [key, value] : acts) {
      const auto& [name, layer] = key;
      const auto& [rows, width] = value;
      const std::string file = layer < 0 ? fmt::format("{}.f32", name) : fmt::format("{}.{}.f32", name, layer);
      atomic_write(std::filesystem::path(a.dump_dir) / file,
                   std::string_view(reinterpret_cast<const char*>(rows.data()), sizeof(float) * rows.size()));
      const auto n_rows = static_cast<int64_t>(rows.size()) / width;
      index.push_back({{"file", file}, {"name", name}, {"layer", layer}, {"shape", {n_rows, width}}});
    }
    atomic_write(std::filesystem::path(a.dump_dir) / "index.json", index.dump(1));
    std::fprintf(stderr, "wrote %zu activations to %s\n", acts.size(), a.dump_dir.c_str());
  }
  std::puts(out.dump().c_str());
}
}  // namespace

void add_logits(CLI::App& app) {
  auto a = std::make_shared<LogitsArgs>();
  CLI::App* cmd = app.add_subcommand("logits", "Print logits as JSON");
  add_model_option(*cmd, a->model);
  add_lora_options(*cmd, a->lora);
  auto* p = cmd->add_option("-p,--prompt", a->prompt, "Prompt text (BOS is added)");
  auto* t = cmd->add_option("--tokens", a->tokens, "Comma-separated token ids, e.g. 1,2,3");
  p->excludes(t);
  cmd->add_flag("--all", a->all, "Logits of every position, not only the last");
  cmd->add_option("--dump-activations", a->dump_dir,
                  "Write every named intermediate (attn_norm.0.f32, ffn_out.3.f32, ...) and index.json here");
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--kv-type", a->kv_type, "KV cache type (f32 by default here: exact, for comparing with references)")
      ->capture_default_str();
  cmd->callback([a, p, t] {
    if (p->count() == 0 && t->count() == 0) fail("give -p PROMPT or --tokens IDS");
    a->use_tokens = t->count() > 0;
    run(*a);
  });
}

}  // namespace owl::app
