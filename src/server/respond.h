// What every route shares: JSON replies (invalid UTF-8 from a token piece replaced, never thrown),
// errors in each API's own shape, timestamps, and a wrapper that turns any exception of a handler
// into a 4xx/5xx answer so that the server keeps serving.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <string>

#include "server/http_error.h"
#include "server/json_body.h"

namespace owl::server {

enum class Dialect { openai, ollama };

std::string dump_json(const Json& j);
void send_json(httplib::Response& res, const Json& body, int status = 200);
// OpenAI: {"error": {"message", "type", "param", "code"}}; Ollama: {"error": "message"}.
Json error_body(const HttpError& e, Dialect dialect);
void send_error(httplib::Response& res, const HttpError& e, Dialect dialect);

int64_t unix_seconds();
std::string rfc3339(std::chrono::system_clock::time_point t);  // 2026-12-04T19:22:45.499127Z
std::string random_id(const char* prefix);                     // prefix + 24 random alphanumerics

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
// Runs h; HttpError, owl::Error (as 400) and anything else (500) become error replies.
Handler guarded(Dialect dialect, Handler h);

}  // namespace owl::server
