// Operations routes as llama-server has them: /health, /metrics (Prometheus text exposition
// format), /tokenize, /detokenize and /lora-adapters.
#include "server/respond.h"
#include "server/routes.h"
#include "server/sampling_fields.h"

namespace owl::server {

void add_ops_routes(httplib::Server& http, ServerContext& ctx) {
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) { send_json(res, Json{{"status", "ok"}}); });

  http.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    SchedulerMetrics t;
    for (const auto& r : ctx.pool.resident()) {
      const SchedulerMetrics m = r->scheduler->metrics();
      t.requests += m.requests, t.prompt_tokens += m.prompt_tokens, t.prompt_seconds += m.prompt_seconds;
      t.generated_tokens += m.generated_tokens, t.generate_seconds += m.generate_seconds;
      t.running += m.running, t.queued += m.queued, t.kv_cells_used += m.kv_cells_used;
      t.kv_cells_total += m.kv_cells_total;
    }
    std::string out;
    auto metric = [&](const char* name, const char* type, const char* help, auto value) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
    };
    // Counters of the models resident now (an unloaded model's counts leave with it).
    metric("owl_prompt_tokens_total", "counter", "Prompt tokens evaluated.", t.prompt_tokens);
    metric("owl_prompt_seconds_total", "counter", "Seconds from a slot to the first token.", t.prompt_seconds);
    metric("owl_tokens_generated_total", "counter", "Tokens generated.", t.generated_tokens);
    metric("owl_generate_seconds_total", "counter", "Seconds spent generating.", t.generate_seconds);
    metric("owl_requests_total", "counter", "Requests finished.", t.requests);
    metric("owl_requests_processing", "gauge", "Requests in a slot.", t.running);
    metric("owl_requests_deferred", "gauge", "Requests waiting for a slot.", t.queued);
    metric("owl_kv_cache_cells_used", "gauge", "KV cache positions holding tokens.", t.kv_cells_used);
    metric("owl_kv_cache_cells", "gauge", "KV cache positions allocated.", t.kv_cells_total);
    metric("owl_models_loaded", "gauge", "Models resident.", ctx.pool.resident().size());
    res.set_content(out, "text/plain; version=0.0.4");
  });

  http.Post("/tokenize", guarded(Dialect::openai, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const Fields f(body);
    const std::string content = f.string("content").value_or("");
    const bool add_special = f.boolean("add_special").value_or(false);
    const bool with_pieces = f.boolean("with_pieces").value_or(false);
    const ModelLease model(ctx.pool, ctx.pool.acquire_requested(f.string("model")));
    const Tokenizer& tok = model->model->tokenizer();
    const std::vector<int32_t> ids = add_special ? tok.encode_with_specials(content, true) : tok.encode(content, false, true);
    Json tokens = Json::array();
    for (int32_t id : ids) {
      if (with_pieces) tokens.push_back({{"id", id}, {"piece", tok.token_to_piece(id)}});
      else tokens.push_back(id);
    }
    send_json(res, Json{{"tokens", tokens}});
  }));

  // The adapters a model was loaded with (--lora), by the id a request's "lora" list uses.
  http.Get("/lora-adapters", guarded(Dialect::openai, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const std::optional<std::string> name = req.has_param("model") ? std::optional(req.get_param_value("model")) : std::nullopt;
    const ModelLease model(ctx.pool, ctx.pool.acquire_requested(name));
    Json list = Json::array();
    const std::vector<LoraRequest>& loras = model->model->loras();
    for (size_t i = 0; i < loras.size(); ++i) list.push_back({{"id", i}, {"path", loras[i].path}, {"scale", loras[i].scale}});
    send_json(res, list);
  }));

  http.Post("/detokenize", guarded(Dialect::openai, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const Fields f(body);
    const ModelLease model(ctx.pool, ctx.pool.acquire_requested(f.string("model")));
    const Json* tokens = f.array("tokens");
    const std::vector<int32_t> ids =
        tokens != nullptr ? token_list(*tokens, "tokens", model->model->spec().n_vocab) : std::vector<int32_t>{};
    send_json(res, Json{{"content", model->model->tokenizer().decode(ids)}});
  }));
}

}  // namespace owl::server
