// Request fields that both APIs turn into engine parameters: sampling (OpenAI's names, Ollama's
// options), logit_bias, token lists and embedding inputs, each range-checked (400 naming the field).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/loaded_model.h"
#include "sampling/sampler.h"
#include "server/json_body.h"

namespace owl::server {

// temperature, top_p, seed, presence_penalty, frequency_penalty (+ top_k, min_p, repeat_penalty as
// llama-server accepts them). Defaults are the API's: temperature 1, top_p 1, no top-k or min-p.
SamplingParams openai_sampling(const Fields& f);
// Ollama's options object (absent: owl run's defaults).
SamplingParams ollama_sampling(const Json* options);
// {"token id": bias in [-100, 100]}.
std::vector<std::pair<int32_t, float>> logit_bias(const Fields& f);
// A list of token ids in [0, n_vocab).
std::vector<int32_t> token_list(const Json& v, const char* field, int64_t n_vocab);
// A string, a list of strings, a token list or a list of token lists: one token sequence each.
std::vector<std::vector<int32_t>> embedding_inputs(const Fields& f, const char* field, const LoadedModel& model);
// llama-server's per-request adapters, "lora": [{"id": N, "scale": S}, ...]: one scale per adapter
// the model was loaded with (--lora), those not listed (or listed without a scale) at 0, as
// llama-server does; empty when the field is absent (the load-time scales). 400 for an id the
// model does not have.
std::vector<float> lora_scales(const Fields& f, const LoadedModel& model);
// "stop": a string or at most 16 strings of at most 1 KiB (the scheduler matches them every token).
std::vector<std::string> stop_strings(const Fields& f);
// A seed for requests that give none.
uint64_t random_seed();

}  // namespace owl::server
