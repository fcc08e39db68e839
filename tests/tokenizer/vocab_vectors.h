// Helpers for the llama.cpp ggml-vocab-*.gguf.{inp,out} vectors: reading the pairs, running a
// tokenizer over them (ids, round trip, streaming decode) and reporting the pass count.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "test_files.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace owl::test {

namespace fs = std::filesystem;

// The tokenizer a GGUF file carries.
inline std::unique_ptr<Tokenizer> load_gguf_tokenizer(const fs::path& path) {
  const auto file = gguf::File::open(path.string());
  return Tokenizer::from_gguf(*file);
}

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

inline std::vector<Case> read_pairs(const fs::path& inp, const fs::path& out) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  const std::string in = read_file(inp);
  std::vector<std::string> texts;
  size_t pos = 0;
  while (pos < in.size()) {
    const size_t next = in.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(in.substr(pos));
      break;
    }
    texts.push_back(in.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream lines(read_file(out));
  std::string line;
  for (const std::string& text : texts) {
    if (!std::getline(lines, line)) {
      ADD_FAILURE() << out << ": fewer lines than strings";
      break;
    }
    Case c{text, {}};
    std::istringstream ids(line);
    for (int32_t id = 0; ids >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  return cases;
}

inline std::string streamed(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  StreamDecoder stream(tok);
  std::string out;
  for (int32_t id : ids) {
    const std::string part = stream.feed(id);
    out += part;
  }
  return out + stream.finish();
}

// Runs one pair; returns the number of matching strings.
inline int run_pair(const Tokenizer& tok, const fs::path& dir, const std::string& name) {
  const fs::path base = dir / ("ggml-vocab-" + name + ".gguf");
  const auto cases = read_pairs(fs::path(base.string() + ".inp"), fs::path(base.string() + ".out"));
  EXPECT_GE(cases.size(), 46u) << name;
  int passed = 0;
  for (const Case& c : cases) {
    const auto ids = tok.encode(c.text, /*add_bos=*/false);
    EXPECT_EQ(ids, c.ids) << name << " text: '" << c.text << "'";
    passed += ids == c.ids ? 1 : 0;
    const std::string back = tok.decode(c.ids);
    if (tok.lossless()) {
      EXPECT_EQ(back, c.text) << name << " decode of '" << c.text << "'";
    } else if (tok.kind() == "bpe") {  // NFC-normalising BPE: lossless up to NFC
      EXPECT_EQ(back, unicode::normalize(c.text, unicode::Form::nfc)) << name;
    }
    EXPECT_EQ(streamed(tok, c.ids), back) << name << " stream decode of '" << c.text << "'";
  }
  std::printf("[ %s ] %d/%zu vectors match\n", name.c_str(), passed, cases.size());
  return passed;
}

}  // namespace owl::test
