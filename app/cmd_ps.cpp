// owl ps: the models a running owl serve has loaded, from its /api/ps (name, id, size, context,
// when each is unloaded). Talks to the server given by --host (default $OWL_HOST, else
// 127.0.0.1:11435) and nothing else.
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"
#include "base/human_units.h"
#include "commands.h"

namespace owl::app {

namespace {

struct PsArgs {
  std::string host;
  std::string api_key;
  bool json = false;
};

// "in 4 minutes", "forever" (a far-away expiry), "now".
std::string until(const std::string& rfc3339) {
  std::tm tm{};
  if (strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return rfc3339;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(at - std::chrono::system_clock::now()).count();
  if (s > 10LL * 365 * 86400) return "forever";
  if (s <= 0) return "now";
  if (s < 60) return fmt::format("in {} seconds", s);
  if (s < 3600) return fmt::format("in {} minutes", s / 60);
  return fmt::format("in {} hours", s / 3600);
}

void ps(const PsArgs& a) {
  std::string host = a.host;
  if (host.empty()) {
    const char* env = std::getenv("OWL_HOST");
    host = env != nullptr && *env != '\0' ? env : "127.0.0.1:11435";
  }
  if (host.starts_with("http://")) host = host.substr(7);
  while (host.ends_with("/")) host.pop_back();
  httplib::Client c("http://" + host);
  c.set_connection_timeout(5);
  c.set_read_timeout(30);
  httplib::Headers h;
  std::string key = a.api_key;
  if (const char* k = std::getenv("OWL_API_KEY"); key.empty() && k != nullptr) key = k;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  const httplib::Result r = c.Get("/api/ps", h);
  if (!r) fail("no owl serve at http://{} ({}); start one, or give --host", host, httplib::to_string(r.error()));
  if (r->status != 200) fail("http://{}/api/ps: HTTP {}: {}", host, r->status, r->body.substr(0, 200));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(r->body).at("models");
  } catch (const nlohmann::json::exception& e) {
    fail("http://{}/api/ps: not an owl or Ollama server's answer ({})", host, e.what());
  }
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%-40s %-14s %-10s %-10s %-9s %s\n", "NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL");
  for (const auto& m : j) {
    const std::string digest = m.value("digest", "");
    std::printf("%-40s %-14s %-10s %-10s %-9lld %s\n", m.value("name", "").c_str(), digest.substr(0, 12).c_str(),
                human_bytes(m.value("size", uint64_t{0})).c_str(), "100% CPU", static_cast<long long>(m.value("context_length", 0)),
                until(m.value("expires_at", "")).c_str());
  }
}

}  // namespace

void add_ps(CLI::App& app) {
  auto a = std::make_shared<PsArgs>();
  CLI::App* cmd = app.add_subcommand("ps", "The models a running owl serve has loaded");
  cmd->add_option("--host", a->host, "The server, HOST:PORT (default $OWL_HOST, else 127.0.0.1:11435)");
  cmd->add_option("--api-key", a->api_key, "The server's API key (default $OWL_API_KEY)");
  cmd->add_flag("--json", a->json, "The server's list as JSON");
  cmd->callback([a] { ps(*a); });
}

}  // namespace owl::app
