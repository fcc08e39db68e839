// Sampling and token fields of API requests (see sampling_fields.h).
#include "server/sampling_fields.h"

#include <random>

#include "server/http_error.h"

namespace owl::server {

uint64_t random_seed() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

SamplingParams openai_sampling(const Fields& f) {
  SamplingParams s;
  s.temperature = static_cast<float>(f.number("temperature", 0.0, 2.0).value_or(1.0));
  s.top_p = static_cast<float>(f.number("top_p", 0.0, 1.0).value_or(1.0));
  s.top_k = static_cast<int32_t>(f.integer("top_k", 0, 1 << 20).value_or(0));
  s.min_p = static_cast<float>(f.number("min_p", 0.0, 1.0).value_or(0.0));
  s.repeat_penalty = static_cast<float>(f.number("repeat_penalty", 0.01, 100.0).value_or(1.0));
  s.presence_penalty = static_cast<float>(f.number("presence_penalty", -2.0, 2.0).value_or(0.0));
  s.frequency_penalty = static_cast<float>(f.number("frequency_penalty", -2.0, 2.0).value_or(0.0));
  const auto seed = f.integer("seed", INT64_MIN, INT64_MAX);
  s.seed = seed ? static_cast<uint64_t>(*seed) : random_seed();
  return s;
}

SamplingParams ollama_sampling(const Json* options) {
  SamplingParams s;
  s.seed = random_seed();
  if (options == nullptr) return s;
  const Fields o(*options, "options.");
  s.temperature = static_cast<float>(o.number("temperature", 0.0, 100.0).value_or(s.temperature));
  s.top_k = static_cast<int32_t>(o.integer("top_k", 0, 1 << 20).value_or(s.top_k));
  s.top_p = static_cast<float>(o.number("top_p", 0.0, 1.0).value_or(s.top_p));
  s.min_p = static_cast<float>(o.number("min_p", 0.0, 1.0).value_or(s.min_p));
  s.repeat_penalty = static_cast<float>(o.number("repeat_penalty", 0.01, 100.0).value_or(s.repeat_penalty));
  s.penalty_last_n = static_cast<int32_t>(o.integer("repeat_last_n", -1, 1 << 20).value_or(s.penalty_last_n));
  s.presence_penalty = static_cast<float>(o.number("presence_penalty", -100.0, 100.0).value_or(0.0));
  s.frequency_penalty = static_cast<float>(o.number("frequency_penalty", -100.0, 100.0).value_or(0.0));
  if (const auto seed = o.integer("seed", INT64_MIN, INT64_MAX); seed && *seed >= 0) s.seed = static_cast<uint64_t>(*seed);
  return s;
}

std::vector<std::string> stop_strings(const Fields& f) {
  std::vector<std::string> stop = f.strings("stop", 16);
  for (const std::string& s : stop) {
    if (s.size() > 1024) bad_request(fmt::format("'{}' strings must be at most 1024 bytes", f.name("stop")), f.name("stop"));
  }
  return stop;
}

std::vector<float> lora_scales(const Fields& f, const LoadedModel& model) {
  const Json* list = f.array("lora");
  if (list == nullptr) return {};
  const size_t n = model.loras().size();
  std::vector<float> scales(n, 0.0f);
  std::vector<bool> seen(n, false);
  for (const Json& item : *list) {
    const std::string where = f.name("lora");
    if (!item.is_object()) bad_request(fmt::format("'{}' entries must be objects {{\"id\", \"scale\"}}", where), where);
    const Fields e(item, where + "[].");
    const auto id = e.integer("id", 0, INT32_MAX);
    if (!id) bad_request(fmt::format("'{}' entries need an 'id'", where), where);
    if (static_cast<size_t>(*id) >= n) {
      bad_request(fmt::format("'{}': the model has no adapter {} (it was loaded with {}; see GET /lora-adapters)", where,
                              *id, n), where);
    }
    if (seen[static_cast<size_t>(*id)]) bad_request(fmt::format("'{}' names adapter {} twice", where, *id), where);
    seen[static_cast<size_t>(*id)] = true;
    scales[static_cast<size_t>(*id)] = static_cast<float>(e.number("scale", -100.0, 100.0).value_or(0.0));
  }
  return scales;
}

std::vector<std::pair<int32_t, float>> logit_bias(const Fields& f) {
  std::vector<std::pair<int32_t, float>> out;
  const Json* b = f.object("logit_bias");
  if (b == nullptr) return out;
  if (b->size() > 1024) bad_request("'logit_bias' has more than 1024 entries", "logit_bias");
  for (const auto& [key, value] : b->items()) {
    int32_t id = -1;
    try {
      size_t used = 0;
      const long long v = std::stoll(key, &used);
      if (used == key.size() && v >= 0 && v <= INT32_MAX) id = static_cast<int32_t>(v);
    } catch (const std::exception&) {
    }
    if (id < 0) bad_request(fmt::format("'logit_bias' keys must be token ids, not '{}'", key), "logit_bias");
    if (!value.is_number() || value.get<double>() < -100 || value.get<double>() > 100) {
      bad_request("'logit_bias' values must be numbers between -100 and 100", "logit_bias");
    }
    out.emplace_back(id, static_cast<float>(value.get<double>()));
  }
  return out;
}

std::vector<int32_t> token_list(const Json& v, const char* field, int64_t n_vocab) {
  if (!v.is_array()) bad_request(fmt::format("'{}' must be a list of token ids", field), field);
  std::vector<int32_t> ids;
  for (const Json& t : v) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= n_vocab) {
      bad_request(fmt::format("'{}' holds something that is not a token id in [0, {})", field, n_vocab), field);
    }
    ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return ids;
}

std::vector<std::vector<int32_t>> embedding_inputs(const Fields& f, const char* field, const LoadedModel& model) {
  constexpr size_t kMaxInputs = 256;
  const Json* v = f.raw(field);
  if (v == nullptr) bad_request(fmt::format("'{}' is required", field), field);
  std::vector<std::vector<int32_t>> out;
  auto one = [&](const Json& x) {
    if (x.is_string()) out.push_back(model.encode_prompt(x.get<std::string>()));
    else out.push_back(token_list(x, field, model.spec().n_vocab));
    if (out.back().empty()) bad_request(fmt::format("'{}' holds an input with no tokens", field), field);
  };
  if (v->is_string() || (v->is_array() && !v->empty() && v->front().is_number())) {
    one(*v);  // one text, or one token list
  } else if (v->is_array()) {
    if (v->empty()) bad_request(fmt::format("'{}' must not be empty", field), field);
    if (v->size() > kMaxInputs) bad_request(fmt::format("'{}' has more than {} inputs", field, kMaxInputs), field);
    for (const Json& x : *v) {
      if (!x.is_string() && !x.is_array()) bad_request(fmt::format("'{}' must hold strings or token lists", field), field);
      one(x);
    }
  } else {
    bad_request(fmt::format("'{}' must be a string, a list of strings or token lists", field), field);
  }
  return out;
}

}  // namespace owl::server
