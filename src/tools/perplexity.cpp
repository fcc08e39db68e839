// owl perplexity (tools/perplexity.h): chunks evaluated from an empty cache, the second half of
// each scored, and the KL base file written or compared against.
#include "tools/perplexity.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <tuple>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/fp16.h"
#include "base/mapped_file.h"
#include "models/decoder.h"
#include "models/kv_cache.h"
#include "ops/elementwise.h"

namespace owl {

namespace {

constexpr char kMagic[8] = {'O', 'W', 'L', 'K', 'L', 'B', '0', '1'};
constexpr size_t kHeaderBytes = sizeof(kMagic) + 4 * sizeof(int64_t);

// Sums for a mean and its standard error.
struct MeanAccumulator {
  double sum = 0.0, sum2 = 0.0;
  int64_t n = 0;
  void add(double x) {
    sum += x;
    sum2 += x * x;
    ++n;
  }
  MeanWithError get() const {
    MeanWithError m;
    if (n == 0) return m;
    m.mean = sum / static_cast<double>(n);
    const double var = sum2 / static_cast<double>(n) - m.mean * m.mean;
    if (n > 1 && var > 0.0) m.error = std::sqrt(var / static_cast<double>(n - 1));
    return m;
  }
};

// log-softmax of one row of logits.
void log_probs(const float* logits, int64_t n, std::vector<float>& out) {
  out.resize(static_cast<size_t>(n));
  const ops::LogSoftmax ls = ops::log_softmax(logits, n);
  for (int64_t v = 0; v < n; ++v) out[static_cast<size_t>(v)] = static_cast<float>(ls.at(logits[v]));
}

// Evaluates chunks from an empty cache and hands out the logits rows that are scored.
class ChunkEvaluator {
 public:
  ChunkEvaluator(const Model& model, const PerplexityOptions& o, ThreadPool& pool)
      : decoder_(model, pool), cache_(model.spec(), o.n_ctx, o.kv_type), n_batch_(o.n_batch),
        n_vocab_(model.spec().n_vocab), first_(o.n_ctx / 2) {
    if (o.observer) decoder_.set_observer(o.observer);
  }

  // Rows first .. n_ctx-2 of the chunk's logits: row r predicts chunk token first + r + 1.
  const std::vector<float>& scored_logits(std::span<const int32_t> chunk) {
    cache_.clear();
    rows_.clear();
    const auto n = static_cast<int64_t>(chunk.size());
    for (int64_t b = 0; b < n; b += n_batch_) {
      const int64_t e = std::min(n, b + n_batch_);
      const std::span<const float> l = decoder_.eval(cache_, chunk.subspan(static_cast<size_t>(b), static_cast<size_t>(e - b)), true);
      for (int64_t t = std::max(b, first_); t < std::min(e, n - 1); ++t) {
        const float* row = l.data() + (t - b) * n_vocab_;
        rows_.insert(rows_.end(), row, row + n_vocab_);
      }
    }
    return rows_;
  }

 private:
  Decoder decoder_;
  KvCache cache_;
  int64_t n_batch_;
  int64_t n_vocab_;
  int64_t first_;
  std::vector<float> rows_;
};

void check_options(const PerplexityOptions& o) {
  if (o.n_ctx < 4) fail("-c {}: a chunk needs at least 4 tokens", o.n_ctx);
  if (o.n_batch < 1) fail("-b {}: the batch must hold at least one token", o.n_batch);
  if (o.max_chunks < 0) fail("--chunks {}: must not be negative", o.max_chunks);
}

void finish_chunk(PerplexityReport& r, const MeanAccumulator& nll) {
  const MeanWithError m = nll.get();
  r.perplexity = std::exp(m.mean);
  r.error = r.perplexity * m.error;
  r.running.push_back(r.perplexity);
}

template <typename T>
void put(std::ostream& out, T value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof(T));
}

}  // namespace

std::vector<int32_t> perplexity_tokens(const Tokenizer& tok, const std::string& text, PerplexityOptions& o) {
  const bool bos = tok.add_bos_by_default() && tok.bos() >= 0;
  o.bos = bos ? tok.bos() : -1;
  return tok.encode(text, bos);
}

PerplexityReport perplexity(const Model& model, std::span<const int32_t> tokens, const PerplexityOptions& o,
                            ThreadPool& pool, const ChunkCallback& on_chunk, const std::string& save_base) {
  check_options(o);
  const int64_t available = static_cast<int64_t>(tokens.size()) / o.n_ctx;
  if (available == 0) {
    fail("the text has {} tokens, fewer than one chunk of {} (give more text or a smaller -c)", tokens.size(), o.n_ctx);
  }
  PerplexityReport r;
  r.n_ctx = o.n_ctx;
  r.n_chunks = o.max_chunks > 0 ? std::min(o.max_chunks, available) : available;
  r.scored_per_chunk = o.n_ctx - 1 - o.n_ctx / 2;
  const int64_t n_vocab = model.spec().n_vocab;
  const int64_t first = o.n_ctx / 2;
  ChunkEvaluator eval(model, o, pool);

  const auto run = [&](std::ostream* base) {
    std::vector<int32_t> all;  // every chunk as evaluated (for the base file)
    for (int64_t c = 0; c < r.n_chunks; ++c) {
      std::vector<int32_t> chunk(tokens.begin() + c * o.n_ctx, tokens.begin() + (c + 1) * o.n_ctx);
      if (o.bos >= 0) chunk[0] = o.bos;
      all.insert(all.end(), chunk.begin(), chunk.end());
    }
    if (base != nullptr) {
      base->write(kMagic, sizeof(kMagic));
      for (int64_t v : {n_vocab, o.n_ctx, r.n_chunks, static_cast<int64_t>(o.bos)}) put(*base, v);
      base->write(reinterpret_cast<const char*>(all.data()), static_cast<std::streamsize>(all.size() * sizeof(int32_t)));
    }
    MeanAccumulator nll;
    std::vector<float> lp;
    std::vector<uint16_t> half(static_cast<size_t>(n_vocab));
    for (int64_t c = 0; c < r.n_chunks; ++c) {
      const std::span<const int32_t> chunk(all.data() + c * o.n_ctx, static_cast<size_t>(o.n_ctx));
      const std::vector<float>& rows = eval.scored_logits(chunk);
      for (int64_t j = 0; j < r.scored_per_chunk; ++j) {
        log_probs(rows.data() + j * n_vocab, n_vocab, lp);
        nll.add(-static_cast<double>(lp[static_cast<size_t>(chunk[static_cast<size_t>(first + j + 1)])]));
        if (base != nullptr) {
          for (int64_t v = 0; v < n_vocab; ++v) half[static_cast<size_t>(v)] = fp32_to_fp16(lp[static_cast<size_t>(v)]);
          base->write(reinterpret_cast<const char*>(half.data()), static_cast<std::streamsize>(half.size() * 2));
        }
      }
      finish_chunk(r, nll);
      if (on_chunk) on_chunk(r);
    }
  };
  if (save_base.empty()) {
    run(nullptr);
  } else {
    atomic_write(save_base, [&](std::ostream& out) { run(&out); });
  }
  return r;
}

PerplexityReport perplexity_against_base(const Model& model, const std::string& base_path,
                                         const PerplexityOptions& options, ThreadPool& pool,
                                         const ChunkCallback& on_chunk) {
  const MappedFile file(base_path);
  const uint8_t* p = file.data();
  if (file.size() < kHeaderBytes || std::memcmp(p, kMagic, sizeof(kMagic)) != 0) {
    fail("{}: not a KL base file (write one with owl perplexity --kl-divergence-base)", base_path);
  }
  int64_t head[4];
  std::memcpy(head, p + sizeof(kMagic), sizeof(head));
  const auto [n_vocab, n_ctx, n_chunks, bos] = std::tuple{head[0], head[1], head[2], head[3]};
  if (n_vocab != model.spec().n_vocab) {
    fail("{}: saved with a vocabulary of {} tokens, this model has {}", base_path, n_vocab, model.spec().n_vocab);
  }
  if (n_ctx < 4 || n_ctx > (int64_t{1} << 24) || n_chunks < 1 || n_chunks > (int64_t{1} << 24) || bos < -1 || bos >= n_vocab) {
    fail("{}: malformed header", base_path);
  }
  const int64_t first = n_ctx / 2;
  const int64_t scored = n_ctx - 1 - first;
  const uint64_t token_bytes = static_cast<uint64_t>(n_chunks * n_ctx) * sizeof(int32_t);
  const uint64_t lp_bytes = static_cast<uint64_t>(n_chunks * scored) * static_cast<uint64_t>(n_vocab) * 2;
  if (file.size() != kHeaderBytes + token_bytes + lp_bytes) {
    fail("{}: {} bytes where its header implies {} (truncated or not a KL base file)", base_path, file.size(),
         kHeaderBytes + token_bytes + lp_bytes);
  }
  std::vector<int32_t> all(static_cast<size_t>(n_chunks * n_ctx));
  std::memcpy(all.data(), p + kHeaderBytes, token_bytes);
  for (int32_t t : all) {
    if (t < 0 || t >= n_vocab) fail("{}: token id {} outside the vocabulary", base_path, t);
  }
  const auto* saved = reinterpret_cast<const uint16_t*>(p + kHeaderBytes + token_bytes);

  PerplexityOptions o = options;
  o.n_ctx = n_ctx;
  o.max_chunks = 0;
  check_options(o);
  PerplexityReport r;
  r.n_ctx = n_ctx;
  r.n_chunks = n_chunks;
  r.scored_per_chunk = scored;
  ChunkEvaluator eval(model, o, pool);
  MeanAccumulator nll, base_nll, kl, same;
  std::vector<float> lp, base_lp(static_cast<size_t>(n_vocab));
  for (int64_t c = 0; c < n_chunks; ++c) {
    const std::span<const int32_t> chunk(all.data() + c * n_ctx, static_cast<size_t>(n_ctx));
    const std::vector<float>& rows = eval.scored_logits(chunk);
    for (int64_t j = 0; j < scored; ++j) {
      log_probs(rows.data() + j * n_vocab, n_vocab, lp);
      const uint16_t* h = saved + (c * scored + j) * n_vocab;
      double d = 0.0;
      for (int64_t v = 0; v < n_vocab; ++v) {
        const float b = fp16_to_fp32(h[v]);
        base_lp[static_cast<size_t>(v)] = b;
        d += std::exp(static_cast<double>(b)) * (static_cast<double>(b) - lp[static_cast<size_t>(v)]);
      }
      const auto next = static_cast<size_t>(chunk[static_cast<size_t>(first + j + 1)]);
      nll.add(-static_cast<double>(lp[next]));
      base_nll.add(-static_cast<double>(base_lp[next]));
      kl.add(d);
      same.add(ops::argmax(lp.data(), n_vocab) == ops::argmax(base_lp.data(), n_vocab) ? 1.0 : 0.0);
    }
    finish_chunk(r, nll);
    KlReport k;
    k.kl = kl.get();
    k.same_top = same.get();
    k.base_perplexity = std::exp(base_nll.get().mean);
    k.perplexity_ratio = r.perplexity / k.base_perplexity;
    r.kl = k;
    if (on_chunk) on_chunk(r);
  }
  return r;
}

}  // namespace owl
