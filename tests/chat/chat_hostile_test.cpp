// Untrusted templates: infinite macro recursion, loops nesting to 1e9 iterations and strings that
// would grow to gigabytes must stop with an owl::Error (TemplateError, kind budget or security).
// Termination is asserted on the work budget, not on time: each runs under a small step budget
// and must stop by exceeding a budget (steps, bytes, depth), which is a count, whatever the
// machine's load. Data nested a million deep is freed without recursion.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chat/template.h"
#include "chat/value.h"

namespace {

using owl::chat::ErrorKind;

struct Outcome {
  bool threw_owl_error = false;
  ErrorKind kind = ErrorKind::runtime;
  std::string what;
};

// A budget a hundredth of the default: hostile templates hit it fast, real ones never come near.
owl::chat::RenderOptions small_budget() {
  owl::chat::RenderOptions o;
  o.limits.max_steps = 50'000;
  o.limits.max_output_bytes = 1u << 20;
  return o;
}

Outcome run_hostile(const std::string& src, const owl::chat::RenderOptions& options = small_budget()) {
  Outcome o;
  try {
    owl::chat::Template t(src, "hostile");
    t.render(nlohmann::ordered_json::object(), options);
  } catch (const owl::chat::TemplateError& e) {
    o.threw_owl_error = true;
    o.kind = e.kind();
    o.what = e.what();
  }
  return o;
}

// Stopped by a budget (a count of steps, bytes or calls) or a security rule, never left running.
void expect_stopped(const std::string& src) {
  const Outcome o = run_hostile(src);
  EXPECT_TRUE(o.threw_owl_error) << src;
  EXPECT_TRUE(o.kind == ErrorKind::budget || o.kind == ErrorKind::security) << src << ": " << o.what;
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
  // Deep data built at run time: printing and comparing it must not overflow the stack, and
  // neither must freeing it (300,000 levels; the default budget allows the loop).
  const Outcome o = run_hostile(
      "{% set ns = namespace(l=[]) %}{% for i in range(300) %}{% for j in range(1000) %}{% set ns.l = [ns.l] %}"
      "{% endfor %}{% endfor %}{{ ns.l }}",
      owl::chat::RenderOptions{});
  EXPECT_TRUE(o.threw_owl_error);
  EXPECT_NE(o.what.find("maximum recursion depth exceeded"), std::string::npos) << o.what;  // as Python says
  const Outcome p = run_hostile(std::string(2000, '[') + std::string(2000, ']'));  // plain text: fine
  EXPECT_FALSE(p.threw_owl_error);
  const Outcome q = run_hostile("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}");
  EXPECT_TRUE(q.threw_owl_error);
  EXPECT_EQ(q.kind, ErrorKind::syntax);
}

TEST(ChatHostile, DeepValuesAreFreedWithoutRecursion) {
  // A million levels of lists and of dicts: a recursive destructor would need ~100 MB of stack.
  owl::chat::Value list = owl::chat::Value::make_list();
  for (int i = 0; i < 1'000'000; ++i) list = owl::chat::Value::make_list({list});
  owl::chat::Value dict = owl::chat::Value::make_dict();
  for (int i = 0; i < 1'000'000; ++i) {
    owl::chat::Value outer = owl::chat::Value::make_dict();
    outer.dict().set(owl::chat::Value("k"), dict);
    dict = outer;
  }
  list = owl::chat::Value();
  dict = owl::chat::Value();
  EXPECT_TRUE(list.is_undefined() && dict.is_undefined());
}

TEST(ChatHostile, RealTemplatesStayFarInsideTheSmallBudget) {
  // The budget above is no obstacle to a real conversation through a real template.
  const std::string chatml =
      "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"
      "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  nlohmann::ordered_json ctx = {{"messages", nlohmann::ordered_json::array()}, {"add_generation_prompt", true}};
  for (int i = 0; i < 200; ++i) ctx["messages"].push_back({{"role", i % 2 ? "assistant" : "user"}, {"content", "hello there"}});
  owl::chat::Template t(chatml, "chatml");
  EXPECT_NO_THROW(t.render(ctx, small_budget()));
}

}  // namespace
