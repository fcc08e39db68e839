// owl bench-serve: drives a running OpenAI-compatible server (owl serve, llama-server, vLLM) with
// N concurrent streaming completions and reports what vLLM's serving benchmark reports: request
// throughput, output tokens/s, time to first token (TTFT), time per output token after the first
// (TPOT) and inter-token latency (ITL), each as mean, median and p99, at each concurrency.
// Prompts are random token ids (a distinct prompt per request, so no prefix is shared).
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "base/error.h"
#include "commands.h"

namespace owl::app {

namespace {

using SortedJson = nlohmann::json;  // (Json is ordered_json in the app files beside it)
using Clock = std::chrono::steady_clock;

struct BenchServeArgs {
  std::string url = "http://127.0.0.1:11435";
  std::string model;
  std::vector<int> concurrency = {1, 2, 4, 8, 16};
  int64_t n_predict = 64;
  int64_t n_prompt = 32;
  int requests = 0;  // per level; 0: 2 x concurrency, at least 4
  uint64_t seed = 1;
  bool json = false;
};

struct RequestResult {
  bool ok = false;
  std::string error;
  double ttft = 0;     // seconds to the first token
  double latency = 0;  // seconds to the end
  int64_t n_out = 0;
  std::vector<double> itl;  // gaps between tokens
};

struct Summary {
  double mean = 0, median = 0, p99 = 0;
};

Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  auto at = [&](double q) {
    const double pos = q * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<size_t>(pos);
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  };
  s.median = at(0.5);
  s.p99 = at(0.99);
  return s;
}

// host and port of an http:// URL.
std::pair<std::string, int> parse_url(const std::string& url) {
  std::string rest = url;
  if (rest.starts_with("http://")) rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos) fail("{}: only http:// URLs are supported", url);
  if (const size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, 80};
  return {rest.substr(0, colon), std::stoi(rest.substr(colon + 1))};
}

RequestResult run_one(const std::string& host, int port, const std::string& body) {
  RequestResult r;
  httplib::Client c(host, port);
  c.set_read_timeout(600, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body;
  req.set_header("Content-Type", "application/json");
  const auto t0 = Clock::now();
  auto last = t0;
  bool first = true;
  std::string buffer;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buffer.append(data, n);
    for (size_t end; (end = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, end + 2)) {
      const std::string event = buffer.substr(0, end);
      if (!event.starts_with("data: ") || event == "data: [DONE]") continue;
      const SortedJson j = SortedJson::parse(event.substr(6), nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("error")) r.error = j["error"].dump();
      if (j.contains("usage") && j["usage"].is_object()) r.n_out = j["usage"].value("completion_tokens", int64_t{0});
      if (!j.contains("choices") || j["choices"].empty()) continue;
      const SortedJson& choice = j["choices"][0];
      if (!choice.contains("text") || !choice["text"].is_string() || choice["text"].get<std::string>().empty()) continue;
      const auto now = Clock::now();
      if (first) r.ttft = std::chrono::duration<double>(now - t0).count(), first = false;
      else r.itl.push_back(std::chrono::duration<double>(now - last).count());
      last = now;
    }
    return true;
  };
  const auto res = c.send(req);
  r.latency = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!res) r.error = httplib::to_string(res.error());
  else if (res->status != 200) r.error = fmt::format("HTTP {}", res->status);
  r.ok = r.error.empty() && !first;
  return r;
}

SortedJson run_level(const BenchServeArgs& a, const std::string& host, int port, int concurrency, int64_t n_vocab,
               std::mt19937_64& rng) {
  const int n_requests = a.requests > 0 ? a.requests : std::max(4, 2 * concurrency);
  std::vector<std::string> bodies;
  std::uniform_int_distribution<int64_t> token(3, std::max<int64_t>(4, n_vocab - 1));
  for (int i = 0; i < n_requests; ++i) {
    std::vector<int64_t> prompt;
    for (int64_t k = 0; k < a.n_prompt; ++k) prompt.push_back(token(rng));
    bodies.push_back(SortedJson{{"model", a.model},
                          {"prompt", prompt},
                          {"max_tokens", a.n_predict},
                          {"temperature", 0},
                          {"ignore_eos", true},
                          {"stream", true},
                          {"stream_options", {{"include_usage", true}}}}
                         .dump());
  }
  std::vector<RequestResult> results(static_cast<size_t>(n_requests));
  std::mutex next_mutex;
  int next = 0;
  const auto t0 = Clock::now();
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(concurrency));
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&] {
      for (;;) {
        int i;
        {
          std::lock_guard lock(next_mutex);
          if (next >= n_requests) return;
          i = next++;
        }
        results[static_cast<size_t>(i)] = run_one(host, port, bodies[static_cast<size_t>(i)]);
      }
    });
  }
  for (auto& t : workers) t.join();
  const double duration = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> ttft, tpot, itl;
  int64_t out_tokens = 0;
  int failed = 0;
  std::string first_error;
  for (const RequestResult& r : results) {
    if (!r.ok) {
      if (failed++ == 0) first_error = r.error;
      continue;
    }
    ttft.push_back(r.ttft);
    out_tokens += r.n_out;
    if (r.n_out > 1) tpot.push_back((r.latency - r.ttft) / static_cast<double>(r.n_out - 1));
    itl.insert(itl.end(), r.itl.begin(), r.itl.end());
  }
  auto ms = [](const Summary& s) { return SortedJson{{"mean", s.mean * 1e3}, {"median", s.median * 1e3}, {"p99", s.p99 * 1e3}}; };
  SortedJson j{{"concurrency", concurrency},
         {"requests", n_requests},
         {"failed", failed},
         {"duration_s", duration},
         {"request_throughput", (n_requests - failed) / duration},
         {"output_tokens", out_tokens},
         {"output_tokens_per_s", static_cast<double>(out_tokens) / duration},
         {"ttft_ms", ms(summarize(ttft))},
         {"tpot_ms", ms(summarize(tpot))},
         {"itl_ms", ms(summarize(itl))}};
  if (failed > 0) j["first_error"] = first_error;
  return j;
}

void bench_serve(const BenchServeArgs& a0) {
  BenchServeArgs a = a0;
  const auto [host, port] = parse_url(a.url);
  httplib::Client c(host, port);
  c.set_read_timeout(600, 0);
  const auto models = c.Get("/v1/models");
  if (!models || models->status != 200) fail("{}: no OpenAI-compatible server answers there (GET /v1/models)", a.url);
  const SortedJson list = SortedJson::parse(models->body, nullptr, false);
  if (a.model.empty()) {
    if (list.is_discarded() || !list.contains("data") || list["data"].empty()) fail("{}: the server lists no model", a.url);
    a.model = list["data"][0].value("id", "");
  }
  // The vocabulary size bounds the random prompt ids (Ollama's /api/show; 1000 when not told).
  int64_t n_vocab = 1000;
  if (const auto show = c.Post("/api/show", SortedJson{{"model", a.model}}.dump(), "application/json"); show && show->status == 200) {
    const SortedJson j = SortedJson::parse(show->body, nullptr, false);
    if (!j.is_discarded() && j.contains("model_info")) {
      for (const auto& [k, v] : j["model_info"].items()) {
        if (k.ends_with(".vocab_size") && v.is_number_integer()) n_vocab = v.get<int64_t>();
      }
    }
  }
  // One request before timing anything, so that loading the model on first use is not measured.
  const auto warm = c.Post("/v1/completions", SortedJson{{"model", a.model}, {"prompt", "Hello"}, {"max_tokens", 1}}.dump(),
                           "application/json");
  if (!warm || warm->status != 200) fail("{}: the warm-up request failed ({})", a.url, warm ? warm->body : httplib::to_string(warm.error()));
  std::mt19937_64 rng(a.seed);
  SortedJson levels = SortedJson::array();
  if (!a.json) {
    std::printf("model %s at %s: prompts of %lld random tokens, %lld generated (greedy, end token ignored)\n\n",
                a.model.c_str(), a.url.c_str(), static_cast<long long>(a.n_prompt), static_cast<long long>(a.n_predict));
    std::printf("| concurrency | requests | req/s | output tok/s | TTFT mean / median / p99 (ms) | TPOT mean / median / p99 (ms) | ITL mean / median / p99 (ms) |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  }
  for (int level : a.concurrency) {
    const SortedJson j = run_level(a, host, port, level, n_vocab, rng);
    levels.push_back(j);
    if (a.json) continue;
    auto three = [&](const char* key) {
      return fmt::format("{:.0f} / {:.0f} / {:.0f}", j[key]["mean"].get<double>(), j[key]["median"].get<double>(),
                         j[key]["p99"].get<double>());
    };
    std::printf("| %d | %d%s | %.2f | %.1f | %s | %s | %s |\n", level, j["requests"].get<int>(),
                j["failed"].get<int>() > 0 ? fmt::format(" ({} failed)", j["failed"].get<int>()).c_str() : "",
                j["request_throughput"].get<double>(), j["output_tokens_per_s"].get<double>(), three("ttft_ms").c_str(),
                three("tpot_ms").c_str(), three("itl_ms").c_str());
    std::fflush(stdout);
    if (j["failed"].get<int>() > 0) std::fprintf(stderr, "first error: %s\n", j.value("first_error", "").c_str());
  }
  if (a.json) std::printf("%s\n", SortedJson{{"model", a.model}, {"prompt_tokens", a.n_prompt}, {"max_tokens", a.n_predict}, {"levels", levels}}.dump(2).c_str());
}

}  // namespace

void add_bench_serve(CLI::App& app) {
  auto a = std::make_shared<BenchServeArgs>();
  CLI::App* cmd = app.add_subcommand("bench-serve", "Measure a running server under concurrent streaming clients");
  cmd->add_option("--url", a->url, "Server base URL")->capture_default_str();
  cmd->add_option("--model", a->model, "Model id (default: the first the server lists)");
  cmd->add_option("--concurrency", a->concurrency, "Concurrent clients, one level each")->delimiter(',')->capture_default_str();
  cmd->add_option("-n,--n-predict", a->n_predict, "Tokens each request generates")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens of each request")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--requests", a->requests, "Requests per level (default: twice the concurrency, at least 4)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("-s,--seed", a->seed, "Seed of the random prompts")->capture_default_str();
  cmd->add_flag("--json", a->json, "JSON on stdout instead of the table");
  cmd->callback([a] { bench_serve(*a); });
}

}  // namespace owl::app
