// owl info: what a model is — architecture, size, weight types, context and vocabulary.
#include <fmt/format.h>

#include <cstdio>
#include <map>

#include "commands.h"
#include "common.h"
#include "formats/gguf.h"

namespace owl::app {

namespace {
std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", v, units[u]);
}

std::string human_count(uint64_t n) {
  if (n >= 1000000000) return fmt::format("{:.2f} B", n / 1e9);
  if (n >= 1000000) return fmt::format("{:.2f} M", n / 1e6);
  if (n >= 1000) return fmt::format("{:.2f} K", n / 1e3);
  return std::to_string(n);
}
}  // namespace

void add_info(CLI::App& app) {
  auto a = std::make_shared<ModelArg>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a model: architecture, size, types, context, vocabulary");
  add_model_option(*cmd, *a);
  cmd->callback([a] {
    LoadedModel m = load_model(a->path());
    const ModelSpec& s = m.model->spec();
    const gguf::File& f = m.model->file();
    uint64_t params = 0;
    std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;  // type -> (tensors, bytes)
    for (const auto& t : f.tensors()) {
      params += t.n_elements;
      auto& e = by_type[std::string(dtype_name(t.type))];
      ++e.first;
      e.second += t.n_bytes;
    }
    std::string out;
    out += fmt::format("file:            {} (GGUF v{}, {})\n", f.path(), f.version(), human_bytes(f.file_size()));
    if (!s.name.empty()) out += fmt::format("name:            {}\n", s.name);
    out += fmt::format("architecture:    {}\n", s.arch);
    out += fmt::format("parameters:      {} ({})\n", human_count(params), params);
    out += "weight types:\n";
    for (const auto& [type, e] : by_type) out += fmt::format("  {:<6} {:>5} tensors  {}\n", type, e.first, human_bytes(e.second));
    out += fmt::format("context length:  {}\n", s.n_ctx_train);
    out += fmt::format("vocabulary:      {} tokens (bos {}, eos {})\n", m.tokenizer->n_vocab(), m.tokenizer->bos(),
                       m.tokenizer->eos());
    out += fmt::format("layers:          {}\n", s.n_layer);
    out += fmt::format("embedding:       {}  feed-forward: {}\n", s.n_embd, s.n_ff);
    out += fmt::format("heads:           {} query, {} key/value, head dim {}\n", s.n_head, s.n_head_kv, s.head_dim);
    out += fmt::format("rope:            base {}, {} dims, {}\n", s.rope_base, s.n_rot,
                       s.rope_style == RopeStyle::interleaved ? "interleaved pairs" : "halves (neox)");
    out += fmt::format("rms norm eps:    {}\n", s.norm_eps);
    out += fmt::format("output head:     {}\n", s.tied_output ? "tied to token embeddings" : "separate");
    std::fputs(out.c_str(), stdout);
  });
}

}  // namespace owl::app
