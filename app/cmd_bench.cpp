// owl bench: prompt-processing (pp) and generation (tg) speed, as llama.cpp's llama-bench reports
// them (pp: one batched prompt of -p tokens; tg: -n tokens decoded one at a time from an empty
// context; random token ids, no tokenizer, no sampling), plus this machine's memory read bandwidth
// and the decode speed it bounds. --synthetic writes a random-weight llama model of real shapes.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "formats/gguf.h"
#include "kernels/cpu/kernels.h"
#include "models/decoder.h"
#include "models/kv_cache.h"
#include "models/model.h"
#include "models/packing.h"
#include "tensor/blocks.h"
#include "tools/quant_mix.h"

namespace owl::app {

namespace {

struct BenchArgs {
  ModelArg model;
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  int64_t depth = 0;
  std::string kv_type = "f16";
  int threads = 0;
  int reps = 3;
  bool json = false;
  std::string synthetic;
  std::string type = "q4_0";
  std::string output;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Stat {
  double mean = 0;
  double std = 0;
};

Stat stats(const std::vector<double>& v) {
  Stat s;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

int64_t peak_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t c = line.find(':');
      return c == std::string::npos ? line : line.substr(c + 2);
    }
  }
  return "unknown";
}

// Memory read bandwidth: every thread reads two streams of its own part of a 512 MiB buffer (far
// beyond the last-level cache) with a dot product, the one of each SIMD kernel set this CPU runs
// (their loads stream differently: on a Zen 5 the AVX2 loop reads 70-75 GB/s where the AVX-512 one
// reads 50-55), and the faster loop bounds the decode whichever kernels run it. A shared virtual
// machine's bandwidth drifts by tens of percent from one minute to the next, so passes are taken in
// between the runs they bound (see bench()), and the median of each loop's passes is reported.
class BandwidthProbe {
 public:
  explicit BandwidthProbe(ThreadPool& pool)
      : pool_(pool), n_((int64_t{512} << 20) / static_cast<int64_t>(sizeof(float))), buf_(static_cast<size_t>(n_)) {
    for (int64_t i = 0; i < n_; ++i) buf_[static_cast<size_t>(i)] = static_cast<float>(i & 7) * 0.125f;
    for (kernels::Isa isa : {kernels::Isa::avx2, kernels::Isa::avx512}) {
      if (kernels::isa_supported(isa)) loops_.push_back({&kernels::table_for(isa), {}});
    }
    if (loops_.empty()) loops_.push_back({&kernels::table_for(kernels::Isa::ref), {}});
  }

  void run(int passes) {
    const int parts = pool_.size();
    std::vector<float> sink(static_cast<size_t>(parts));
    for (int pass = 0; pass < passes; ++pass) {
      for (Loop& loop : loops_) {
        const double t0 = now_seconds();
        pool_.parallel_for(parts, [&](int64_t p0, int64_t p1, int) {
          for (int64_t p = p0; p < p1; ++p) {
            const int64_t len = n_ / parts / 2;
            const float* a = buf_.data() + p * 2 * len;
            sink[static_cast<size_t>(p)] = loop.kt->dot_f32(a, a + len, len);
          }
        });
        const double dt = now_seconds() - t0;
        const int64_t read = n_ / parts * parts;  // whole parts only
        loop.rates.push_back(static_cast<double>(read) * sizeof(float) / dt / 1e9);
        if (sink[0] == 12345.0f) std::fputs("", stderr);  // keeps the reads
      }
    }
  }

  int passes() const { return static_cast<int>(loops_.front().rates.size()); }

  // The faster loop's median, and the kernel set whose loop it is.
  double median_gbs() const { return fastest().first; }
  std::string_view loop_isa() const { return kernels::isa_name(fastest().second); }

 private:
  struct Loop {
    const kernels::KernelTable* kt;
    std::vector<double> rates;
  };

  std::pair<double, kernels::Isa> fastest() const {
    std::pair<double, kernels::Isa> best{0.0, kernels::Isa::ref};
    for (const Loop& loop : loops_) {
      std::vector<double> r = loop.rates;
      std::sort(r.begin(), r.end());
      if (r[r.size() / 2] > best.first) best = {r[r.size() / 2], loop.kt->isa};
    }
    return best;
  }

  ThreadPool& pool_;
  int64_t n_;
  std::vector<float> buf_;
  std::vector<Loop> loops_;
};

// Bytes of weights one decoded token reads: every tensor but the token embedding (one row of
// which is read), unless the embedding doubles as the output head.
void model_bytes(const ModelFile& f, double* total, double* per_token) {
  *total = 0;
  bool has_output = false;
  double embd = 0;
  for (const auto& t : f.tensors()) {
    const double b = static_cast<double>(t.n_bytes);
    *total += b;
    if (t.name == "output.weight") has_output = true;
    if (t.name == "token_embd.weight") embd = b;
  }
  *per_token = has_output ? *total - embd : *total;
}

void bench(const BenchArgs& a) {
  if (a.n_prompt < 0 || a.n_gen < 0 || a.depth < 0 || a.reps < 1) fail("-p, -n and -d must be >= 0 and -r >= 1");
  const DType kv_type = kv_type_from_name(a.kv_type);
  const double load_t0 = now_seconds();
  const auto model = Model::load(a.model.path());
  const double load_seconds = now_seconds() - load_t0;
  const ModelSpec& spec = model->spec();
  ThreadPool pool(a.threads > 0 ? a.threads : default_threads());
  Decoder decoder(*model, pool);
  // The warm-up below takes 4; each test starts after `depth` positions already in the cache.
  KvCache cache(spec, std::max<int64_t>(4, a.depth + std::max(a.n_prompt, a.n_gen)), kv_type);
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(spec.n_vocab - 1));
  std::vector<int32_t> prompt(static_cast<size_t>(a.n_prompt));
  for (auto& t : prompt) t = pick(rng);
  std::vector<int32_t> context(static_cast<size_t>(a.depth));
  for (auto& t : context) t = pick(rng);
  const auto fill_context = [&] {  // not timed
    cache.clear();
    if (!context.empty()) decoder.eval(cache, context, false);
  };

  // warm-up: page the weights in, grow scratch buffers
  {
    const std::vector<int32_t> warm = {1, 2, 3, 4};
    decoder.eval(cache, warm, false);
    cache.clear();
  }
  std::vector<double> pp, tg;
  int64_t rss = 0;
  // The probe's buffer comes after the first repetition, whose peak RSS is the model's own; from
  // then on a pass follows each prompt run and every kProbeEvery generated tokens (outside the
  // timings), so the bound is measured at the moments the decoding ran.
  std::unique_ptr<BandwidthProbe> probe;
  constexpr int kProbePasses = 7;  // at least, in all
  constexpr int64_t kProbeEvery = 16;
  for (int r = 0; r < a.reps; ++r) {
    if (a.n_prompt > 0) {
      fill_context();
      const double t0 = now_seconds();
      decoder.eval(cache, prompt, false);
      pp.push_back(static_cast<double>(a.n_prompt) / (now_seconds() - t0));
      if (probe) probe->run(1);
    }
    if (a.n_gen > 0) {
      fill_context();
      int32_t tok = 1;
      double seconds = 0;
      for (int64_t i = 0; i < a.n_gen; ++i) {
        const int32_t one[1] = {tok};
        const double t0 = now_seconds();
        decoder.eval(cache, one, false);
        seconds += now_seconds() - t0;
        tok = pick(rng);
        if (probe && (i + 1) % kProbeEvery == 0) probe->run(1);
      }
      tg.push_back(static_cast<double>(a.n_gen) / seconds);
    }
    if (!probe) {
      rss = peak_rss_bytes();  // after a whole repetition, before the probe's 512 MiB buffer
      probe = std::make_unique<BandwidthProbe>(pool);
    }
  }
  if (probe->passes() < kProbePasses) probe->run(kProbePasses - probe->passes());
  double total = 0;
  double per_token = 0;
  model_bytes(model->file(), &total, &per_token);
  // Each decode step also reads the keys and values of every position before it: on average those of
  // depth + n_gen/2 positions.
  const double kv_per_token = static_cast<double>(cache.bytes()) / static_cast<double>(cache.n_ctx()) *
                              (static_cast<double>(a.depth) + static_cast<double>(a.n_gen) / 2.0);
  per_token += kv_per_token;
  const double bw = probe->median_gbs();
  const Stat sp = stats(pp);
  const Stat sg = stats(tg);
  const double bound = bw * 1e9 / per_token;
  const std::string isa(kernels::isa_name(kernels::active().isa));
  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model.path();
    j["cpu"] = cpu_model();
    j["isa"] = isa;
    j["threads"] = pool.size();
    j["repetitions"] = a.reps;
    j["n_prompt"] = a.n_prompt;
    j["n_gen"] = a.n_gen;
    j["depth"] = a.depth;
    j["kv_type"] = std::string(dtype_name(kv_type));
    j["kv_bytes_per_token"] = kv_per_token;
    j["pp_tokens_per_second"] = {{"mean", sp.mean}, {"std", sp.std}, {"runs", pp}};
    j["tg_tokens_per_second"] = {{"mean", sg.mean}, {"std", sg.std}, {"runs", tg}};
    j["model_bytes"] = total;
    j["bytes_per_token"] = per_token;
    j["peak_rss_bytes"] = rss;
    j["load_seconds"] = load_seconds;
    j["packed"] = packing_enabled();
    j["packed_matrices"] = packed_matrix_count(model->weights());
    j["read_bandwidth_gb_per_s"] = bw;
    j["bandwidth_probe_passes"] = probe->passes();
    j["bandwidth_probe_loop"] = std::string(probe->loop_isa());
    j["decode_bound_tokens_per_second"] = bound;
    j["tg_percent_of_bound"] = 100.0 * sg.mean / bound;
    std::puts(j.dump(2).c_str());
    return;
  }
  std::printf("model: %s (%.2f GiB, %.2f GiB read per token, of which KV cache %.3f GiB: %s, depth %lld)\n",
              a.model.path().c_str(), total / (1 << 30), per_token / (1 << 30), kv_per_token / (1 << 30),
              std::string(dtype_name(kv_type)).c_str(), static_cast<long long>(a.depth));
  std::printf("cpu: %s | kernels: %s | threads: %d | repetitions: %d\n", cpu_model().c_str(), isa.c_str(), pool.size(),
              a.reps);
  if (a.n_prompt > 0) std::printf("pp%lld: %8.2f ± %.2f tok/s\n", static_cast<long long>(a.n_prompt), sp.mean, sp.std);
  if (a.n_gen > 0) std::printf("tg%lld: %8.2f ± %.2f tok/s\n", static_cast<long long>(a.n_gen), sg.mean, sg.std);
  std::printf("memory read bandwidth: %.1f GB/s (%s read loop) -> decode bound %.2f tok/s", bw,
              std::string(probe->loop_isa()).c_str(), bound);
  if (a.n_gen > 0) std::printf(" (tg at %.0f%%)", 100.0 * sg.mean / bound);
  std::printf("\npeak RSS: %.2f GiB | load %.2f s (%s)\n", static_cast<double>(rss) / (1 << 30), load_seconds,
              packed_matrix_count(model->weights()) > 0 ? "weights packed for the kernels" : "weights used in place");
}

// ---- synthetic models ------------------------------------------------------------------------

struct Shape {
  int64_t n_vocab, n_embd, n_ff, n_layer, n_head, n_head_kv;
};

Shape shape_named(const std::string& name) {
  if (name == "llama2-7b") return {32000, 4096, 11008, 32, 32, 32};
  if (name == "tinyllama") return {32000, 2048, 5632, 22, 32, 4};
  if (name == "100m") return {32000, 768, 2048, 12, 12, 12};
  fail("--synthetic {}: unknown shape (llama2-7b, tinyllama, 100m)", name);
}

// Random blocks of a type: random quant bits, scales set to small sane values (speed is what is
// measured, and the reference quantisers would take an hour on 7B values).
std::vector<uint8_t> random_tensor(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  const DTypeTraits& tr = dtype_traits(type);
  const size_t bytes = row_bytes(type, cols) * static_cast<size_t>(rows);
  std::vector<uint8_t> v(bytes);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    const uint64_t r = rng();
    std::memcpy(v.data() + i, &r, 8);
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(cols));
  std::normal_distribution<float> normal(0.0f, scale);
  const uint16_t d16 = fp32_to_fp16(scale / 8.0f);
  const uint16_t dm16 = fp32_to_fp16(scale / 64.0f);
  const size_t nb = bytes / tr.block_bytes;
  auto put16 = [&](size_t block, size_t offset, uint16_t value) {
    std::memcpy(v.data() + block * tr.block_bytes + offset, &value, 2);
  };
  switch (type) {
    case DType::f32:
      for (size_t i = 0; i < nb; ++i) {
        const float f = normal(rng);
        std::memcpy(v.data() + 4 * i, &f, 4);
      }
      break;
    case DType::f16:
      for (size_t i = 0; i < nb; ++i) put16(i, 0, fp32_to_fp16(normal(rng)));
      break;
    case DType::bf16:
      for (size_t i = 0; i < nb; ++i) put16(i, 0, fp32_to_bf16(normal(rng)));
      break;
    case DType::q4_0:
    case DType::q5_0:
    case DType::q8_0:
      for (size_t i = 0; i < nb; ++i) put16(i, 0, d16);
      break;
    case DType::q4_1:
    case DType::q5_1:
      for (size_t i = 0; i < nb; ++i) {
        put16(i, 0, d16);
        put16(i, 2, fp32_to_fp16(-scale));
      }
      break;
    case DType::q2_k:
      for (size_t i = 0; i < nb; ++i) {
        put16(i, offsetof(BlockQ2_K, d), dm16);
        put16(i, offsetof(BlockQ2_K, dmin), dm16);
      }
      break;
    case DType::q3_k:
      for (size_t i = 0; i < nb; ++i) put16(i, offsetof(BlockQ3_K, d), dm16);
      break;
    case DType::q4_k:
    case DType::q5_k:
      for (size_t i = 0; i < nb; ++i) {
        put16(i, 0, dm16);
        put16(i, 2, dm16);
      }
      break;
    case DType::q6_k:
      for (size_t i = 0; i < nb; ++i) put16(i, offsetof(BlockQ6_K, d), fp32_to_fp16(scale / 256.0f));
      break;
    default:
      fail("--type {}: not supported for synthetic models", dtype_name(type));
  }
  return v;
}

// The preset (any case: q4_k_m, Q5_K_S, Q8_0 ...) as owl quantize and llama-quantize apply it, or a
// plain weight type used for every matrix (the output head kept at Q6_K, as the legacy presets do).
QuantPreset preset_named(const std::string& name) {
  if (auto p = quant_preset(name)) return *p;
  const auto t = dtype_from_name(name);
  if (!t) fail("--type {}: unknown weight type (presets: {})", name, quant_preset_names());
  return QuantPreset{std::string(dtype_name(*t)), *t, QuantMix::legacy, -1};
}

void write_synthetic(const BenchArgs& a) {
  if (a.output.empty()) fail("--synthetic needs -o FILE.gguf");
  const Shape s = shape_named(a.synthetic);
  const QuantPreset preset = preset_named(a.type);
  gguf::Writer w;
  AssembledModelFile layout(a.output, "synthetic");  // the same metadata and shapes, for the preset's choices
  auto set = [&](const std::string& key, gguf::Value v) {
    layout.set(key, v);
    w.set(key, std::move(v));
  };
  auto u32 = [](int64_t v) { return gguf::Value{static_cast<uint32_t>(v)}; };
  set("general.architecture", {std::string("llama")});
  set("general.name", {std::string("synthetic " + a.synthetic + " " + preset.name)});
  if (preset.file_type >= 0) set("general.file_type", u32(preset.file_type));
  set("llama.context_length", u32(4096));
  set("llama.embedding_length", u32(s.n_embd));
  set("llama.block_count", u32(s.n_layer));
  set("llama.feed_forward_length", u32(s.n_ff));
  set("llama.rope.dimension_count", u32(s.n_embd / s.n_head));
  set("llama.attention.head_count", u32(s.n_head));
  set("llama.attention.head_count_kv", u32(s.n_head_kv));
  set("llama.attention.layer_norm_rms_epsilon", {1e-5f});
  // a minimal SentencePiece vocabulary: <unk> <s> </s>, the 256 byte tokens, then filler pieces
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens = {"<unk>", "<s>", "</s>"};
  types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(fmt::format("<0x{:02X}>", b));
    types.push_back(6);
  }
  while (static_cast<int64_t>(tokens.size()) < s.n_vocab) {
    tokens.push_back(fmt::format("\xe2\x96\x81t{}", tokens.size()));
    types.push_back(1);
  }
  for (size_t i = 0; i < tokens.size(); ++i) scores.push_back(-static_cast<float>(i));
  w.set("tokenizer.ggml.model", {std::string("llama")});
  w.set("tokenizer.ggml.tokens", gguf::Value::string_array(tokens));
  w.set("tokenizer.ggml.scores", gguf::Value::f32_array(scores));
  w.set("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
  w.set("tokenizer.ggml.unknown_token_id", u32(0));
  w.set("tokenizer.ggml.bos_token_id", u32(1));
  w.set("tokenizer.ggml.eos_token_id", u32(2));

  // The matrices (name, rows, cols) and norms; the preset picks each matrix's type from its name,
  // its shape and the layer count, as owl quantize does.
  struct Matrix {
    std::string name;
    int64_t rows, cols;
  };
  std::vector<Matrix> matrices;
  std::vector<std::string> norms;
  const int64_t hd = s.n_embd / s.n_head;
  matrices.push_back({"token_embd.weight", s.n_vocab, s.n_embd});
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    norms.push_back(p + "attn_norm.weight");
    matrices.push_back({p + "attn_q.weight", s.n_head * hd, s.n_embd});
    matrices.push_back({p + "attn_k.weight", s.n_head_kv * hd, s.n_embd});
    matrices.push_back({p + "attn_v.weight", s.n_head_kv * hd, s.n_embd});
    matrices.push_back({p + "attn_output.weight", s.n_embd, s.n_head * hd});
    norms.push_back(p + "ffn_norm.weight");
    matrices.push_back({p + "ffn_gate.weight", s.n_ff, s.n_embd});
    matrices.push_back({p + "ffn_up.weight", s.n_ff, s.n_embd});
    matrices.push_back({p + "ffn_down.weight", s.n_embd, s.n_ff});
  }
  norms.push_back("output_norm.weight");
  matrices.push_back({"output.weight", s.n_vocab, s.n_embd});
  for (const Matrix& m : matrices) {
    TensorInfo t;
    t.name = m.name;
    t.shape = {m.rows, m.cols};
    t.n_bytes = row_bytes(DType::f32, m.cols) * static_cast<uint64_t>(m.rows);
    layout.add(t);
  }
  const TensorTypes chosen(layout, TensorTypeOptions{preset});

  uint32_t seed = 1;
  for (const Matrix& m : matrices) {
    const DType type = chosen.choose(*layout.find_tensor(m.name)).type;
    w.add_tensor(m.name, {m.rows, m.cols}, type, [=, sd = seed++] { return random_tensor(type, m.rows, m.cols, sd); });
  }
  for (const std::string& name : norms) {
    w.add_tensor(name, {s.n_embd}, DType::f32, [n = s.n_embd] {
      std::vector<uint8_t> v(static_cast<size_t>(n) * 4);
      const float one = 1.0f;
      for (int64_t i = 0; i < n; ++i) std::memcpy(v.data() + 4 * i, &one, 4);
      return v;
    });
  }
  w.write(a.output);
  std::fprintf(stderr, "wrote %s (%s, %s)\n", a.output.c_str(), a.synthetic.c_str(), preset.name.c_str());
}

}  // namespace

void add_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt and generation speed (or write a synthetic model)");
  add_model_option(*cmd, a->model);
  cmd->add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens for the pp test (0: skip)")->capture_default_str();
  cmd->add_option("-n,--n-gen", a->n_gen, "Tokens for the tg test (0: skip)")->capture_default_str();
  cmd->add_option("-d,--depth", a->depth, "Positions already in the KV cache before each test")->capture_default_str();
  cmd->add_option("--kv-type", a->kv_type, "KV cache type: f16, q8_0 or f32")->capture_default_str();
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("-r,--repetitions", a->reps, "Repetitions of each test")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", a->json, "Machine-readable results on stdout");
  cmd->add_option("--synthetic", a->synthetic, "Write a random-weight model of this shape: llama2-7b, tinyllama, 100m");
  cmd->add_option("--type", a->type, "Weight type of the synthetic model (q4_0, q8_0, q4_k_m, f16 ...)")
      ->capture_default_str();
  cmd->add_option("-o,--output", a->output, "Output file of --synthetic");
  cmd->callback([a] {
    if (!a->synthetic.empty()) {
      write_synthetic(*a);
    } else {
      bench(*a);
    }
  });
}

}  // namespace owl::app
