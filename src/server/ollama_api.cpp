// Ollama's API (github.com/ollama/ollama docs/api.md) as its clients use it: generate and chat
// (NDJSON streaming by default, one object with "stream": false; the last object carries done_reason
// and the timings in nanoseconds), keep_alive (a duration, seconds, negative = forever, 0 = unload),
// an empty prompt or message list that only loads (or unloads) the model, tags, show, ps, embed and
// the legacy embeddings, version. Defaults for sampling are owl run's.
#include <algorithm>
#include <cctype>
#include <cmath>

#include <optional>

#include "server/generation.h"
#include "server/model_card.h"
#include "server/respond.h"
#include "server/routes.h"
#include "server/sampling_fields.h"
#include "server/streaming.h"
#include "server/structured_output.h"
#include "server/tool_requests.h"

namespace owl::server {

namespace {

using std::chrono::seconds;

int64_t nanos(double s) { return static_cast<int64_t>(s * 1e9); }

// Go's time.ParseDuration subset Ollama accepts ("5m", "1h30m", "300ms", "-1s"), a bare number of
// seconds as a string or a JSON number. Negative means forever.
std::optional<seconds> keep_alive(const Fields& f) {
  const Json* v = f.raw("keep_alive");
  if (v == nullptr) return std::nullopt;
  if (v->is_number()) {
    const double s = v->get<double>();
    if (!std::isfinite(s)) bad_request("'keep_alive' must be a duration", "keep_alive");
    return s < 0 ? seconds(-1) : seconds(static_cast<int64_t>(std::min(s, 1e9)));
  }
  if (!v->is_string()) bad_request("'keep_alive' must be a duration such as \"5m\" or a number of seconds", "keep_alive");
  const std::string text = v->get<std::string>();
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  double total = 0;
  bool any = false;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i) bad_request(fmt::format("'keep_alive' is not a duration: '{}'", text), "keep_alive");
    const std::string number = text.substr(i, j - i);
    if (std::count(number.begin(), number.end(), '.') > 1 || number == ".") {
      bad_request(fmt::format("'keep_alive' is not a duration: '{}'", text), "keep_alive");
    }
    const double n = std::stod(number);
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string unit = text.substr(j, k - j);
    double scale = 0;
    if (unit == "h") scale = 3600;
    else if (unit == "m") scale = 60;
    else if (unit == "s" || unit.empty()) scale = 1;
    else if (unit == "ms") scale = 1e-3;
    else if (unit == "us" || unit == "µs") scale = 1e-6;
    else if (unit == "ns") scale = 1e-9;
    else bad_request(fmt::format("'keep_alive' has an unknown unit '{}'", unit), "keep_alive");
    total += n * scale;
    any = true;
    i = k;
  }
  if (!any) bad_request("'keep_alive' is empty", "keep_alive");
  if (negative && total > 0) return seconds(-1);
  // Whole seconds, rounded up: "300ms" keeps the model a moment, it does not mean "unload now".
  return seconds(static_cast<int64_t>(std::ceil(std::min(total, 1e9))));
}

// A file's stem gets Ollama's ":latest"; a stored model's name has its tag.
std::string display_name(const ModelEntry& e) { return e.source.empty() ? e.name + ":latest" : e.name; }

struct OllamaCall {
  CompletionRequest request;
  bool stream = true;
  std::optional<seconds> keep;
  std::string model;
  RequestGrammar grammar;  // from "format" ("json" or a schema); null: none
  ToolRequest tools;    // chat: tools
};

OllamaCall parse_call(const Fields& f) {
  OllamaCall c;
  const auto model = f.string("model");
  if (!model || model->empty()) bad_request("'model' is required", "model");
  c.model = *model;
  c.stream = f.boolean("stream").value_or(true);
  c.keep = keep_alive(f);
  const Json* options = f.object("options");
  c.request.sampling = ollama_sampling(options);
  c.grammar = ollama_grammar(f);
  if (options != nullptr) {
    const Fields o(*options, "options.");
    const int64_t n = o.integer("num_predict", -2, 1 << 30).value_or(-1);
    c.request.n_predict = n < 0 ? -1 : n;
    c.request.stop = stop_strings(o);
    o.integer("num_ctx", 0, 1 << 30);  // checked; each slot's context is fixed by owl serve -c
  }
  return c;
}

// The final object of a generate or chat.
Json final_fields(const ChoiceResult& r, double load_seconds, std::chrono::steady_clock::time_point start) {
  const CompletionStats& s = r.stats;
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Json{{"done", true},
              {"done_reason", api_finish_reason(r.finish)},
              {"total_duration", nanos(total)},
              {"load_duration", nanos(load_seconds)},
              {"prompt_eval_count", s.n_prompt - s.n_reused},
              {"prompt_eval_duration", nanos(s.prompt_seconds)},
              {"eval_count", s.n_generated},
              {"eval_duration", nanos(s.generate_seconds)}};
}

class OllamaStream : public StreamWriter {
 public:
  using Finish = std::function<Json(const ChoiceResult&)>;
  OllamaStream(bool chat, std::string model, Finish finish, const Tokenizer& tok, const ToolRequest& tools)
      : chat_(chat), model_(std::move(model)), finish_(std::move(finish)), tok_(tok), tool_format_(tools.format) {
    if (chat && tools.parse_calls) calls_.emplace(tool_format_);
  }
  std::string event(int, JobEvent& ev) override {
    if (ev.kind == JobEvent::Kind::done) {
      if (ev.finish == FinishReason::error) return dump_json(Json{{"error", "generation failed: " + ev.error}}) + "\n";
      std::string out;
      if (calls_) {
        // The content still held back, then every call in one chunk (as Ollama sends them).
        const chat::ParsedReply parsed = calls_->finish();
        if (!parsed.content.empty()) out += piece(parsed.content);
        if (!parsed.calls.empty()) {
          Json j = piece("");
          j["message"]["tool_calls"] = ollama_tool_calls(parsed.calls);
          out += dump_json(j) + "\n";
        }
      }
      ChoiceResult r;
      r.finish = ev.finish;
      r.stats = std::move(ev.stats);
      r.text = std::move(text_);
      return out + dump_json(finish_(r)) + "\n";
    }
    const std::string text = calls_ ? calls_->feed(marked_text(tok_, ev, tool_format_)) : ev.text;
    if (text.empty()) return {};
    text_ += text;
    return dump_json(piece(text)) + "\n";
  }
  std::string end() override { return {}; }

 private:
  Json piece(const std::string& text) const {
    Json j{{"model", model_}, {"created_at", rfc3339(std::chrono::system_clock::now())}};
    if (chat_) j["message"] = {{"role", "assistant"}, {"content", text}};
    else j["response"] = text;
    j["done"] = false;
    return j;
  }

  bool chat_;
  std::string model_;
  Finish finish_;
  const Tokenizer& tok_;
  chat::ToolCallFormat tool_format_;
  std::optional<chat::ToolCallStream> calls_;  // when the reply may hold tool calls
  std::string text_;
};

// Runs a generate/chat call; `finish` builds the last object from the result.
void run_call(ServerContext& ctx, httplib::Response& res, const OllamaCall& call, std::shared_ptr<Resident> model,
              double load_seconds, bool chat, std::chrono::steady_clock::time_point start,
              const std::function<Json(Json, const ChoiceResult&)>& extra) {
  const std::string name = call.model;
  const Tokenizer& tok = model->model->tokenizer();
  auto gen = std::make_shared<Generation>(ctx.pool, std::move(model), call.request, 1);
  auto finish = [name, chat, load_seconds, start, extra](const ChoiceResult& r) {
    Json j{{"model", name}, {"created_at", rfc3339(std::chrono::system_clock::now())}};
    if (chat) j["message"] = {{"role", "assistant"}, {"content", ""}};
    else j["response"] = "";
    j.update(final_fields(r, load_seconds, start));
    return extra(std::move(j), r);
  };
  if (call.stream) {
    return stream_response(res, "application/x-ndjson", gen, std::make_shared<OllamaStream>(chat, name, finish, tok, call.tools));
  }
  const ChoiceResult r = gen->wait_all().front();
  Json j = finish(r);
  if (chat && call.tools.parse_calls) {
    const chat::ParsedReply parsed = parse_reply(tok, r.tokens, call.tools.format);
    j["message"]["content"] = parsed.content;
    if (!parsed.calls.empty()) j["message"]["tool_calls"] = ollama_tool_calls(parsed.calls);
  } else if (chat) {
    j["message"]["content"] = r.text;
  } else {
    j["response"] = r.text;
  }
  send_json(res, j);
}

// An empty generate/chat: load the model (or, with keep_alive 0, unload it, without loading it
// first when it is not resident: what `ollama stop` sends) and say so.
void load_only(ServerContext& ctx, httplib::Response& res, const OllamaCall& call, bool chat) {
  const bool unload = call.keep && call.keep->count() == 0;
  if (unload) {
    ctx.pool.find(call.model);  // 404 for an unknown name
    ctx.pool.unload(call.model);
  } else {
    ctx.pool.release(ctx.pool.acquire(call.model, call.keep));
  }
  Json j{{"model", call.model}, {"created_at", rfc3339(std::chrono::system_clock::now())}};
  if (chat) j["message"] = {{"role", "assistant"}, {"content", ""}};
  else j["response"] = "";
  j["done"] = true;
  j["done_reason"] = unload ? "unload" : "load";
  send_json(res, j);
}

std::string modified_at(const ModelEntry& e) { return rfc3339(e.modified); }

}  // namespace

void add_ollama_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/api/generate", guarded(Dialect::ollama, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    const Json body = parse_body(req.body);
    const Fields f(body);
    OllamaCall call = parse_call(f);
    const std::string prompt = f.string("prompt").value_or("");
    const std::string system = f.string("system").value_or("");
    const bool raw = f.boolean("raw").value_or(false);
    const Json* context = f.array("context");
    if (prompt.empty() && (context == nullptr || context->empty())) return load_only(ctx, res, call, false);
    ModelLease model(ctx.pool, ctx.pool.acquire(call.model, call.keep));
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const LoadedModel& m = *model->model;
    std::vector<int32_t> tokens;
    if (context != nullptr) tokens = token_list(*context, "context", m.spec().n_vocab);
    if (raw) {
      const std::vector<int32_t> p = tokens.empty() ? m.encode_prompt(prompt) : m.tokenizer().encode(prompt, false);
      tokens.insert(tokens.end(), p.begin(), p.end());
    } else {
      Json messages = Json::array();
      if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
      messages.push_back({{"role", "user"}, {"content", prompt}});
      const std::string text = m.render_chat(messages);
      const std::vector<int32_t> p = tokens.empty() ? m.encode_chat_text(text) : m.tokenizer().encode(text, false, true);
      tokens.insert(tokens.end(), p.begin(), p.end());
    }
    call.request.prompt = tokens;
    call.request.continues_prompt = raw;
    attach_grammar(call.request.sampling, call.grammar, m);
    run_call(ctx, res, call, model.hand_over(), load_seconds, false, start,
             [tokens](Json j, const ChoiceResult& r) {
               std::vector<int32_t> all = tokens;
               all.insert(all.end(), r.stats.generated.begin(), r.stats.generated.end());
               j["context"] = all;
               return j;
             });
  }));

  http.Post("/api/chat", guarded(Dialect::ollama, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    const Json body = parse_body(req.body);
    const Fields f(body);
    OllamaCall call = parse_call(f);
    const Json* messages = f.array("messages");
    if (messages == nullptr || messages->empty()) return load_only(ctx, res, call, true);
    call.tools = ollama_tool_request(f);
    ModelLease model(ctx.pool, ctx.pool.acquire(call.model, call.keep));
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const LoadedModel& m = *model->model;
    call.request.prompt = m.encode_chat(messages_for_template(*messages, m), call.tools.tools);
    prepare_tools(call.tools, call.request.sampling, call.grammar != nullptr, m);
    attach_grammar(call.request.sampling, call.grammar, m);
    run_call(ctx, res, call, model.hand_over(), load_seconds, true, start,
             [](Json j, const ChoiceResult&) { return j; });
  }));

  auto embed = [&ctx](const httplib::Request& req, httplib::Response& res, bool legacy) {
    const auto start = std::chrono::steady_clock::now();
    const Json body = parse_body(req.body);
    const Fields f(body);
    const auto name = f.string("model");
    if (!name || name->empty()) bad_request("'model' is required", "model");
    const auto keep = keep_alive(f);
    const bool truncate = f.boolean("truncate").value_or(true);
    const ModelLease model(ctx.pool, ctx.pool.acquire(*name, keep));
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<std::vector<int32_t>> inputs = embedding_inputs(f, legacy ? "prompt" : "input", *model->model);
    Json out = Json::array();
    int64_t count = 0;
    for (auto& tokens : inputs) {
      if (static_cast<int64_t>(tokens.size()) > model->n_ctx()) {
        if (!truncate) bad_request(fmt::format("the input has {} tokens, more than the context size {}", tokens.size(), model->n_ctx()));
        tokens.resize(static_cast<size_t>(model->n_ctx()));
      }
      count += static_cast<int64_t>(tokens.size());
      out.push_back(model->scheduler->embed(tokens));
    }
    if (legacy) return send_json(res, Json{{"embedding", out.front()}});
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    send_json(res, Json{{"model", *name},
                        {"embeddings", out},
                        {"total_duration", nanos(total)},
                        {"load_duration", nanos(load_seconds)},
                        {"prompt_eval_count", count}});
  };
  http.Post("/api/embed", guarded(Dialect::ollama, [embed](const httplib::Request& q, httplib::Response& r) { embed(q, r, false); }));
  http.Post("/api/embeddings", guarded(Dialect::ollama, [embed](const httplib::Request& q, httplib::Response& r) { embed(q, r, true); }));

  http.Get("/api/tags", guarded(Dialect::ollama, [&ctx](const httplib::Request&, httplib::Response& res) {
    Json models = Json::array();
    for (const ModelEntry& e : ctx.pool.available()) {
      const ModelCard& card = model_card(e);
      models.push_back({{"name", display_name(e)},
                        {"model", display_name(e)},
                        {"modified_at", modified_at(e)},
                        {"size", e.size},
                        {"digest", card.digest},
                        {"details", card.details}});
    }
    send_json(res, Json{{"models", models}});
  }));

  http.Post("/api/show", guarded(Dialect::ollama, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const Fields f(body);
    const auto name = f.string("model") ? f.string("model") : f.string("name");
    if (!name || name->empty()) bad_request("'model' is required", "model");
    const ModelEntry e = ctx.pool.find(*name);
    const ModelCard& card = model_card(e);
    send_json(res, Json{{"license", card.license},
                        {"modelfile", fmt::format("# served by owl from {}\nFROM {}\n", e.path, e.path)},
                        {"parameters", card.parameters},
                        {"system", card.system},
                        {"template", card.template_source},
                        {"details", card.details},
                        {"model_info", card.model_info},
                        {"modified_at", modified_at(e)},
                        {"capabilities", Json::array({"completion", "embedding"})}});
  }));

  http.Get("/api/ps", guarded(Dialect::ollama, [&ctx](const httplib::Request&, httplib::Response& res) {
    Json models = Json::array();
    for (const auto& r : ctx.pool.resident()) {
      const ModelCard& card = model_card(r->entry);
      const auto far = std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 100);
      const auto expires = ctx.pool.expires_at(*r).value_or(far);
      const uint64_t kv = r->scheduler->metrics().kv_cache_bytes;
      models.push_back({{"name", display_name(r->entry)},
                        {"model", display_name(r->entry)},
                        {"size", r->entry.size + kv},
                        {"digest", card.digest},
                        {"details", card.details},
                        {"expires_at", rfc3339(expires)},
                        {"size_vram", 0},
                        {"context_length", r->n_ctx()}});
    }
    send_json(res, Json{{"models", models}});
  }));

  http.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, Json{{"version", "0.1.0"}});
  });
}

}  // namespace owl::server
