// Perplexity as llama-perplexity computes it, so the numbers compare with the ones people quote:
// the text's tokens cut into chunks of n_ctx, each evaluated from an empty cache (its first token
// replaced by BOS when the model takes one), and only the second half of each chunk scored, so that
// every scored token has at least n_ctx/2 tokens of context. The estimate's error is the standard
// error of the mean log-likelihood, carried through exp.
//
// KL divergence (how people judge a quantization): a run can save the base model's log-probabilities
// of every scored position (a "KL base" file, float16 values); a later run of another model on the
// same tokens, read from that file, compares against them: mean KL(base || model), how often both
// rank the same token first, and the perplexity ratio.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "models/decoder.h"
#include "models/model.h"
#include "tensor/dtype.h"
#include "tokenizer/tokenizer.h"

namespace owl {

struct PerplexityOptions {
  int64_t n_ctx = 512;
  int64_t max_chunks = 0;  // 0: every whole chunk of the text
  int64_t n_batch = 512;   // tokens per evaluation (the numbers do not depend on it)
  DType kv_type = DType::f16;
  int32_t bos = -1;  // put in front of every chunk when >= 0
  ActivationObserver observer;  // sees every evaluation's activations (owl imatrix), when set
};

struct MeanWithError {
  double mean = 0.0;
  double error = 0.0;  // standard error of the mean
};

struct KlReport {
  MeanWithError kl;          // nats per token
  MeanWithError same_top;    // share of positions where both models' most likely token is the same
  double base_perplexity = 0.0;
  double perplexity_ratio = 0.0;  // this model's over the base's
};

struct PerplexityReport {
  int64_t n_ctx = 0;
  int64_t n_chunks = 0;
  int64_t scored_per_chunk = 0;
  double perplexity = 0.0;
  double error = 0.0;            // of the perplexity
  std::vector<double> running;   // the estimate after each chunk
  std::optional<KlReport> kl;
};

// The text's tokens as llama-perplexity takes them: BOS first when the vocabulary adds one, and that
// BOS put in options.bos as what every chunk starts with.
std::vector<int32_t> perplexity_tokens(const Tokenizer& tokenizer, const std::string& text, PerplexityOptions& options);

// Called after each chunk with the report so far (running estimate and, with a base, KL so far).
using ChunkCallback = std::function<void(const PerplexityReport&)>;

// Perplexity of `tokens` (owl::Error when they do not make one chunk of n_ctx). With save_base, also
// writes the KL base file there (atomically: a run that fails leaves nothing).
PerplexityReport perplexity(const Model& model, std::span<const int32_t> tokens, const PerplexityOptions& options,
                            ThreadPool& pool, const ChunkCallback& on_chunk, const std::string& save_base = "");

// The same tokens and chunking as the run that wrote `base_path`, scored with this model and compared
// with the saved log-probabilities (owl::Error for a malformed file or another vocabulary size).
PerplexityReport perplexity_against_base(const Model& model, const std::string& base_path,
                                         const PerplexityOptions& options, ThreadPool& pool,
                                         const ChunkCallback& on_chunk);

}  // namespace owl
