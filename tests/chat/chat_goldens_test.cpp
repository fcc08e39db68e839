// Conformance: every case of chat-template-goldens (416 = 104 real templates x 4 conversations,
// rendered by jinja2 3.1.6 as transformers configures it) must render byte for byte, or fail where
// the reference failed (with raise_exception's text for TemplateError cases).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "chat/template.h"
#include "fixtures.h"

namespace {

using nlohmann::ordered_json;

std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// "dir/file.jinja" or "dir/tokenizer_config.json#chat_template".
std::string template_source(const std::filesystem::path& root, const std::string& ref) {
  const size_t hash = ref.find('#');
  if (hash == std::string::npos) return read_all(root / ref);
  const ordered_json j = ordered_json::parse(read_all(root / ref.substr(0, hash)));
  return j.at(ref.substr(hash + 1)).get<std::string>();
}

TEST(ChatGoldens, AllCasesMatchJinja2) {
  OWL_REQUIRE_FIXTURE(goldens, "chat-template-goldens/goldens.jsonl");
  std::ifstream in(goldens);
  std::string line;
  int total = 0, passed = 0;
  owl::chat::RenderOptions options;
  options.now = owl::chat::parse_time("2026-01-15T00:00:00");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const ordered_json g = ordered_json::parse(line);
    ++total;
    const std::string ref = g.at("template_file").get<std::string>();
    const std::string label = ref + " / " + g.at("conversation").get<std::string>();
    std::string got;
    std::string error;
    owl::chat::ErrorKind kind = owl::chat::ErrorKind::runtime;
    std::string message;
    try {
      owl::chat::Template t(template_source(fixtures, ref), ref);
      got = t.render(g.at("context"), options);
    } catch (const owl::chat::TemplateError& e) {
      error = e.what();
      kind = e.kind();
      message = e.message();
    }
    if (g.at("error").is_null()) {
      EXPECT_EQ(error, "") << label;
      EXPECT_EQ(got, g.at("expected").get<std::string>()) << label;
      if (error.empty() && got == g.at("expected").get<std::string>()) ++passed;
    } else {
      EXPECT_NE(error, "") << label << " should fail with " << g.at("error").dump();
      bool ok = !error.empty();
      if (g.at("error").at("type") == "TemplateError") {
        EXPECT_EQ(kind, owl::chat::ErrorKind::raised) << label << ": " << error;
        EXPECT_EQ(message, g.at("error").at("message").get<std::string>()) << label;
        ok = ok && kind == owl::chat::ErrorKind::raised && message == g.at("error").at("message").get<std::string>();
      }
      if (ok) ++passed;
    }
  }
  EXPECT_EQ(total, 416);
  EXPECT_EQ(passed, total);
  std::printf("chat-template goldens: %d/%d\n", passed, total);
}

}  // namespace
