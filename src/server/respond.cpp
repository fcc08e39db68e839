// Shared reply helpers (see respond.h).
#include "server/respond.h"

#include <ctime>
#include <random>

namespace owl::server {

std::string dump_json(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void send_json(httplib::Response& res, const Json& body, int status) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

Json error_body(const HttpError& e, Dialect dialect) {
  if (dialect == Dialect::ollama) return Json{{"error", e.what()}};
  return Json{{"error",
               {{"message", e.what()},
                {"type", e.type()},
                {"param", e.param().empty() ? Json(nullptr) : Json(e.param())},
                {"code", e.code().empty() ? Json(nullptr) : Json(e.code())}}}};
}

void send_error(httplib::Response& res, const HttpError& e, Dialect dialect) {
  send_json(res, error_body(e, dialect), e.status());
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, static_cast<int>(us % 1000000));
}

std::string random_id(const char* prefix) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kChars[rng() % (sizeof kChars - 1)];
  return id;
}

Handler guarded(Dialect dialect, Handler h) {
  return [dialect, h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
    try {
      h(req, res);
    } catch (const HttpError& e) {
      send_error(res, e, dialect);
    } catch (const Error& e) {
      send_error(res, HttpError(400, e.what()), dialect);
    } catch (const std::bad_alloc&) {
      send_error(res, HttpError(500, "out of memory"), dialect);
    } catch (const std::exception& e) {
      send_error(res, HttpError(500, e.what()), dialect);
    }
  };
}

}  // namespace owl::server
