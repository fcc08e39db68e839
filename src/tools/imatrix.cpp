// owl imatrix (tools/imatrix.h): the decoder's observer sums each matrix input per column while
// owl perplexity's chunk loop runs.
#include "tools/imatrix.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "base/error.h"

namespace owl {

namespace {

// "blk.0.attn_qkv.weight[q]" (a slice of a fused tensor) -> "blk.0.attn_qkv.weight".
std::string tensor_name(const Weight& w) {
  const size_t bracket = w.name.find('[');
  return bracket == std::string::npos ? w.name : w.name.substr(0, bracket);
}

// One observed activation's sums (double: a calibration run adds up hundreds of thousands of rows),
// and the weights that read it.
struct Accumulator {
  std::vector<std::string> weights;
  std::vector<double> sums2, sums;
  double count = 0;

  void add(const float* x, int64_t n, int64_t width) {
    if (sums2.empty()) {
      sums2.assign(static_cast<size_t>(width), 0.0);
      sums.assign(static_cast<size_t>(width), 0.0);
    }
    for (int64_t t = 0; t < n; ++t) {
      const float* row = x + t * width;
      for (int64_t j = 0; j < width; ++j) {
        sums2[static_cast<size_t>(j)] += static_cast<double>(row[j]) * row[j];
        sums[static_cast<size_t>(j)] += row[j];
      }
    }
    count += static_cast<double>(n);
  }
};

using Key = std::pair<std::string, int64_t>;  // (observation name, layer)

std::map<Key, Accumulator> accumulators_for(const Model& model, bool process_output) {
  std::map<Key, Accumulator> acc;
  const auto add = [&](const char* observation, int64_t layer, std::initializer_list<const Weight*> weights) {
    std::vector<std::string>& names = acc[{observation, layer}].weights;
    for (const Weight* w : weights) {
      const std::string name = tensor_name(*w);
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  };
  const ModelWeights& w = model.weights();
  for (size_t il = 0; il < w.layers.size(); ++il) {
    const LayerWeights& l = w.layers[il];
    const auto layer = static_cast<int64_t>(il);
    add("attn_norm", layer, {&l.attn_q, &l.attn_k, &l.attn_v});
    add("kqv_out", layer, {&l.attn_output});
    add("ffn_norm", layer, {&l.ffn_gate, &l.ffn_up});
    add("ffn_gate_par", layer, {&l.ffn_down});
  }
  if (process_output) add("result_norm", -1, {&w.output});
  return acc;
}

Imatrix collect(const std::map<Key, Accumulator>& acc) {
  Imatrix m;
  for (const auto& [key, a] : acc) {
    if (a.count == 0) continue;
    ImatrixEntry e;
    e.sums2.assign(a.sums2.begin(), a.sums2.end());
    e.sums.assign(a.sums.begin(), a.sums.end());
    e.counts = {static_cast<float>(a.count)};
    for (float v : e.sums2) {
      if (!std::isfinite(v)) fail("imatrix: the input of {} holds a non-finite value (owl check scans the weights)", a.weights.front());
    }
    for (const std::string& name : a.weights) m.entries[name] = e;
  }
  return m;
}

}  // namespace

ImatrixRun compute_imatrix(const Model& model, std::span<const int32_t> tokens, const ImatrixOptions& o,
                           ThreadPool& pool, const std::function<void(const PerplexityReport&, const Imatrix&)>& on_chunk) {
  std::map<Key, Accumulator> acc = accumulators_for(model, o.process_output);
  PerplexityOptions chunks = o.chunks;
  chunks.observer = [&acc](std::string_view name, int64_t layer, const float* x, int64_t n, int64_t width) {
    const auto it = acc.find(Key{std::string(name), layer});
    if (it != acc.end()) it->second.add(x, n, width);
  };
  const auto finish = [&](const PerplexityReport& r) {
    Imatrix m = collect(acc);
    m.chunk_count = static_cast<int64_t>(r.running.size());
    m.chunk_size = o.chunks.n_ctx;
    return m;
  };
  ImatrixRun run;
  run.perplexity = perplexity(model, tokens, chunks, pool, [&](const PerplexityReport& r) {
    if (on_chunk) on_chunk(r, finish(r));
  });
  run.imatrix = finish(run.perplexity);
  return run;
}

}  // namespace owl
