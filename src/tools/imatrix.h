// owl imatrix: an importance matrix computed as llama-imatrix computes it. The calibration text is cut
// into chunks as owl perplexity cuts it (tools/perplexity.h); while each chunk is evaluated, every
// matrix product's input rows are summed, squared, per column, under the weight's GGUF name (q, k and
// v share one input and get one entry each; the output projection only when asked, as llama-imatrix's
// --process-output). The perplexity of the same run comes with it.
#pragma once

#include <span>

#include "base/thread_pool.h"
#include "formats/imatrix_file.h"
#include "models/model.h"
#include "tools/perplexity.h"

namespace owl {

struct ImatrixOptions {
  PerplexityOptions chunks;     // n_ctx is the chunk size
  bool process_output = false;  // also the output projection (token_embd when tied)
};

struct ImatrixRun {
  Imatrix imatrix;
  PerplexityReport perplexity;
};

// on_chunk sees the perplexity so far after each chunk (with the imatrix summed so far).
ImatrixRun compute_imatrix(const Model& model, std::span<const int32_t> tokens, const ImatrixOptions& options,
                           ThreadPool& pool, const std::function<void(const PerplexityReport&, const Imatrix&)>& on_chunk);

}  // namespace owl
