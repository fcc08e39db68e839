// Models the model tests share: stories260K converted from its llama2.c checkpoint (cached per
// test process and type) and greedy generation through the library.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "engine/generator.h"
#include "fixtures.h"
#include "models/decoder.h"
#include "test_files.h"
#include "tools/llama2c_import.h"

inline std::filesystem::path stories260k_gguf(const std::filesystem::path& fixtures, owl::DType type) {
  const auto out = test_scratch_dir() / ("stories260K-" + std::string(owl::dtype_name(type)) + ".gguf");
  if (!std::filesystem::exists(out)) {
    const auto dir = fixtures / "llama2c-stories260K";
    owl::import_llama2c({(dir / "stories260K.bin").string(), (dir / "tok512.bin").string(), out.string(), type, 2});
  }
  return out;
}

// llama2.c semantics: the prompt is forced, then greedy tokens until `steps` positions.
inline std::vector<int32_t> greedy_steps(const owl::Model& model, const std::vector<int32_t>& prompt, int64_t steps,
                                         int threads) {
  owl::ThreadPool pool(threads);
  owl::Decoder decoder(model, pool);
  owl::KvCache cache(model.spec(), steps + 1);
  owl::SamplingParams sp;
  sp.temperature = 0;
  owl::Sampler sampler(sp);
  owl::GenerateOptions go;
  go.n_predict = steps - static_cast<int64_t>(prompt.size()) + 1;
  go.stop_tokens = {1};  // llama2.c stops when BOS is produced
  std::vector<int32_t> out(prompt.begin() + 1, prompt.end());
  owl::generate(decoder, cache, sampler, prompt, go, [&](int32_t id) {
    out.push_back(id);
    return true;
  });
  return out;
}
