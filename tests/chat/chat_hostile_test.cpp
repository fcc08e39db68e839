// Untrusted templates: infinite macro recursion, loops nesting to 1e9 iterations and strings that
// would grow to gigabytes must stop with an owl::Error (TemplateError, kind budget or security)
// under the default RenderLimits. The CPU-time bound only catches a budget that never triggers
// (these would run for hours); it is far above the ~0.5 s they take, so a loaded machine passes.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "chat/template.h"

namespace {

using owl::chat::ErrorKind;

constexpr double kMaxCpuSeconds = 20.0;

struct Outcome {
  bool threw_owl_error = false;
  ErrorKind kind = ErrorKind::runtime;
  std::string what;
  double cpu_seconds = 0;
};

Outcome run_hostile(const std::string& src) {
  Outcome o;
  const std::clock_t start = std::clock();
  try {
    owl::chat::Template t(src, "hostile");
    t.render(nlohmann::ordered_json::object());
  } catch (const owl::chat::TemplateError& e) {
    o.threw_owl_error = true;
    o.kind = e.kind();
    o.what = e.what();
  }
  o.cpu_seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  return o;
}

void expect_stopped(const std::string& src) {
  const Outcome o = run_hostile(src);
  std::printf("  %.3f s CPU: %.60s\n", o.cpu_seconds, src.c_str());
  EXPECT_TRUE(o.threw_owl_error) << src;
  EXPECT_LT(o.cpu_seconds, kMaxCpuSeconds) << src << " took " << o.cpu_seconds << " s of CPU";
  EXPECT_TRUE(o.kind == ErrorKind::budget || o.kind == ErrorKind::security) << o.what;
}

TEST(ChatHostile, InfiniteMacroRecursionStops) {
  expect_stopped("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  expect_stopped("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}x{{ a() }}{% endmacro %}{{ a() }}");
  expect_stopped("{% macro f() %}{% call f() %}{{ caller() }}{% endcall %}{% endmacro %}{{ f() }}");
}

TEST(ChatHostile, BillionIterationLoopsStop) {
  expect_stopped(
      "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
      "{% endfor %}{% endfor %}{% endfor %}");
  expect_stopped(
      "{% set ns = namespace(n=0) %}{% for a in range(100000) %}{% for b in range(100000) %}"
      "{% set ns.n = ns.n + 1 %}{% endfor %}{% endfor %}{{ ns.n }}");
  expect_stopped("{% for i in range(1000000000) %}x{% endfor %}");
}

TEST(ChatHostile, GiantStringsStop) {
  expect_stopped("{{ 'x' * 4000000000 }}");
  expect_stopped("{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}");
  expect_stopped("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}");
  expect_stopped("{% for i in range(100000) %}{{ 'y' * 100000 }}{% endfor %}");
  expect_stopped("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}");
  expect_stopped("{% set ns = namespace(l=[1, 2]) %}{% for i in range(64) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}");
  expect_stopped("{{ '{:>999999999999}'.format('x') }}");
  expect_stopped("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s.replace('x', 'xx') %}{% endfor %}");
}

TEST(ChatHostile, DeepNestingStops) {
  // Deep data built at run time: printing and comparing it must not overflow the stack.
  const Outcome o = run_hostile(
      "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l }}");
  EXPECT_TRUE(o.threw_owl_error);
  EXPECT_LT(o.cpu_seconds, kMaxCpuSeconds);
  const Outcome p = run_hostile(std::string(2000, '[') + std::string(2000, ']'));  // plain text: fine
  EXPECT_FALSE(p.threw_owl_error);
  const Outcome q = run_hostile("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}");
  EXPECT_TRUE(q.threw_owl_error);
  EXPECT_EQ(q.kind, ErrorKind::syntax);
}

}  // namespace
