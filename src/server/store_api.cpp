// Ollama's store routes over owl's store, for a server that serves it (owl serve without a model):
// /api/pull (NDJSON progress lines as Ollama sends them, or one {"status": "success"} with
// "stream": false; an error during a stream is an {"error": ...} line), /api/delete and /api/copy.
// A client that goes away stops its pull; what arrived stays for the next pull to resume.
#include <chrono>

#include "server/respond.h"
#include "server/routes.h"
#include "store/pull.h"

namespace owl::server {

namespace {

using Clock = std::chrono::steady_clock;

store::ModelStore& store_of(ServerContext& ctx) {
  store::ModelStore* s = ctx.pool.store();
  if (s == nullptr) throw HttpError(400, "this server serves the models it was started with, not the store (start owl serve without a model)");
  return *s;
}

std::string name_field(const Fields& f, const char* alternative) {
  auto name = f.string("model");
  if (!name || name->empty()) name = f.string(alternative);
  if (!name || name->empty()) bad_request("'model' is required", "model");
  return *name;
}

store::ModelName parse_name(const std::string& text) {
  try {
    return store::parse_model_name(text);
  } catch (const Error& e) {
    throw HttpError(400, e.what(), "model");
  }
}

Json progress_json(const store::PullProgress& p) {
  Json j{{"status", p.status}};
  if (!p.digest.empty()) j["digest"] = p.digest;
  if (p.total > 0) {
    j["total"] = p.total;
    j["completed"] = p.completed;
  }
  return j;
}

// The client left: the pull stops at its next progress report.
struct ClientGone {};

void pull_streaming(store::ModelStore& s, const std::string& name, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("application/x-ndjson", [&s, name](size_t, httplib::DataSink& sink) {
    const auto send = [&](const Json& j) {
      const std::string line = dump_json(j) + "\n";
      if (!sink.write(line.data(), line.size())) throw ClientGone{};
    };
    // httplib calls this outside its own exception handling: nothing may escape.
    try {
      store::PullOptions o = store::PullOptions::from_environment();
      std::string last_status;
      auto last_sent = Clock::now();
      o.progress = [&](const store::PullProgress& p) {
        // Byte counts at most ten times a second; every change of step at once.
        const bool same_step = p.status == last_status;
        if (same_step && p.completed < p.total && Clock::now() - last_sent < std::chrono::milliseconds(100)) return;
        last_status = p.status;
        last_sent = Clock::now();
        send(progress_json(p));
      };
      try {
        store::pull(s, name, o);
      } catch (const ClientGone&) {
        throw;
      } catch (const std::exception& e) {
        send(Json{{"error", e.what()}});
      }
      sink.done();
      return true;
    } catch (...) {
      return false;
    }
  });
}

}  // namespace

void add_store_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/api/pull", guarded(Dialect::ollama, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const Fields f(body);
    const std::string name = name_field(f, "name");
    f.boolean("insecure");  // checked; plain http is used only for loopback registries either way
    store::ModelStore& s = store_of(ctx);
    parse_name(name);
    if (f.boolean("stream").value_or(true)) return pull_streaming(s, name, res);
    try {
      store::pull(s, name, store::PullOptions::from_environment());
    } catch (const Error& e) {
      throw HttpError(500, e.what());  // as Ollama answers a pull that failed
    }
    send_json(res, Json{{"status", "success"}});
  }));

  http.Delete("/api/delete", guarded(Dialect::ollama, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const std::string text = name_field(Fields(body), "name");
    store::ModelStore& s = store_of(ctx);
    const store::ModelName name = parse_name(text);
    if (!s.manifest(name)) throw HttpError(404, fmt::format("model '{}' not found", text), "model", "model_not_found");
    ctx.pool.unload(name.str());
    s.remove(name);
    send_json(res, Json::object());
  }));

  http.Post("/api/copy", guarded(Dialect::ollama, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const Json body = parse_body(req.body);
    const Fields f(body);
    const auto source = f.string("source"), destination = f.string("destination");
    if (!source || source->empty()) bad_request("'source' is required", "source");
    if (!destination || destination->empty()) bad_request("'destination' is required", "destination");
    store::ModelStore& s = store_of(ctx);
    const store::ModelName from = parse_name(*source), to = parse_name(*destination);
    if (!s.manifest(from)) throw HttpError(404, fmt::format("model '{}' not found", *source), "source", "model_not_found");
    s.copy(from, to);
    send_json(res, Json::object());
  }));
}

}  // namespace owl::server
