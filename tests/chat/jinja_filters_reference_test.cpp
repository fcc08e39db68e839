// The rarer jinja2 features (the filters truncate, urlencode, xmlattr, batch, slice and groupby, recursive
// loops, Markup: a plain string added to |safe or |e output is escaped, and the generators that
// map, select and friends return, which tojson and len() refuse) against jinja2 itself, run live through python3 (Debian's python3-jinja2,
// configured as transformers configures it): the same text, or an error on both sides.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "chat/template.h"
#include "fixtures.h"
#include "test_files.h"

namespace {

using ordered = nlohmann::ordered_json;

bool python_has_jinja2() { return std::system("python3 -c 'import jinja2' >/dev/null 2>&1") == 0; }

TEST(JinjaReference, RareFeaturesMatchJinja2) {
  if (!python_has_jinja2()) GTEST_SKIP() << "python3 with jinja2 is not installed (scripts/setup.sh installs python3-jinja2)";
  std::vector<std::pair<std::string, std::string>> cases = {
      {"{{ s | truncate(9) }}", R"({"s": "The quick brown fox jumps"})"},
      {"{{ s | truncate(9, True) }}", R"({"s": "The quick brown fox jumps"})"},
      {"{{ s | truncate(12, end='~', leeway=0) }}", R"({"s": "héllo wörld and more"})"},
      {"{{ s | truncate(30) }}", R"({"s": "short enough"})"},
      {"{{ s | truncate(10, leeway=3) }}", R"({"s": "exactly thirteen"})"},
      {"{{ s | truncate(2) }}", R"({"s": "this will fail"})"},
      {"{{ s | urlencode }}", R"({"s": "a b/c?d=é&x"})"},
      {"{{ d | urlencode }}", R"({"d": {"q": "owl search", "page": 2, "ü": "/"}})"},
      {"{{ l | urlencode }}", R"({"l": [["a", 1], ["b c", "d&e"]]})"},
      {"{{ 42 | urlencode }}", "{}"},
      {"<p{{ d | xmlattr }}>", R"({"d": {"class": "x\"y", "id": 3, "hidden": null, "title": "<b>'s"}})"},
      {"<p{{ d | xmlattr(false) }}>", R"({"d": {"a": 1}})"},
      {"{{ d | xmlattr }}", R"({"d": {"bad key": 1}})"},
      {"{{ l | batch(3) | list }}", R"({"l": [1, 2, 3, 4, 5, 6, 7]})"},
      {"{{ l | batch(3, 'x') | list }}", R"({"l": [1, 2, 3, 4, 5, 6, 7]})"},
      {"{{ l | batch(2) | list }}", R"({"l": []})"},
      {"{% for row in l | batch(2) %}[{{ row | join(',') }}]{% endfor %}", R"({"l": ["a", "b", "c"]})"},
      {"{{ l | slice(3) | list }}", R"({"l": [1, 2, 3, 4, 5, 6, 7]})"},
      {"{{ l | slice(3, 0) | list }}", R"({"l": [1, 2, 3, 4, 5, 6, 7]})"},
      {"{{ l | slice(4) | list }}", R"({"l": [1, 2]})"},
      {"{{ 'abcdefg' | slice(2) | list }}", "{}"},
      {"{% for n in tree recursive %}{{ n.name }}({{ loop.depth }},{{ loop.depth0 }}){% if n.kids %}[{{ loop(n.kids) }}]"
       "{% endif %}{% endfor %}",
       R"({"tree": [{"name": "a", "kids": [{"name": "b"}, {"name": "c", "kids": [{"name": "d"}]}]}, {"name": "e"}]})"},
      {"{% for n in tree recursive %}{{ loop.index }}/{{ loop.length }}{{ loop(n.kids) if n.kids else '' }};{% endfor %}",
       R"({"tree": [{"kids": [{}, {"kids": [{}]}]}, {}]})"},
      {"{% for n in l %}{{ loop(n) }}{% endfor %}", R"({"l": [[1]]})"},
      // Markup: adding a plain string to |safe or |e output escapes the plain string; ~ does not.
      {"{{ '<a>' + ('<b>' | safe) }}", "{}"},
      {"{{ ('x' | safe) + \"'\" + '&' }}", "{}"},
      {"{{ (\"'\" | e) + '&' }}", "{}"},
      {"{{ ('<' | e) | e }}|{{ ('<' | safe) | forceescape }}", "{}"},
      {"{{ '<' ~ ('<' | safe) }}", "{}"},
      {"{% set x = 'a' | safe %}{{ x + '<' + '<' }}|{{ ('<' + x) | length }}", "{}"},
      {"{% for t in tools %}{{ \"Use the function '\" | safe + t.name + \"' to '\" | safe + t.description + \"'\\n\" }}{% endfor %}",
       R"({"tools": [{"name": "get_weather", "description": "Get the user's \"local\" weather <fast>"}]})"},
      {"{{ ('a' | safe) + 1 }}", "{}"},
      // What jinja2 returns as generators: iterable, but not JSON, not sized, not indexable.
      {"{{ l | map('upper') | join(',') }}|{{ l | select | list | tojson }}|{{ l | unique | list }}", R"({"l": ["a", "b", "a"]})"},
      {"{{ l | map('upper') | tojson }}", R"({"l": ["a"]})"},
      {"{{ l | reject | length }}", R"({"l": [0, 1]})"},
      {"{{ (l | selectattr('x'))[0] }}", R"({"l": [{"x": 1}]})"},
      {"{{ l | batch(2) | tojson }}", R"({"l": [1, 2, 3]})"},
      {"{% for x in l | rejectattr('x') %}{{ x.y }}{% endfor %}{{ l | map(attribute='y') | first }}", R"({"l": [{"x": 0, "y": 7}]})"},
      // groupby: sorted, grouped, named by the first item; tuples that unpack and print as tuples.
      {"{% for g in u | groupby('city') %}{{ g.grouper }}:{{ g.list | map(attribute='n') | join(',') }};{% endfor %}",
       R"({"u": [{"n": 1, "city": "Oslo"}, {"n": 2, "city": "bergen"}, {"n": 3, "city": "oslo"}, {"n": 4, "city": "Bergen"}]})"},
      {"{% for city, items in u | groupby('city', case_sensitive=true) %}{{ city }}={{ items | length }};{% endfor %}",
       R"({"u": [{"n": 1, "city": "Oslo"}, {"n": 2, "city": "bergen"}, {"n": 3, "city": "oslo"}]})"},
      {"{{ u | groupby('a.b') | list }}|{{ u | groupby('x', default='none') }}", R"({"u": [{"a": {"b": 2}}, {"a": {"b": 1}}]})"},
      {"{{ u | groupby('x') }}", R"({"u": [{"x": 1}, {"x": "a"}]})"},
  };
  // A real template where it matters: Mistral's v2 template joins tool calls to `arguments|tojson|safe`.
  if (const auto fixtures = owl_fixtures(); fixtures && std::filesystem::exists(*fixtures / "mistral-common")) {
    const auto root = *fixtures / "mistral-common";
    ordered sample = ordered::parse(read_file(root / "samples" / "several_calls" / "sample.json"));
    for (ordered& m : sample["messages"]) {
      if (!m.contains("tool_calls")) continue;
      for (ordered& call : m["tool_calls"]) {
        ordered& args = call["function"]["arguments"];
        if (args.is_string()) args = ordered::parse(args.get<std::string>());
      }
    }
    const ordered ctx = {{"messages", sample["messages"]}, {"tools", sample["tools"]}, {"bos_token", "<s>"},
                         {"eos_token", "</s>"}, {"add_generation_prompt", false}};
    cases.emplace_back(read_file(root / "chat_templates" / "v2_spm.jinja"), ctx.dump());
  }
  const auto input = scratch_path("jinja_cases.jsonl");
  {
    std::ofstream out(input);
    for (const auto& [t, ctx] : cases) out << ordered{{"template", t}, {"context", ordered::parse(ctx)}}.dump() << "\n";
  }
  const auto output = scratch_path("jinja_outputs.jsonl");
  const std::string cmd = "python3 '" + std::string(OWL_SOURCE_DIR) + "/tests/chat/render_jinja2.py' < '" + input.string() +
                          "' > '" + output.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::istringstream lines(read_file(output));
  for (const auto& [t, ctx] : cases) {
    std::string line;
    ASSERT_TRUE(std::getline(lines, line)) << t;
    const ordered want = ordered::parse(line);
    std::string got;
    bool failed = false;
    try {
      got = owl::chat::Template(t, "case").render(ordered::parse(ctx));
    } catch (const owl::Error&) {
      failed = true;
    }
    if (want.contains("error")) {
      EXPECT_TRUE(failed) << t << " should fail as jinja2's does (" << want["error"] << "), gave: " << got;
    } else {
      EXPECT_FALSE(failed) << t;
      EXPECT_EQ(got, want["output"].get<std::string>()) << t;
    }
  }
}

}  // namespace
