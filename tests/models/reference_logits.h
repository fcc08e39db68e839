// Reference-logit cases of the fixtures (archs/, hf-archs/, mlx-archs/: a ref.json listing token
// sequences, raw float32 logits files and 32 greedy tokens) and the measures tests compare them by.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "models/decoder.h"
#include "nmse.h"
#include "test_files.h"

struct RefCase {
  std::vector<int32_t> tokens;
  std::vector<float> logits;  // (tokens, n_vocab)
  std::vector<int32_t> greedy;
};

// The cases of a ref.json; logits files are named relative to its folder.
inline std::vector<RefCase> load_ref_cases(const std::filesystem::path& ref_json) {
  std::ifstream in(ref_json);
  const auto j = nlohmann::json::parse(in);
  std::vector<RefCase> out;
  for (const auto& c : j["cases"]) {
    RefCase r;
    r.tokens = c["tokens"].get<std::vector<int32_t>>();
    r.greedy = c["greedy_next_32"].get<std::vector<int32_t>>();
    const std::string bytes = read_file(ref_json.parent_path() / c["logits_file"].get<std::string>());
    r.logits.resize(bytes.size() / sizeof(float));
    std::memcpy(r.logits.data(), bytes.data(), r.logits.size() * sizeof(float));
    out.push_back(std::move(r));
  }
  return out;
}

inline int32_t argmax(const float* x, int64_t n) { return static_cast<int32_t>(std::max_element(x, x + n) - x); }

// Logits of every position of one sequence evaluated as one batch.
inline std::vector<float> prefill(const owl::Model& m, const std::vector<int32_t>& tokens, int threads = 2) {
  owl::ThreadPool pool(threads);
  owl::Decoder decoder(m, pool);
  owl::KvCache cache(m.spec(), 256);
  const auto l = decoder.eval(cache, tokens, true);
  return {l.begin(), l.end()};
}

// 32 greedy tokens decoded one at a time after the prompt.
inline std::vector<int32_t> greedy_32(const owl::Model& m, const std::vector<int32_t>& prompt) {
  const int64_t V = m.spec().n_vocab;
  owl::ThreadPool pool(2);
  owl::Decoder decoder(m, pool);
  owl::KvCache cache(m.spec(), 256);
  auto logits = decoder.eval(cache, prompt, false);
  std::vector<int32_t> out;
  for (int i = 0; i < 32; ++i) {
    out.push_back(argmax(logits.data(), V));
    const int32_t next[1] = {out.back()};
    logits = decoder.eval(cache, next, false);
  }
  return out;
}

// Every position of every case within NMSE 1e-5 of the reference with the same argmax, and the
// same 32 greedy tokens (gtest expectations naming `label`); returns the worst NMSE seen.
inline double expect_matches_reference(const owl::Model& m, const std::vector<RefCase>& cases, const std::string& label) {
  const int64_t V = m.spec().n_vocab;
  double worst = 0;
  for (const RefCase& c : cases) {
    const auto n = static_cast<int64_t>(c.tokens.size());
    if (static_cast<int64_t>(c.logits.size()) != n * V) {
      ADD_FAILURE() << label << ": reference logits for " << n << " x " << V;
      continue;
    }
    const auto got = prefill(m, c.tokens);
    for (int64_t p = 0; p < n; ++p) {
      const double e = nmse(got.data() + p * V, c.logits.data() + p * V, V);
      worst = std::max(worst, e);
      EXPECT_LE(e, 1e-5) << label << " position " << p;
      EXPECT_EQ(argmax(got.data() + p * V, V), argmax(c.logits.data() + p * V, V)) << label << " position " << p;
    }
    EXPECT_EQ(greedy_32(m, c.tokens), c.greedy) << label;
  }
  return worst;
}
