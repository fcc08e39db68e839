// Conversation rendering: the mistral-common samples (messages → official template → text, and
// → token ids with the SentencePiece tokenizer.model), fallback templates chosen from GGUF
// metadata, and the `owl template` command.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "chat/conversation.h"
#include "chat/model_template.h"
#include "fixtures.h"
#include "formats/gguf.h"
#include "test_files.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::ordered_json;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string spaces_to_pieces(const std::string& s) {
  std::string out;
  for (char c : s) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
  return out;
}

// The samples whose text the official SentencePiece templates reproduce exactly (the others differ
// only in how sample.json serializes tool-call arguments; see the fixtures README).
struct MistralCase {
  const char* sample;
  const char* version;
};
const MistralCase kMistralCases[] = {{"no_tools", "v1"},      {"no_tools", "v2"},      {"no_tools", "v3"},
                                     {"several_calls", "v2"}, {"several_calls", "v3"}, {"parallel_calls", "v3"}};

std::string render_mistral_sample(const std::filesystem::path& root, const MistralCase& c) {
  const ordered_json sample = ordered_json::parse(slurp(root / "samples" / c.sample / "sample.json"));
  const std::string tname = std::string(c.version) + "_spm.jinja";
  const owl::chat::Template t(slurp(root / "chat_templates" / tname), tname);
  owl::chat::ConversationOptions o;
  o.add_generation_prompt = false;
  o.tools = sample.value("tools", ordered_json());
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  return owl::chat::render_conversation(t, sample.at("messages"), o);
}

TEST(ChatMistralCommon, SamplesRenderToTheOfficialText) {
  OWL_REQUIRE_FIXTURE(root, "mistral-common");
  for (const MistralCase& c : kMistralCases) {
    const std::string text = render_mistral_sample(root, c);
    const std::string want = slurp(root / "samples" / c.sample / (std::string("text_") + c.version + ".txt"));
    EXPECT_EQ(spaces_to_pieces(text), want) << c.sample << " " << c.version;
  }
}

TEST(ChatMistralCommon, SamplesTokenizeToTheOfficialIds) {
  OWL_REQUIRE_FIXTURE(root, "mistral-common");
  const std::map<std::string, std::string> models = {{"v1", "tokenizer.model.v1"},
                                                     {"v2", "mistral_instruct_tokenizer_240216.model.v2"},
                                                     {"v3", "mistral_instruct_tokenizer_240323.model.v3"}};
  for (const MistralCase& c : kMistralCases) {
    const auto tok = owl::Tokenizer::from_file((root / models.at(c.version)).string());
    const std::string text = render_mistral_sample(root, c);
    const ordered_json want = ordered_json::parse(
        slurp(root / "samples" / c.sample / (std::string("tokens_") + c.version + ".json")))["tokens"];
    const std::vector<int32_t> ids = tok->encode(text, /*add_bos=*/false, /*parse_special=*/true);
    EXPECT_EQ(ordered_json(ids).dump(), want.dump()) << c.sample << " " << c.version;
  }
}

TEST(ChatConversation, ContextHasTransformersVariables) {
  owl::chat::ConversationOptions o;
  o.eos_token = "</s>";
  o.extra = ordered_json{{"enable_thinking", false}};
  const ordered_json msgs = ordered_json::parse(R"([{"role": "user", "content": "hi"}])");
  const ordered_json ctx = owl::chat::conversation_context(msgs, o);
  EXPECT_EQ(ctx.dump(),
            R"({"messages":[{"role":"user","content":"hi"}],"tools":null,"documents":null,)"
            R"("add_generation_prompt":true,"eos_token":"</s>","enable_thinking":false})");
  EXPECT_THROW(owl::chat::conversation_context(ordered_json::parse(R"([{"content": "no role"}])"), o), owl::Error);
  EXPECT_THROW(owl::chat::conversation_context(ordered_json::parse(R"({"role": "user"})"), o), owl::Error);
  const owl::chat::Template t("{{ bos_token is defined }}|{% for m in messages %}{{ m.content }}{% endfor %}");
  EXPECT_EQ(owl::chat::render_conversation(t, msgs, o), "False|hi");
}

TEST(ChatConversation, FallbackTemplatesRender) {
  const ordered_json msgs = ordered_json::parse(
      R"([{"role": "system", "content": "S"}, {"role": "user", "content": [{"type": "text", "text": "U"}]},
          {"role": "assistant", "content": "A"}, {"role": "user", "content": "V"}])");
  owl::chat::ConversationOptions o;
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  const auto render = [&](const char* name) {
    const owl::chat::FallbackTemplate f = owl::chat::fallback_template_named(name);
    return owl::chat::render_conversation(owl::chat::Template(f.source, f.name), msgs, o);
  };
  EXPECT_EQ(render("chatml"),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
            "<|im_start|>user\nV<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render("llama2"), "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU [/INST] A </s><s>[INST] V [/INST]");
  EXPECT_EQ(render("gemma"),
            "<s><start_of_turn>user\nS\n\nU<end_of_turn>\n<start_of_turn>model\nA<end_of_turn>\n"
            "<start_of_turn>user\nV<end_of_turn>\n<start_of_turn>model\n");
  for (const char* name : {"llama3", "mistral", "phi3"}) EXPECT_FALSE(render(name).empty()) << name;
  EXPECT_THROW(owl::chat::fallback_template_named("nope"), owl::Error);
  owl::chat::VocabHints h;
  EXPECT_EQ(owl::chat::fallback_template("qwen2", "gpt2", h).name, "chatml");
  EXPECT_EQ(owl::chat::fallback_template("gemma2", "llama", h).name, "gemma");
  EXPECT_EQ(owl::chat::fallback_template("llama", "llama", h).name, "llama2");
  h.has_start_header_id = true;
  EXPECT_EQ(owl::chat::fallback_template("llama", "gpt2", h).name, "llama3");
}

TEST(ChatModelTemplate, GgufWithoutTemplateGetsAFallbackAndItsTokens) {
  OWL_REQUIRE_FIXTURE(dir, "ollama-tiny-random-gguf");
  std::filesystem::path gguf;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".gguf") gguf = e.path();
  ASSERT_FALSE(gguf.empty());
  const auto file = owl::gguf::File::open(gguf.string());
  const owl::chat::ModelTemplate mt = owl::chat::model_template(*file);
  EXPECT_TRUE(mt.is_fallback);
  EXPECT_EQ(mt.describe(), "fallback llama2");
  EXPECT_EQ(mt.bos_token.value_or(""), "<s>");
  EXPECT_EQ(mt.eos_token.value_or(""), "</s>");
  const std::string text = owl::chat::render_conversation(
      owl::chat::Template(mt.source), ordered_json::parse(R"([{"role": "user", "content": "hi"}])"), mt.options());
  EXPECT_EQ(text, "<s>[INST] hi [/INST]");
}

struct CmdResult {
  int status = -1;
  std::string out, err;
};

CmdResult owl_template(const std::string& args) {
  static int counter = 0;
  const auto dir = test_scratch_dir();
  const auto out = dir / ("tmpl-" + std::to_string(counter) + ".out");
  const auto err = dir / ("tmpl-" + std::to_string(counter++) + ".err");
  const std::string cmd = std::string(OWL_BINARY) + " template " + args + " >" + out.string() + " 2>" + err.string();
  const int raw = std::system(cmd.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out), slurp(err)};
}

TEST(TemplateCommand, RendersAGoldenContextAndReportsErrors) {
  OWL_REQUIRE_FIXTURE(goldens, "chat-template-goldens/goldens.jsonl");
  std::ifstream in(goldens);
  std::string line;
  ordered_json g;
  while (std::getline(in, line)) {
    g = ordered_json::parse(line);
    if (g["template_file"] == "llamacpp-templates/meta-llama-Llama-3.1-8B-Instruct.jinja") break;
  }
  const auto dir = test_scratch_dir();
  std::ofstream(dir / "ctx.json") << g["context"].dump();
  const CmdResult ok = owl_template("--file " + (fixtures / g["template_file"].get<std::string>()).string() +
                                    " --context " + (dir / "ctx.json").string() + " --now 2026-01-15T00:00:00");
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out, g["expected"].get<std::string>());

  std::ofstream(dir / "bad.jinja") << "line one\n{% for x in messages %}{{ x.nope.deeper }}{% endfor %}";
  const CmdResult bad = owl_template("--file " + (dir / "bad.jinja").string() + " --context " + (dir / "ctx.json").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("bad.jinja:2:"), std::string::npos) << bad.err;
  const CmdResult none = owl_template("--context " + (dir / "ctx.json").string());
  EXPECT_EQ(none.status, 1);
}

}  // namespace
