// Fine-tuning data (train/dataset.h): every JSONL format, --mask-prompt, truncation, and a bad line
// reported with its file and line number. A character-level encoder stands in for a tokenizer.
#include <gtest/gtest.h>

#include <fstream>

#include "base/error.h"
#include "test_files.h"
#include "train/dataset.h"

namespace {

namespace tr = owl::train;
using Json = nlohmann::ordered_json;

// One token per byte (+3), BOS 1, EOS 2; a "template" that writes <role>content</role>.
tr::Encoder char_encoder(bool with_template) {
  tr::Encoder e;
  e.text = [](const std::string& s, bool bos) {
    std::vector<int32_t> ids;
    if (bos) ids.push_back(1);
    for (unsigned char c : s) ids.push_back(c + 3);
    return ids;
  };
  if (with_template) {
    e.render = [](const Json& messages, const Json&, bool gen) {
      std::string out;
      for (const Json& m : messages) {
        out.append("<").append(m["role"].get<std::string>()).append(">");
        out.append(m["content"].get<std::string>()).append("|");
      }
      if (gen) out += "<assistant>";
      return out;
    };
  }
  e.chat_tokens = [](const std::string& s) {
    std::vector<int32_t> ids = {1};
    for (unsigned char c : s) ids.push_back(c + 3);
    return ids;
  };
  e.eos = 2;
  e.n_vocab = 259;
  return e;
}

std::string write_lines(const std::string& name, const std::vector<std::string>& lines) {
  const auto p = scratch_path(name);
  std::ofstream out(p);
  for (const std::string& l : lines) out << l << "\n";
  return p.string();
}

int count(const std::vector<uint8_t>& v) {
  int n = 0;
  for (uint8_t x : v) n += x;
  return n;
}

TEST(FinetuneData, ChatDataNeedsATemplate) {
  const std::string path = write_lines("chat.jsonl", {
      R"({"text": "abc"})",
      R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})",
  });
  try {
    tr::load_jsonl(path, char_encoder(false), {});
    ADD_FAILURE() << "chat data accepted without a template";
  } catch (const owl::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2:"), std::string::npos) << e.what();
  }
}

TEST(FinetuneData, FormatsAndMasks) {
  const tr::Encoder enc = char_encoder(true);
  const std::string path = write_lines("masks.jsonl", {
      R"({"text": "abc"})",
      R"({"prompt": "hi", "completion": "yo"})",
      R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})",
      R"({"tokens": [1, 5, 6, 7], "mask": [0, 0, 1, 1]})",
  });
  for (bool mask : {false, true}) {
    const tr::Dataset d = tr::load_jsonl(path, enc, {2048, mask});
    ASSERT_EQ(d.examples.size(), 4u);
    // text: BOS a b c EOS, every token after BOS a target.
    EXPECT_EQ(d.examples[0].tokens, (std::vector<int32_t>{1, 'a' + 3, 'b' + 3, 'c' + 3, 2}));
    EXPECT_EQ(count(d.examples[0].targets), 4);
    // prompt/completion through the template: "<user>hi|<assistant>yo|"; masked, only "yo|" learns.
    const std::string full = "<user>hi|<assistant>yo|";
    EXPECT_EQ(d.examples[1].tokens.size(), full.size() + 1);
    EXPECT_EQ(count(d.examples[1].targets), mask ? 3 : static_cast<int>(full.size()));
    EXPECT_EQ(count(d.examples[2].targets), mask ? 2 : static_cast<int>(std::string("<user>q|<assistant>a|").size()));
    EXPECT_EQ(d.examples[3].targets, (std::vector<uint8_t>{0, 0, 1, 1}));
  }
}

TEST(FinetuneData, PlainPromptCompletionAndTruncation) {
  const std::string path = write_lines("plain.jsonl", {R"({"prompt": "ab", "completion": "cd"})", R"({"text": "abcdefghij"})"});
  const tr::Dataset d = tr::load_jsonl(path, char_encoder(false), {6, true});
  EXPECT_EQ(d.examples[0].tokens, (std::vector<int32_t>{1, 'a' + 3, 'b' + 3, 'c' + 3, 'd' + 3, 2}));
  EXPECT_EQ(d.examples[0].targets, (std::vector<uint8_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(d.examples[1].tokens.size(), 6u);
  EXPECT_EQ(d.n_truncated, 1);
}

TEST(FinetuneData, BadLinesNameFileAndLine) {
  const tr::Encoder enc = char_encoder(true);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"text": 5})", "\"text\" must be a string"},
      {R"(not json)", "not valid JSON"},
      {R"([1, 2])", "JSON object"},
      {R"({"other": 1})", "a line needs"},
      {R"({"tokens": [1, 999]})", "vocabulary"},
      {R"({"tokens": [1, 2], "mask": [1]})", "mask"},
      {R"({"messages": []})", "non-empty list"},
      {R"({"prompt": "x"})", "\"completion\" must be a string"},
  };
  for (const auto& [line, why] : cases) {
    const std::string path = write_lines("bad.jsonl", {R"({"text": "fine"})", line});
    try {
      tr::load_jsonl(path, enc, {2048, false});
      ADD_FAILURE() << "accepted: " << line;
    } catch (const owl::Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path + ":2:"), std::string::npos) << msg;
      EXPECT_NE(msg.find(why), std::string::npos) << msg;
    }
  }
  // --mask-prompt with a conversation that does not end with the assistant.
  const std::string user_last = write_lines("user-last.jsonl", {R"({"messages": [{"role": "user", "content": "q"}]})"});
  EXPECT_THROW(tr::load_jsonl(user_last, enc, {2048, true}), owl::Error);
  EXPECT_THROW(tr::load_jsonl(scratch_path("absent.jsonl").string(), enc, {}), owl::Error);
}

// What owl train-tokenizer reads: the same JSONL lines as training, or plain lines.
TEST(FinetuneData, TokenizerTextsFromJsonlOrPlainLines) {
  const std::string jsonl = write_lines("texts.jsonl", {R"({"text": "one two"})", "  ", R"({"text": "three"})"});
  EXPECT_EQ(tr::load_texts(jsonl), (std::vector<std::string>{"one two", "three"}));
  const std::string plain = write_lines("texts.txt", {"first line", "", "{\"not\": \"json\"}"});
  EXPECT_EQ(tr::load_texts(plain), (std::vector<std::string>{"first line", "{\"not\": \"json\"}"}));
  for (const std::string bad : {R"({"text": 5})", R"({"other": "x"})", "not json"}) {
    const std::string path = write_lines("bad-texts.jsonl", {R"({"text": "fine"})", bad});
    try {
      tr::load_texts(path);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const owl::Error& e) {
      EXPECT_NE(std::string(e.what()).find(path + ":2:"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(tr::load_texts(scratch_path("absent.txt").string()), owl::Error);
}

}  // namespace
