// The logits of every position of a few tokens, for comparing a model read from the store with the
// files it came from (bit for bit: the same bytes must give the same numbers).
#pragma once

#include <string>
#include <vector>

#include "models/decoder.h"
#include "models/model.h"

inline std::vector<float> logits_of(const std::string& model_path) {
  const auto model = owl::Model::load(model_path);
  owl::ThreadPool pool(2);
  owl::Decoder decoder(*model, pool);
  owl::KvCache cache(model->spec(), 8, owl::DType::f32);
  const std::vector<int32_t> ids = {1, 7, 42, 3};
  const auto logits = decoder.eval(cache, ids, true);
  return {logits.begin(), logits.end()};
}
