// owl info: what a model is — architecture, size, weight types, context and vocabulary.
#include <fmt/format.h>

#include <cstdio>
#include <algorithm>
#include <map>

#include "commands.h"
#include "common.h"
#include "model_reports.h"
#include "base/human_units.h"
#include "formats/gguf.h"

namespace owl::app {

namespace {
// The per-family hyperparameters: what makes this model differ from a plain Llama.
std::string describe_family(const ModelSpec& s, const ModelWeights& w) {
  auto rope_of = [](const LayerSpec& l) {
    return l.rope_freq_scale != 1.0f ? fmt::format("base {}, linear scale {}", l.rope_base, l.rope_freq_scale)
                                     : fmt::format("base {}", l.rope_base);
  };
  // Layers may differ (Gemma 3: local layers at base 10000, global ones at the file's base with
  // linear scaling): each kind shown, global first.
  const auto first_global = std::find_if(s.layers.begin(), s.layers.end(), [](const LayerSpec& l) { return l.sliding_window == 0; });
  const auto first_local = std::find_if(s.layers.begin(), s.layers.end(), [](const LayerSpec& l) { return l.sliding_window > 0; });
  std::string bases = rope_of(first_global != s.layers.end() ? *first_global : s.layers.front());
  if (first_global != s.layers.end() && first_local != s.layers.end() && rope_of(*first_global) != rope_of(*first_local)) {
    bases += " (global layers); " + rope_of(*first_local) + " (local layers)";
  }
  std::string out;
  out += fmt::format("rope:            {}; {} of {} dims, {}", bases, s.n_rot, s.head_dim,
                     s.rope_style == RopeStyle::interleaved ? "interleaved pairs" : "halves (neox)");
  if (!w.rope_freqs.empty()) out += ", frequency factors (rope_freqs)";
  if (!w.rope_factors_short.empty()) out += fmt::format(", LongRoPE (original context {})", s.rope_orig_ctx);
  out += "\n";
  int64_t local = 0;
  for (const LayerSpec& l : s.layers) local += l.sliding_window > 0 ? 1 : 0;
  if (local > 0) {
    const auto it = std::find_if(s.layers.begin(), s.layers.end(), [](const LayerSpec& l) { return l.sliding_window > 0; });
    out += fmt::format("sliding window:  {} tokens on {} of {} layers (local RoPE base {})\n", it->sliding_window, local,
                       s.n_layer, it->rope_base);
  }
  out += fmt::format("feed-forward:    {} gate\n", s.activation == Activation::silu ? "SiLU (SwiGLU)" : "tanh-GELU (GeGLU)");
  if (s.embd_scale != 1.0f) out += fmt::format("embedding scale: {}\n", s.embd_scale);
  if (s.attn_scale > 0.0f) out += fmt::format("attention scale: {}\n", s.attn_scale);
  if (s.attn_softcap > 0.0f || s.final_softcap > 0.0f) {
    out += fmt::format("soft-capping:    attention {}, final logits {}\n", s.attn_softcap, s.final_softcap);
  }
  const LayerWeights& l0 = w.layers.front();
  std::string extras;
  if (!l0.attn_q_bias.empty()) extras += " QKV biases,";
  if (!l0.attn_q_norm.empty()) extras += " q/k norms,";
  if (!l0.post_attn_norm.empty()) extras += " post-attention and post-FFN norms,";
  if (!extras.empty()) out += fmt::format("layer extras:   {}\n", extras.substr(0, extras.size() - 1));
  out += fmt::format("rms norm eps:    {}\n", s.norm_eps);
  out += fmt::format("output head:     {}\n", s.tied_output ? "tied to token embeddings" : "separate");
  return out;
}
}  // namespace

std::string model_description(const LoadedModel& m) {
  const ModelSpec& s = m.model().spec();
  const ModelFile& f = m.model().file();
  uint64_t params = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;  // type -> (tensors, bytes)
  for (const auto& t : f.tensors()) {
    params += t.n_elements;
    auto& e = by_type[std::string(dtype_name(t.type))];
    ++e.first;
    e.second += t.n_bytes;
  }
  std::string out;
  out += fmt::format("file:            {} ({}, {})\n", f.path(), f.format_description(), human_bytes(f.file_size()));
  if (!s.name.empty()) out += fmt::format("name:            {}\n", s.name);
  out += fmt::format("architecture:    {}\n", s.arch);
  out += fmt::format("parameters:      {} ({})\n", human_count(params), params);
  out += "weight types:\n";
  for (const auto& [type, e] : by_type) out += fmt::format("  {:<6} {:>5} tensors  {}\n", type, e.first, human_bytes(e.second));
  out += fmt::format("context length:  {}\n", s.n_ctx_train);
  out += fmt::format("vocabulary:      {} tokens (bos {}, eos {})\n", m.tokenizer().n_vocab(), m.tokenizer().bos(),
                     m.tokenizer().eos());
  out += fmt::format("layers:          {}\n", s.n_layer);
  out += fmt::format("embedding:       {}  feed-forward: {}\n", s.n_embd, s.n_ff);
  out += fmt::format("heads:           {} query, {} key/value, head dim {}\n", s.n_head, s.n_head_kv, s.head_dim);
  out += describe_family(s, m.model().weights());
  out += fmt::format("chat template:   {}\n", m.chat_template().describe());
  return out;
}

void add_info(CLI::App& app) {
  auto a = std::make_shared<ModelArg>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a model: architecture, size, types, context, vocabulary");
  add_single_thread_option(*cmd);
  add_model_option(*cmd, *a);
  cmd->callback([a] { std::fputs(model_description(*LoadedModel::load(a->path())).c_str(), stdout); });
}

}  // namespace owl::app
