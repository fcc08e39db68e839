// The OpenAI API (platform.openai.com/docs/api-reference) as the official clients use it:
// chat completions and legacy completions (JSON or SSE: one id per stream, a first chunk with the
// role, content deltas, a finish chunk, an optional usage chunk, then [DONE]), embeddings (float or
// base64 little-endian float32) and the model list. Fields outside the API that llama-server also
// accepts (top_k, min_p, repeat_penalty, per-request "lora" scales, "grammar", "json_schema") are
// honoured; other unknown fields are ignored. response_format's json_object and json_schema are
// enforced by a grammar on the sampler.
#include <cstring>

#include "server/generation.h"
#include "server/respond.h"
#include "server/routes.h"
#include "server/sampling_fields.h"
#include "server/streaming.h"
#include "server/structured_output.h"
#include "server/tool_requests.h"

namespace owl::server {

namespace {

const char* const kFingerprint = "owl-0.1.0";

struct OpenAiCall {
  CompletionRequest request;
  int n = 1;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  RequestGrammar grammar;  // what the sampler follows (response_format, json_schema, grammar); null: none
  ToolRequest tools;    // chat completions: tools, tool_choice
};

// The fields chat and legacy completions share.
OpenAiCall parse_common(const Fields& f, const ServerOptions& options, bool legacy) {
  OpenAiCall c;
  CompletionRequest& r = c.request;
  r.sampling = openai_sampling(f);
  const auto max_tokens = f.integer("max_tokens", 0, 1 << 30);
  const auto max_completion = f.integer("max_completion_tokens", 0, 1 << 30);
  r.n_predict = max_completion ? *max_completion : max_tokens ? *max_tokens : (legacy ? 16 : -1);
  c.n = static_cast<int>(f.integer("n", 1, options.max_choices).value_or(1));
  r.stop = stop_strings(f);
  c.stream = f.boolean("stream").value_or(false);
  if (const Json* so = f.object("stream_options")) c.include_usage = Fields(*so, "stream_options.").boolean("include_usage").value_or(false);
  if (legacy) {
    if (const auto lp = f.integer("logprobs", 0, 20)) c.logprobs = true, r.top_logprobs = static_cast<int32_t>(*lp);
  } else {
    c.logprobs = f.boolean("logprobs").value_or(false);
    const auto top = f.integer("top_logprobs", 0, 20);
    if (top && !c.logprobs) bad_request("'top_logprobs' needs 'logprobs': true", "top_logprobs");
    if (c.logprobs) r.top_logprobs = static_cast<int32_t>(top.value_or(0));
  }
  r.logit_bias = logit_bias(f);
  r.stop_at_end = !f.boolean("ignore_eos").value_or(false);  // llama-server's extension, for benchmarks
  c.grammar = openai_grammar(f);
  return c;
}

Json usage_json(int64_t prompt, int64_t completion, int64_t cached) {
  return Json{{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion},
              {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

std::vector<int> bytes_of(const std::string& s) {
  std::vector<int> b;
  for (unsigned char c : s) b.push_back(c);
  return b;
}

// chat.completion's logprobs entry for one token.
Json chat_logprob(const Tokenizer& tok, const JobEvent& ev) {
  const std::string piece = tok.token_to_piece(ev.token);
  Json top = Json::array();
  for (const TokenLogprob& t : ev.top) {
    const std::string p = tok.token_to_piece(t.id);
    top.push_back({{"token", p}, {"logprob", t.logprob}, {"bytes", bytes_of(p)}});
  }
  return Json{{"token", piece}, {"logprob", ev.logprob}, {"bytes", bytes_of(piece)}, {"top_logprobs", top}};
}

// text_completion's logprobs: parallel lists.
Json legacy_logprobs(const Tokenizer& tok, const std::vector<JobEvent>& tokens, size_t text_start) {
  Json out{{"tokens", Json::array()}, {"token_logprobs", Json::array()}, {"top_logprobs", Json::array()},
           {"text_offset", Json::array()}};
  size_t offset = text_start;
  for (const JobEvent& ev : tokens) {
    const std::string piece = tok.token_to_piece(ev.token);
    out["tokens"].push_back(piece);
    out["token_logprobs"].push_back(ev.logprob);
    Json top = Json::object();
    for (const TokenLogprob& t : ev.top) top[tok.token_to_piece(t.id)] = t.logprob;
    out["top_logprobs"].push_back(top);
    out["text_offset"].push_back(offset);
    offset += ev.text.size();
  }
  return out;
}

Json timings_json(const CompletionStats& s) {
  return Json{{"cache_n", s.n_reused},
              {"prompt_n", s.n_prompt - s.n_reused},
              {"prompt_ms", s.prompt_seconds * 1e3},
              {"predicted_n", s.n_generated},
              {"predicted_ms", s.generate_seconds * 1e3}};
}

// SSE for chat.completion.chunk and text_completion streams.
class OpenAiStream : public StreamWriter {
 public:
  // echo: the prompt's text, sent first as each choice's own chunk (legacy completions' echo).
  OpenAiStream(bool chat, std::string model, const Tokenizer& tok, const OpenAiCall& call, std::string echo)
      : chat_(chat), id_(random_id(chat ? "chatcmpl-" : "cmpl-")), model_(std::move(model)), tok_(tok),
        n_(call.n), include_usage_(call.include_usage), logprobs_(call.logprobs), echo_(std::move(echo)),
        tool_format_(call.tools.format) {
    // Replies that may hold tool calls go through a stream that keeps call markup out of the content.
    if (chat && call.tools.parse_calls) calls_.assign(static_cast<size_t>(n_), chat::ToolCallStream(tool_format_));
  }

  std::string begin() override {
    std::string out;
    for (int i = 0; i < n_; ++i) {
      if (chat_) {
        out += chunk(Json::array({{{"index", i},
                                   {"delta", {{"role", "assistant"}, {"content", ""}}},
                                   {"logprobs", nullptr},
                                   {"finish_reason", nullptr}}}));
      } else if (!echo_.empty()) {
        JobEvent ev;
        ev.text = echo_;
        out += event(i, ev);
      }
    }
    return out;
  }

  std::string event(int i, JobEvent& ev) override {
    if (ev.kind == JobEvent::Kind::done) {
      if (ev.finish == FinishReason::error) {
        return "data: " + dump_json(error_body(HttpError(500, "generation failed: " + ev.error), Dialect::openai)) + "\n\n";
      }
      prompt_ = ev.stats.n_prompt;
      cached_ = ev.stats.n_reused;
      completion_ += ev.stats.n_generated;
      last_stats_ = ev.stats;
      std::string out;
      const char* finish = api_finish_reason(ev.finish);
      if (!calls_.empty()) out = tool_call_chunks(i, ev, finish);
      Json c{{"index", i}, {"logprobs", nullptr}, {"finish_reason", finish}};
      if (chat_) c["delta"] = Json::object();
      else c["text"] = "";
      return out + chunk(Json::array({c}));
    }
    const bool with_lp = logprobs_ && ev.token >= 0;
    const std::string text = calls_.empty() ? ev.text : calls_[static_cast<size_t>(i)].feed(marked_text(tok_, ev, tool_format_));
    if (text.empty() && !with_lp) return {};
    Json c{{"index", i}, {"finish_reason", nullptr}};
    if (chat_) {
      c["delta"] = {{"content", text}};
      c["logprobs"] = with_lp ? Json{{"content", Json::array({chat_logprob(tok_, ev)})}} : Json(nullptr);
    } else {
      c["text"] = ev.text;
      c["logprobs"] = with_lp ? legacy_logprobs(tok_, {ev}, 0) : Json(nullptr);
    }
    return chunk(Json::array({c}));
  }

  // At the end of a reply that may hold calls: the content still held back, then each call as
  // OpenAI streams it (the first fragment with index, id, type and name, then the arguments).
  // Sets finish to "tool_calls" when there are calls.
  std::string tool_call_chunks(int i, const JobEvent& ev, const char*& finish) {
    const chat::ParsedReply r = calls_[static_cast<size_t>(i)].finish();
    std::string out;
    auto delta = [&](Json d) {
      return chunk(Json::array({{{"index", i}, {"delta", std::move(d)}, {"logprobs", nullptr}, {"finish_reason", nullptr}}}));
    };
    if (!r.content.empty()) out += delta({{"content", r.content}});
    for (size_t k = 0; k < r.calls.size(); ++k) {
      const chat::ToolCall& call = r.calls[k];
      out += delta({{"tool_calls", Json::array({{{"index", k}, {"id", call.id}, {"type", "function"},
                                                 {"function", {{"name", call.name}, {"arguments", ""}}}}})}});
      out += delta({{"tool_calls", Json::array({{{"index", k}, {"function", {{"arguments", call.arguments}}}}})}});
    }
    if (!r.calls.empty() && ev.finish == FinishReason::stop) finish = "tool_calls";
    return out;
  }

  std::string end() override {
    std::string out;
    if (include_usage_) {
      Json usage = usage_json(prompt_, completion_, cached_);
      out += chunk(Json::array(), std::move(usage), timings_json(last_stats_));
    }
    return out + "data: [DONE]\n\n";
  }

 private:
  std::string chunk(Json choices, Json usage = nullptr, Json timings = nullptr) const {
    Json j{{"id", id_},
           {"object", chat_ ? "chat.completion.chunk" : "text_completion"},
           {"created", created_},
           {"model", model_},
           {"system_fingerprint", kFingerprint},
           {"choices", std::move(choices)}};
    if (!usage.is_null()) j["usage"] = std::move(usage);
    if (!timings.is_null()) j["timings"] = std::move(timings);  // llama-server's extension (the last choice's)
    return "data: " + dump_json(j) + "\n\n";
  }

  bool chat_;
  std::string id_;
  std::string model_;
  const Tokenizer& tok_;
  int n_;
  bool include_usage_;
  bool logprobs_;
  std::string echo_;
  chat::ToolCallFormat tool_format_;
  std::vector<chat::ToolCallStream> calls_;  // per choice, when replies are read for tool calls
  int64_t created_ = unix_seconds();
  int64_t prompt_ = 0, completion_ = 0, cached_ = 0;
  CompletionStats last_stats_;
};

void run_completion(ServerContext& ctx, httplib::Response& res, std::shared_ptr<Resident> model, const OpenAiCall& call,
                    bool chat, const std::string& echo) {
  const std::string name = model->entry.name;
  const Tokenizer& tok = model->model->tokenizer();
  auto gen = std::make_shared<Generation>(ctx.pool, std::move(model), call.request, call.n);
  if (call.stream) {
    auto writer = std::make_shared<OpenAiStream>(chat, name, tok, call, echo);
    return stream_response(res, "text/event-stream", gen, writer);
  }
  const std::vector<ChoiceResult> results = gen->wait_all();
  Json choices = Json::array();
  int64_t completion = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const ChoiceResult& r = results[i];
    completion += r.stats.n_generated;
    Json c{{"index", i}, {"finish_reason", api_finish_reason(r.finish)}};
    if (chat && call.tools.parse_calls) {
      const chat::ParsedReply parsed = parse_reply(tok, r.tokens, call.tools.format);
      c["message"] = {{"role", "assistant"}, {"content", parsed.content}, {"refusal", nullptr}};
      if (!parsed.calls.empty()) {
        if (parsed.content.empty()) c["message"]["content"] = nullptr;
        c["message"]["tool_calls"] = openai_tool_calls(parsed.calls);
        if (r.finish == FinishReason::stop) c["finish_reason"] = "tool_calls";
      }
    } else if (chat) {
      c["message"] = {{"role", "assistant"}, {"content", r.text}, {"refusal", nullptr}};
    } else {
      c["text"] = echo + r.text;
      c["logprobs"] = call.logprobs ? legacy_logprobs(tok, r.tokens, echo.size()) : Json(nullptr);
    }
    if (chat) {
      Json lp = nullptr;
      if (call.logprobs) {
        lp = Json{{"content", Json::array()}};
        for (const JobEvent& ev : r.tokens) lp["content"].push_back(chat_logprob(tok, ev));
      }
      c["logprobs"] = lp;
    }
    choices.push_back(std::move(c));
  }
  const CompletionStats& s = results.front().stats;
  send_json(res, Json{{"id", random_id(chat ? "chatcmpl-" : "cmpl-")},
                      {"object", chat ? "chat.completion" : "text_completion"},
                      {"created", unix_seconds()},
                      {"model", name},
                      {"system_fingerprint", kFingerprint},
                      {"choices", choices},
                      {"usage", usage_json(s.n_prompt, completion, s.n_reused)},
                      {"timings", timings_json(s)}});
}

// The token ids of a legacy prompt: a string, a list of one string, a token list or a list of one.
std::vector<int32_t> legacy_prompt(const Fields& f, const LoadedModel& m, std::string& text) {
  const Json* p = f.raw("prompt");
  if (p == nullptr) bad_request("'prompt' is required", "prompt");
  Json v = *p;
  if (v.is_array() && v.size() == 1 && (v[0].is_string() || v[0].is_array())) v = v[0];
  if (v.is_string()) {
    text = v.get<std::string>();
    return m.encode_prompt(text);
  }
  if (v.is_array()) return token_list(v, "prompt", m.spec().n_vocab);
  bad_request("'prompt' must be a string or a list of token ids (one prompt per request)", "prompt");
}

std::string base64_floats(const std::vector<float>& v) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + static_cast<size_t>(b)] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t x = 0;
    for (size_t k = 0; k < 3; ++k) x = (x << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(x >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

}  // namespace

void add_openai_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/v1/chat/completions", guarded(Dialect::openai, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const Fields f(body);
    const Json* messages = f.array("messages");
    if (messages == nullptr) bad_request("'messages' is required", "messages");
    if (messages->empty()) bad_request("'messages' must not be empty", "messages");
    OpenAiCall call = parse_common(f, ctx.options, false);
    call.tools = openai_tool_request(f);
    ModelLease model(ctx.pool, ctx.pool.acquire_requested(f.string("model")));
    const LoadedModel& m = *model->model;
    call.request.prompt = m.encode_chat(messages_for_template(*messages, m), call.tools.tools);
    call.request.lora_scales = lora_scales(f, m);
    prepare_tools(call.tools, call.request.sampling, call.grammar != nullptr, m);
    attach_grammar(call.request.sampling, call.grammar, m);
    run_completion(ctx, res, model.hand_over(), call, true, "");
  }));

  http.Post("/v1/completions", guarded(Dialect::openai, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const Fields f(body);
    OpenAiCall call = parse_common(f, ctx.options, true);
    const bool echo = f.boolean("echo").value_or(false);
    ModelLease model(ctx.pool, ctx.pool.acquire_requested(f.string("model")));
    std::string text;
    call.request.prompt = legacy_prompt(f, *model->model, text);
    call.request.continues_prompt = true;
    call.request.lora_scales = lora_scales(f, *model->model);
    attach_grammar(call.request.sampling, call.grammar, *model->model);
    if (echo && text.empty()) text = model->model->tokenizer().decode(call.request.prompt);
    run_completion(ctx, res, model.hand_over(), call, false, echo ? text : "");
  }));

  http.Post("/v1/embeddings", guarded(Dialect::openai, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const Fields f(body);
    const std::string format = f.string("encoding_format").value_or("float");
    if (format != "float" && format != "base64") bad_request("'encoding_format' must be 'float' or 'base64'", "encoding_format");
    const ModelLease model(ctx.pool, ctx.pool.acquire_requested(f.string("model")));
    const std::vector<std::vector<int32_t>> inputs = embedding_inputs(f, "input", *model->model);
    Json data = Json::array();
    int64_t tokens = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::vector<float> e = model->scheduler->embed(inputs[i]);
      tokens += static_cast<int64_t>(inputs[i].size());
      data.push_back({{"object", "embedding"},
                      {"index", i},
                      {"embedding", format == "base64" ? Json(base64_floats(e)) : Json(e)}});
    }
    send_json(res, Json{{"object", "list"},
                        {"data", data},
                        {"model", model->entry.name},
                        {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
  }));

  auto model_json = [](const ModelEntry& e) {
    return Json{{"id", e.name},
                {"object", "model"},
                {"created", std::chrono::duration_cast<std::chrono::seconds>(e.modified.time_since_epoch()).count()},
                {"owned_by", "owl"}};
  };
  http.Get("/v1/models", guarded(Dialect::openai, [&ctx, model_json](const httplib::Request&, httplib::Response& res) {
    Json data = Json::array();
    for (const ModelEntry& e : ctx.pool.available()) data.push_back(model_json(e));
    send_json(res, Json{{"object", "list"}, {"data", data}});
  }));
  http.Get(R"(/v1/models/(.+))", guarded(Dialect::openai, [&ctx, model_json](const httplib::Request& req, httplib::Response& res) {
    send_json(res, model_json(ctx.pool.find(req.matches[1].str())));
  }));
}

}  // namespace owl::server
