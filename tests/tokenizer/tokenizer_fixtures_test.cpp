// The SentencePiece-style tokenizer against reference vectors: llama.cpp's ggml-vocab-*.gguf.{inp,out}
// (llama-spm, phi-3: ids without BOS), llama2.c test.c prompts (ids with BOS), Baichuan round trips,
// streaming decode, and the errors from_gguf gives for other tokenizer models and broken metadata.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "fixtures.h"
#include "test_files.h"
#include "formats/gguf.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "vocab_vectors.h"

namespace owl {
namespace {

namespace fs = std::filesystem;

using test::Case;
using test::read_pairs;
using test::streamed;

void check_vectors(const std::string& vocab_name) {
  OWL_REQUIRE_FIXTURE(dir, "llamacpp-vocab");
  const fs::path gguf_path = dir / ("ggml-vocab-" + vocab_name + ".gguf");
  const auto tok = test::load_gguf_tokenizer(gguf_path);
  const auto cases = read_pairs(fs::path(gguf_path.string() + ".inp"), fs::path(gguf_path.string() + ".out"));
  ASSERT_EQ(cases.size(), 46u);
  int passed = 0;
  for (const Case& c : cases) {
    const auto ids = tok->encode(c.text, /*add_bos=*/false);
    EXPECT_EQ(ids, c.ids) << "text: '" << c.text << "'";
    EXPECT_EQ(tok->decode(c.ids), c.text) << "decode of '" << c.text << "'";
    EXPECT_EQ(streamed(*tok, c.ids), tok->decode(c.ids)) << "stream decode of '" << c.text << "'";
    std::vector<int32_t> with_bos{tok->bos()};
    with_bos.insert(with_bos.end(), c.ids.begin(), c.ids.end());
    EXPECT_EQ(tok->decode(with_bos), c.text) << "decode after BOS of '" << c.text << "'";
    EXPECT_EQ(tok->encode(c.text, true), with_bos);
    passed += ids == c.ids ? 1 : 0;
  }
  std::printf("[ %s ] %d/%zu vectors match\n", vocab_name.c_str(), passed, cases.size());
  EXPECT_EQ(passed, 46);
}

TEST(SpmTokenizerFixtures, LlamaSpmVectors) { check_vectors("llama-spm"); }
TEST(SpmTokenizerFixtures, Phi3Vectors) { check_vectors("phi-3"); }

// Word splitting (with its per-call cache) and the choice of merge queue must not change any id:
// compare with BPE over whole texts, through the binary heap and through the bucket queue.
TEST(SpmTokenizerFixtures, WordSplitAndQueuesAgree) {
  OWL_REQUIRE_FIXTURE(dir, "llamacpp-vocab");
  for (const std::string vocab : {"llama-spm", "baichuan"}) {
    const auto split = test::load_gguf_tokenizer(dir / ("ggml-vocab-" + vocab + ".gguf"));
    const auto heap = test::load_gguf_tokenizer(dir / ("ggml-vocab-" + vocab + ".gguf"));
    const auto buckets = test::load_gguf_tokenizer(dir / ("ggml-vocab-" + vocab + ".gguf"));
    ASSERT_TRUE(dynamic_cast<SpmTokenizer&>(*split).splits_words());
    for (auto* t : {heap.get(), buckets.get()}) dynamic_cast<SpmTokenizer&>(*t).disable_splitting();
    dynamic_cast<SpmTokenizer&>(*heap).set_merge_queue(SpmTokenizer::MergeQueue::heap);
    dynamic_cast<SpmTokenizer&>(*buckets).set_merge_queue(SpmTokenizer::MergeQueue::buckets);
    const auto cases = read_pairs(dir / "ggml-vocab-llama-spm.gguf.inp", dir / "ggml-vocab-llama-spm.gguf.out");
    std::vector<std::string> texts;
    std::string all;
    for (const Case& c : cases) {
      texts.push_back(c.text);
      all += c.text + " \n  ";
    }
    all += read_file(dir / "LICENSE");
    texts.push_back(all);
    std::string no_spaces;
    for (char c : all) no_spaces += c == ' ' ? '_' : c;
    texts.push_back(no_spaces);
    texts.push_back("百川大模型是一个开源的中英双语大语言模型我想在apple工作1314151天～ " + no_spaces);
    for (const std::string& text : texts) {
      const auto want = heap->encode(text, true);
      EXPECT_TRUE(split->encode(text, true) == want) << vocab << ", word split: " << text.substr(0, 80);
      EXPECT_TRUE(buckets->encode(text, true) == want) << vocab << ", bucket queue: " << text.substr(0, 80);
    }
  }
}

TEST(SpmTokenizerFixtures, LlamaSpmMetadata) {
  OWL_REQUIRE_FIXTURE(path, "llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  const auto tok = test::load_gguf_tokenizer(path);
  EXPECT_EQ(tok->n_vocab(), 32000);
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_EQ(tok->eos(), 2);
  EXPECT_TRUE(tok->add_bos_by_default());
  EXPECT_TRUE(tok->is_end_of_generation(2));
  EXPECT_EQ(tok->piece(1), "<s>");
  EXPECT_EQ(tok->token_type(0), TokenType::unknown);
  EXPECT_EQ(tok->token_type(3), TokenType::byte);
  EXPECT_EQ(tok->token_to_piece(3 + 0x0A), "\n");
  EXPECT_EQ(tok->token_to_piece(15043), " Hello");
  EXPECT_EQ(tok->token_to_piece(2), "");
}

TEST(SpmTokenizerFixtures, Phi3EndOfTurn) {
  OWL_REQUIRE_FIXTURE(path, "llamacpp-vocab/ggml-vocab-phi-3.gguf");
  const auto tok = test::load_gguf_tokenizer(path);
  EXPECT_EQ(tok->n_vocab(), 32064);
  EXPECT_EQ(tok->eos(), 32000);
  EXPECT_TRUE(tok->is_end_of_generation(32000));  // <|endoftext|>
  EXPECT_TRUE(tok->is_end_of_generation(32007));  // <|end|>
  EXPECT_FALSE(tok->is_end_of_generation(32010));  // <|user|>
  EXPECT_EQ(tok->token_to_piece(32010), "");        // control: invisible
}

TEST(SpmTokenizerFixtures, Llama2cPrompts) {
  OWL_REQUIRE_FIXTURES();
  const fs::path json_path = fixtures / "llama2c-tokenizer/expected_tokens.json";
  const fs::path gguf_path = fixtures / "llamacpp-vocab/ggml-vocab-llama-spm.gguf";
  if (!fs::exists(json_path) || !fs::exists(gguf_path)) GTEST_SKIP() << "fixtures not found: " << json_path;
  const auto tok = test::load_gguf_tokenizer(gguf_path);
  const auto json = nlohmann::json::parse(read_file(json_path));
  int passed = 0;
  int total = 0;
  for (const auto& c : json.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    const auto want = c.at("ids").get<std::vector<int32_t>>();
    const auto ids = tok->encode(text, /*add_bos=*/true);
    EXPECT_EQ(ids, want) << "text: '" << text << "'";
    EXPECT_EQ(tok->decode(ids), text);
    EXPECT_EQ(streamed(*tok, ids), text);
    passed += ids == want ? 1 : 0;
    ++total;
  }
  std::printf("[ llama2c ] %d/%d prompts match\n", passed, total);
  EXPECT_EQ(total, 5);
  EXPECT_EQ(passed, total);
}

TEST(SpmTokenizerFixtures, BaichuanLoadsAndRoundTrips) {
  OWL_REQUIRE_FIXTURE(dir, "llamacpp-vocab");
  const fs::path path = dir / "ggml-vocab-baichuan.gguf";
  if (!fs::exists(path)) GTEST_SKIP() << "fixtures not found: " << path;
  const auto tok = test::load_gguf_tokenizer(path);
  EXPECT_EQ(tok->n_vocab(), 64000);
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_EQ(tok->eos(), 2);
  // Texts of the llama-spm vectors (CJK, emoji, whitespace runs) plus invalid UTF-8.
  auto cases = read_pairs(dir / "ggml-vocab-llama-spm.gguf.inp", dir / "ggml-vocab-llama-spm.gguf.out");
  cases.push_back({"\xFF\xFE broken \xC3 utf8 \xE2\x82", {}});
  cases.push_back({"百川大模型 是一个开源的中英双语大语言模型。", {}});
  for (const Case& c : cases) {
    const auto ids = tok->encode(c.text, true);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.front(), 1);
    for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok->n_vocab());
    EXPECT_EQ(tok->decode(ids), c.text);
    EXPECT_EQ(streamed(*tok, ids), c.text);
  }
}

TEST(SpmTokenizerFixtures, StreamingMatchesDecodeOnEveryPrefix) {
  OWL_REQUIRE_FIXTURE(path, "llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  const auto tok = test::load_gguf_tokenizer(path);
  const std::string text = "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～ Cửa Việt \xF0\x9F\xA6";
  const auto ids = tok->encode(text, true);
  StreamDecoder stream(*tok);
  std::string got;
  for (size_t i = 0; i < ids.size(); ++i) {
    got += stream.feed(ids[i]);
    const std::string full = tok->decode(std::span<const int32_t>(ids.data(), i + 1));
    // What came out is a prefix of the full decode, short of at most one unfinished character.
    ASSERT_LE(got.size(), full.size());
    EXPECT_EQ(full.compare(0, got.size(), got), 0);
    EXPECT_LE(full.size() - got.size(), 3u);
  }
  got += stream.finish();
  EXPECT_EQ(got, text);
}

TEST(TokenizerFromGguf, UnknownModelsAreRejected) {
  OWL_REQUIRE_FIXTURE(path, "llamacpp-vocab/ggml-vocab-gpt-2.gguf");
  const auto original = gguf::File::open(path.string());
  const fs::path tmp = scratch_path("tokenizer-rwkv.gguf");
  gguf::Writer w = gguf::Writer::from(*original);
  w.set("tokenizer.ggml.model", gguf::Value{std::string("rwkv")});
  w.write(tmp.string());
  const auto file = gguf::File::open(tmp.string());
  try {
    (void)Tokenizer::from_gguf(*file);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'rwkv'"), std::string::npos) << what;
    EXPECT_NE(what.find("not supported"), std::string::npos) << what;
    EXPECT_NE(what.find(tmp.string()), std::string::npos) << what;
  }
  // An unknown pre-tokenizer name is an error too, naming the key.
  gguf::Writer w2 = gguf::Writer::from(*original);
  w2.set("tokenizer.ggml.pre", gguf::Value{std::string("no-such-pre")});
  w2.write(tmp.string());
  const auto file2 = gguf::File::open(tmp.string());
  EXPECT_THROW((void)Tokenizer::from_gguf(*file2), Error);
  fs::remove(tmp);
}

// Rewrites the llama-spm vocabulary with one key changed and expects an error naming file and key.
TEST(TokenizerFromGguf, BrokenMetadataNamesFileAndKey) {
  OWL_REQUIRE_FIXTURE(path, "llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  const auto original = gguf::File::open(path.string());
  const fs::path tmp = scratch_path("tokenizer-broken.gguf");
  auto expect_error = [&](const std::string& key, auto&& edit) {
    gguf::Writer w = gguf::Writer::from(*original);
    edit(w);
    w.write(tmp.string());
    const auto broken = gguf::File::open(tmp.string());
    try {
      (void)Tokenizer::from_gguf(*broken);
      ADD_FAILURE() << key << ": no error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(key), std::string::npos) << what;
      EXPECT_NE(what.find(tmp.string()), std::string::npos) << what;
    }
  };
  expect_error("tokenizer.ggml.scores", [](gguf::Writer& w) { w.set("tokenizer.ggml.scores", gguf::Value::f32_array({0.f, 1.f})); });
  expect_error("tokenizer.ggml.token_type", [](gguf::Writer& w) { w.set("tokenizer.ggml.token_type", gguf::Value::i32_array({1, 1, 9})); });
  expect_error("tokenizer.ggml.token_type", [&](gguf::Writer& w) {
    std::vector<int32_t> types(32000, 1);
    types[7] = 42;
    w.set("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
  });
  expect_error("tokenizer.ggml.bos_token_id", [](gguf::Writer& w) { w.set("tokenizer.ggml.bos_token_id", gguf::Value{uint32_t{32000}}); });
  expect_error("tokenizer.ggml.eos_token_id", [](gguf::Writer& w) { w.set("tokenizer.ggml.eos_token_id", gguf::Value{std::string("2")}); });
  expect_error("tokenizer.ggml.add_bos_token", [](gguf::Writer& w) { w.set("tokenizer.ggml.add_bos_token", gguf::Value{uint32_t{1}}); });
  expect_error("tokenizer.ggml.tokens", [](gguf::Writer& w) { w.remove("tokenizer.ggml.tokens"); });
  expect_error("tokenizer.ggml.tokens", [](gguf::Writer& w) { w.set("tokenizer.ggml.tokens", gguf::Value::f32_array({1.f})); });
  expect_error("tokenizer.ggml.scores", [](gguf::Writer& w) { w.remove("tokenizer.ggml.scores"); });
  expect_error("tokenizer.ggml.model", [](gguf::Writer& w) { w.remove("tokenizer.ggml.model"); });
  fs::remove(tmp);
}

}  // namespace
}  // namespace owl
