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
#include "run_owl.h"
#include "test_files.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::ordered_json;

// text_vN.txt holds the official token pieces joined ("▁" for a space, "<0x0A>" for a newline byte
// piece); parallel_calls/text_v2.txt holds plain text. Both read back as plain text.
std::string pieces_to_text(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 3;
    } else if (s.compare(i, 6, "<0x0A>") == 0) {
      out += '\n';
      i += 6;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// How the samples were made: mistral-common normalises the request and then its InstructTokenizerV2/V3
// serialises every JSON part with json.dumps (", " and ": ", keys in their given order, ensure_ascii
// off). The official Jinja templates reproduce that with tojson, given the same values, except for two
// steps no input to them can express (see normalise_tool_results). So:
//
// 1. Before rendering (every sample): a tool call's "arguments" given as a JSON string is parsed
//    (mistral-common json.loads it before json.dumps). The templates insert a string verbatim
//    ('{"location":"Paris, France",...}' in get_weather_full, '{\n  "location": ...}' in
//    get_weather_no_history) but pass a mapping through tojson, which gives json.dumps' form.
ordered_json mistral_request(const ordered_json& sample) {
  ordered_json messages = sample.at("messages");
  for (ordered_json& m : messages) {
    if (!m.contains("tool_calls") || !m["tool_calls"].is_array()) continue;
    for (ordered_json& call : m["tool_calls"]) {
      ordered_json& args = call.at("function").at("arguments");
      if (args.is_string() && ordered_json::accept(args.get<std::string>()))
        args = ordered_json::parse(args.get<std::string>());
    }
  }
  return messages;
}

// 2. After rendering (only the cases marked below), the two steps of mistral-common that the templates
//    cannot express, applied to each "[TOOL_RESULTS] <json>[/TOOL_RESULTS]" of the render:
//    a. A tool message's content that is JSON is parsed too (json.loads) and written as the JSON value:
//       '"content": {"2024-05-22": "22", ...}' in the get_weather samples. The v2/v3 templates turn the
//       content into a string (message['content']|string, then |int or |float when that round-trips),
//       so tojson writes '"content": "{\"2024-05-22\": ...}"'; a mapping given as content would be
//       written as its Python repr in quotes, so no transformation of sample.json reaches the object.
//    b. v2 only: consecutive tool messages go into one block, '[TOOL_RESULTS] [{...}, {...}][/TOOL_RESULTS]'
//       (parallel_calls v2). The v2 template writes one block per tool message and builds each block's
//       JSON from a single message, so merging messages beforehand cannot give two objects either.
//    The result is re-serialised with the engine's own tojson (json.dumps), so everything else in the
//    block is unchanged; the test checks that the step changed the render, and then that the whole
//    text and every token id match.
std::string normalise_tool_results(const std::string& text) {
  static const std::string kOpen = "[TOOL_RESULTS] ", kClose = "[/TOOL_RESULTS]";
  static const owl::chat::Template kToJson("{{ value | tojson }}", "tojson");
  const auto parse_content = [](ordered_json& result) {
    if (!result.is_object() || !result.contains("content") || !result["content"].is_string()) return;
    const std::string content = result["content"].get<std::string>();
    if (ordered_json::accept(content)) result["content"] = ordered_json::parse(content);
  };
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find(kOpen, pos);
    if (open == std::string::npos) break;
    out += text.substr(pos, open - pos);
    // One block, or a run of adjacent v2 blocks (each a JSON list) merged into one list.
    ordered_json merged;
    size_t at = open;
    while (text.compare(at, kOpen.size(), kOpen) == 0) {
      const size_t close = text.find(kClose, at);
      if (close == std::string::npos) {
        ADD_FAILURE() << "unterminated [TOOL_RESULTS] at " << at;
        return text;
      }
      ordered_json block = ordered_json::parse(text.substr(at + kOpen.size(), close - at - kOpen.size()));
      at = close + kClose.size();
      if (block.is_array()) {
        for (ordered_json& r : block) parse_content(r);
        if (merged.is_null()) merged = ordered_json::array();
        for (ordered_json& r : block) merged.push_back(std::move(r));
        continue;  // the next block, if adjacent, joins this list
      }
      parse_content(block);
      merged = std::move(block);
      break;  // v3 blocks are single objects and never merged
    }
    out += kOpen + kToJson.render(ordered_json{{"value", merged}}) + kClose;
    pos = at;
  }
  return out + text.substr(pos);
}

// 3. Under transformers' jinja2, `arguments|tojson|safe` is Markup, so the template's
//    '{"name": "' + name + '", "arguments": ' + arguments + '}' escapes its plain parts ({&#34;name&#34;:
//    ...), as owl renders it too; mistral-common writes them plain. Quotes written as &#34; inside
//    [TOOL_CALLS] blocks are turned back before comparing with mistral-common's text.
std::string unescape_tool_calls(const std::string& text) {
  static const std::string kOpen = "[TOOL_CALLS]", kEnd = "</s>", kQuote = "&#34;";
  std::string out = text;
  for (size_t open = out.find(kOpen); open != std::string::npos; open = out.find(kOpen, open + 1)) {
    const size_t end = std::min(out.find(kEnd, open), out.size());
    for (size_t q = out.find(kQuote, open); q != std::string::npos && q < end; q = out.find(kQuote, q)) {
      out.replace(q, kQuote.size(), "\"");
    }
  }
  return out;
}

// Every sample × tokenizer version that has a text_vN.txt / tokens_vN.json, rendered with vN_spm.jinja.
struct MistralCase {
  const char* sample;
  const char* version;
  bool tool_results_normalised;  // needs step 2 (the template's render alone differs)
};
const MistralCase kMistralCases[] = {
    {"no_tools", "v1", false},
    {"no_tools", "v2", false},
    {"no_tools", "v3", false},
    {"several_calls", "v2", false},
    {"several_calls", "v3", false},
    {"parallel_calls", "v2", true},  // 2b: two tool results in one block
    {"parallel_calls", "v3", false},
    {"get_weather_full", "v2", true},  // 2a: a JSON object as tool content
    {"get_weather_full", "v3", true},
    {"get_weather_no_history", "v2", true},
    {"get_weather_no_history", "v3", true},
    {"get_weather_no_system_prompt", "v2", true},
    {"get_weather_no_system_prompt", "v3", true},
};

std::string render_mistral_sample(const std::filesystem::path& root, const MistralCase& c) {
  const ordered_json sample = ordered_json::parse(read_file(root / "samples" / c.sample / "sample.json"));
  const std::string tname = std::string(c.version) + "_spm.jinja";
  const owl::chat::Template t(read_file(root / "chat_templates" / tname), tname);
  owl::chat::ConversationOptions o;
  o.add_generation_prompt = false;
  o.tools = sample.value("tools", ordered_json());
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  const std::string text = unescape_tool_calls(owl::chat::render_conversation(t, mistral_request(sample), o));
  if (!c.tool_results_normalised) return text;
  const std::string normalised = normalise_tool_results(text);
  EXPECT_NE(normalised, text) << c.sample << " " << c.version << ": step 2 is no longer needed";
  return normalised;
}

TEST(ChatMistralCommon, SamplesRenderToTheOfficialText) {
  OWL_REQUIRE_FIXTURE(root, "mistral-common");
  for (const MistralCase& c : kMistralCases) {
    const std::string text = render_mistral_sample(root, c);
    const std::string want = read_file(root / "samples" / c.sample / (std::string("text_") + c.version + ".txt"));
    EXPECT_EQ(text, pieces_to_text(want)) << c.sample << " " << c.version;
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
        read_file(root / "samples" / c.sample / (std::string("tokens_") + c.version + ".json")))["tokens"];
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
  EXPECT_EQ(owl::chat::fallback_template("chatml", "gpt2", h).name, "chatml");   // Qwen's record
  EXPECT_EQ(owl::chat::fallback_template("gemma", "llama", h).name, "gemma");
  EXPECT_EQ(owl::chat::fallback_template("", "llama", h).name, "llama2");        // Llama: the vocabulary decides
  EXPECT_EQ(owl::chat::fallback_template("", "gpt2", h).name, "llama3");
  EXPECT_EQ(owl::chat::fallback_template(std::nullopt, "llama", h).name, "chatml");  // an architecture owl does not run
  h.has_start_header_id = true;
  EXPECT_EQ(owl::chat::fallback_template("", "gpt2", h).name, "llama3");
}

TEST(ChatModelTemplate, GgufWithoutTemplateGetsAFallbackAndItsTokens) {
  OWL_REQUIRE_FIXTURE(dir, "ollama-tiny-random-gguf");
  std::filesystem::path gguf;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".gguf") gguf = e.path();
  ASSERT_FALSE(gguf.empty());
  const auto file = owl::gguf::File::open(gguf.string());
  const owl::chat::ModelTemplate mt = owl::chat::model_template(*file, "");  // a llama file
  EXPECT_TRUE(mt.is_fallback);
  EXPECT_EQ(mt.describe(), "fallback llama2");
  EXPECT_EQ(mt.bos_token.value_or(""), "<s>");
  EXPECT_EQ(mt.eos_token.value_or(""), "</s>");
  const std::string text = owl::chat::render_conversation(
      owl::chat::Template(mt.source), ordered_json::parse(R"([{"role": "user", "content": "hi"}])"), mt.options());
  EXPECT_EQ(text, "<s>[INST] hi [/INST]");
}

using CmdResult = OwlResult;
CmdResult owl_template(const std::string& args) { return run_owl("template " + args); }

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
