// Unigram tokenizer tests on a small vocabulary written by the test twice, as an HF tokenizer.json
// ("model": {"type": "Unigram"}) and as a SentencePiece protobuf (model_type 1): hand-computed Viterbi
// results, unknowns, byte fallback, round trips, streaming, malformed files; and mistral-common v7 loading.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "fixtures.h"
#include "formats/gguf.h"
#include "test_files.h"
#include "tokenizer/tokenizer.h"
#include "vocab_vectors.h"

namespace owl {
namespace {

namespace fs = std::filesystem;

const std::string kSpaceMark = "\xE2\x96\x81";  // U+2581

struct P {
  std::string text;
  float score;
  int type;  // SentencePiece / GGUF numbering: 1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte
};

// ids 0-17, then (with bytes) the 256 <0xXX> pieces at 18-273.
std::vector<P> pieces(bool bytes) {
  std::vector<P> v = {
      {"<unk>", 0, 2},     {"<s>", 0, 3},      {"</s>", 0, 3},      {kSpaceMark + "he", -1, 1},     {"llo", -2, 1},
      {kSpaceMark + "hello", -2.5f, 1}, {kSpaceMark + "h", -3, 1}, {"e", -3, 1},     {"l", -3, 1},           {"o", -3, 1},
      {kSpaceMark, -2, 1},         {"w", -3, 1},       {kSpaceMark + "world", -9, 1}, {"or", -2.5f, 1},     {kSpaceMark + "w", -3, 1},
      {"ld", -2.5f, 1},    {kSpaceMark + "wor", -3.2f, 1}, {"[x]", 0, 4},
  };
  if (bytes) {
    for (int b = 0; b < 256; ++b) v.push_back({fmt::format("<0x{:02X}>", b), 0, 6});
  }
  return v;
}

std::string tokenizer_json(bool bytes) {
  nlohmann::json vocab = nlohmann::json::array();
  nlohmann::json added = nlohmann::json::array();
  const auto ps = pieces(bytes);
  for (size_t i = 0; i < ps.size(); ++i) {
    vocab.push_back({ps[i].text, ps[i].score});
    if (ps[i].type == 3 || ps[i].type == 4) {
      added.push_back({{"id", i}, {"content", ps[i].text}, {"special", ps[i].type == 3}});
    }
  }
  nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", kSpaceMark}, {"prepend_scheme", "always"}, {"split", true}}},
      {"decoder", {{"type", "Metaspace"}, {"replacement", kSpaceMark}, {"prepend_scheme", "always"}, {"split", true}}},
      {"model", {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", vocab}, {"byte_fallback", bytes}}},
  };
  return j.dump();
}

// Protobuf wire format by hand.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void tag(std::string& out, uint32_t field, uint32_t wire) { varint(out, (uint64_t{field} << 3) | wire); }
void bytes_field(std::string& out, uint32_t field, const std::string& s) {
  tag(out, field, 2);
  varint(out, s.size());
  out += s;
}
void varint_field(std::string& out, uint32_t field, uint64_t v) {
  tag(out, field, 0);
  varint(out, v);
}

std::string sentencepiece_model(bool bytes, int32_t unk_id = 0, bool remove_extra_whitespaces = false) {
  std::string out;
  for (const P& p : pieces(bytes)) {
    std::string sp;
    bytes_field(sp, 1, p.text);
    tag(sp, 2, 5);
    uint32_t raw = 0;
    std::memcpy(&raw, &p.score, 4);
    for (int k = 0; k < 4; ++k) sp.push_back(static_cast<char>((raw >> (8 * k)) & 0xFF));
    varint_field(sp, 3, static_cast<uint64_t>(p.type));
    bytes_field(out, 1, sp);
  }
  std::string trainer;
  varint_field(trainer, 3, 1);  // model_type UNIGRAM
  varint_field(trainer, 35, bytes ? 1 : 0);
  varint_field(trainer, 40, static_cast<uint64_t>(unk_id));
  varint_field(trainer, 41, 1);
  varint_field(trainer, 42, 2);
  bytes_field(out, 2, trainer);
  std::string normalizer;
  bytes_field(normalizer, 1, "identity");
  varint_field(normalizer, 3, 1);  // add_dummy_prefix
  varint_field(normalizer, 4, remove_extra_whitespaces ? 1 : 0);
  bytes_field(out, 3, normalizer);
  return out;
}

std::unique_ptr<Tokenizer> load(const std::string& name, const std::string& content) {
  const fs::path dir = scratch_path("unigram-" + name);
  fs::create_directories(dir);
  const fs::path path = dir / name;
  write_file(path, content);
  return Tokenizer::from_file(path.string());
}

std::vector<std::string> texts_of(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.emplace_back(tok.piece(id));
  return out;
}

using Strings = std::vector<std::string>;

void check_viterbi(const Tokenizer& tok) {
  EXPECT_EQ(tok.kind(), "unigram");
  // ▁hello (-2.5) beats ▁he + llo (-3) and ▁h e l l o (-15).
  EXPECT_EQ(texts_of(tok, tok.encode("hello", false)), (Strings{kSpaceMark + "hello"}));
  // ▁wor + ld (-5.7) beats ▁world (-9), ▁w + or + ld (-8) and ▁ + w + or + ld (-10).
  EXPECT_EQ(texts_of(tok, tok.encode("world", false)), (Strings{kSpaceMark + "wor", "ld"}));
  // ▁hello + w (-5.5) beats ▁he + llo + w (-6).
  EXPECT_EQ(texts_of(tok, tok.encode("hellow", false)), (Strings{kSpaceMark + "hello", "w"}));
  EXPECT_EQ(texts_of(tok, tok.encode("hello world", false)), (Strings{kSpaceMark + "hello", kSpaceMark + "wor", "ld"}));
  // Two spaces: the second ▁ stands alone.
  EXPECT_EQ(texts_of(tok, tok.encode("he  he", false)), (Strings{kSpaceMark + "he", kSpaceMark, kSpaceMark + "he"}));
  EXPECT_EQ(tok.encode("hello", false), (std::vector<int32_t>{5}));
  EXPECT_EQ(tok.encode("", false), (std::vector<int32_t>{}));
  // User-defined pieces are matched whole, wherever they are.
  EXPECT_EQ(texts_of(tok, tok.encode("he[x]llo", false)), (Strings{kSpaceMark + "he", "[x]", "llo"}));
}

void check_round_trips(const Tokenizer& tok) {
  for (const std::string text : {"hello world", "hellow  world", " hello", "world ", "he[x]llo", "o"}) {
    const auto ids = tok.encode(text, false);
    EXPECT_EQ(tok.decode(ids), text) << text;
    EXPECT_EQ(test::streamed(tok, ids), text) << text;
  }
}

TEST(UnigramTokenizer, TokenizerJsonViterbi) {
  const auto tok = load("tokenizer.json", tokenizer_json(false));
  check_viterbi(*tok);
  check_round_trips(*tok);
  EXPECT_TRUE(tok->lossless());
}

TEST(UnigramTokenizer, TokenizerJsonUnknownRunsFuse) {
  const auto tok = load("tokenizer.json", tokenizer_json(false));
  // y and z are in no piece: ▁he + one <unk> for the run (unknown costs min score - 10 = -19 each).
  EXPECT_EQ(tok->encode("heyz", false), (std::vector<int32_t>{3, 0}));
  EXPECT_EQ(tok->encode("heyz hello", false), (std::vector<int32_t>{3, 0, 5}));
  // A lone unknown character after the dummy prefix: ▁ (-2) + <unk>.
  EXPECT_EQ(tok->encode("\xC3\xA9", false), (std::vector<int32_t>{10, 0}));
  EXPECT_EQ(tok->decode(std::vector<int32_t>{3, 0}), "he \xE2\x81\x87 ");
}

TEST(UnigramTokenizer, TokenizerJsonByteFallback) {
  const auto tok = load("tokenizer.json", tokenizer_json(true));
  check_viterbi(*tok);
  // y = 0x79 -> <0x79> at 18 + 0x79; é = C3 A9.
  EXPECT_EQ(tok->encode("hey", false), (std::vector<int32_t>{3, 18 + 0x79}));
  EXPECT_EQ(tok->encode("\xC3\xA9", false), (std::vector<int32_t>{10, 18 + 0xC3, 18 + 0xA9}));
  for (const std::string text : {"hey \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80 hello", "\xE4\xB8\xAD\xE6\x96\x87"}) {
    const auto ids = tok->encode(text, false);
    for (int32_t id : ids) EXPECT_NE(id, 0) << text;
    EXPECT_EQ(tok->decode(ids), text);
    EXPECT_EQ(test::streamed(*tok, ids), text);
  }
}

TEST(UnigramTokenizer, RandomTextRoundTrips) {
  const auto json = load("tokenizer.json", tokenizer_json(true));
  const auto spm = load("tokenizer.model", sentencepiece_model(true));
  const std::vector<std::string> parts = {"h", "e", "l", "o", "w", "r", "d", " ", "  ", "\xC3\xA9", "[x]", "y", "\xFF",
                                          kSpaceMark, "hello", "world", "\xF0\x9F\x98\x80"};
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) text += parts[rng() % parts.size()];
    const auto ids = spm->encode(text, false);
    EXPECT_EQ(json->encode(text, false), ids) << text;
    // U+2581 in the text comes back as a space (as with SentencePiece).
    std::string want;
    for (size_t i = 0; i < text.size();) {
      if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
        want += ' ';
        i += kSpaceMark.size();
      } else {
        want += text[i++];
      }
    }
    if (want.starts_with(" ") && text.starts_with(kSpaceMark)) continue;  // the dummy-prefix rule eats it
    EXPECT_EQ(spm->decode(ids), want) << text;
    EXPECT_EQ(test::streamed(*spm, ids), want) << text;
  }
}

TEST(UnigramTokenizer, SentencePieceModelMatchesJson) {
  for (const bool bytes : {false, true}) {
    const auto json = load("tokenizer.json", tokenizer_json(bytes));
    const auto spm = load("tokenizer.model", sentencepiece_model(bytes));
    check_viterbi(*spm);
    check_round_trips(*spm);
    EXPECT_EQ(spm->n_vocab(), json->n_vocab());
    for (const std::string text : {"hello world", "heyz hello", "hellow \xC3\xA9 he[x]llo", "  world  ", "o"}) {
      EXPECT_EQ(spm->encode(text, false), json->encode(text, false)) << text << " bytes " << bytes;
    }
    EXPECT_EQ(spm->bos(), 1);
    EXPECT_EQ(spm->eos(), 2);
    EXPECT_EQ(spm->encode("hello", true), (std::vector<int32_t>{1, 5}));
  }
}

TEST(UnigramTokenizer, SentencePieceRemovesExtraWhitespaces) {
  const auto tok = load("tokenizer.model", sentencepiece_model(false, 0, /*remove_extra_whitespaces=*/true));
  EXPECT_FALSE(tok->lossless());
  EXPECT_EQ(tok->encode("   hello    world  ", false), tok->encode("hello world", false));
  EXPECT_EQ(tok->encode("   ", false), (std::vector<int32_t>{}));
}

TEST(UnigramTokenizer, MalformedFilesNameTheFile) {
  const auto expect_error = [](const std::string& name, const std::string& content, const std::string& says) {
    const fs::path path = scratch_path("unigram-bad-" + name);
    write_file(path, content);
    try {
      (void)Tokenizer::from_file(path.string());
      ADD_FAILURE() << path << ": no error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path.string()), std::string::npos) << what;
      EXPECT_NE(what.find(says), std::string::npos) << what;
    }
  };
  auto j = nlohmann::json::parse(tokenizer_json(false));
  j["model"]["vocab"][4][1] = "-2";
  expect_error("score.json", j.dump(), "not a number");
  j = nlohmann::json::parse(tokenizer_json(false));
  j["model"]["vocab"][4] = "llo";
  expect_error("entry.json", j.dump(), "[piece, score]");
  j = nlohmann::json::parse(tokenizer_json(false));
  j["model"]["unk_id"] = 99;
  expect_error("unk.json", j.dump(), "unk_id");
  j = nlohmann::json::parse(tokenizer_json(false));
  j["model"]["vocab"] = nlohmann::json::array({nlohmann::json::array({"a", -1})});
  j["model"].erase("unk_id");
  j.erase("added_tokens");
  expect_error("nounk.json", j.dump(), "unk");
  expect_error("unk.model", sentencepiece_model(false, 99), "unk_id");
}

TEST(UnigramTokenizer, GgufT5VocabularyMatchesSentencePiece) {
  gguf::Array tokens{gguf::ValueType::string, {}};
  gguf::Array scores{gguf::ValueType::f32, {}};
  gguf::Array types{gguf::ValueType::i32, {}};
  for (const P& p : pieces(true)) {
    tokens.items.push_back(gguf::Value{p.text});
    scores.items.push_back(gguf::Value{p.score});
    types.items.push_back(gguf::Value{static_cast<int32_t>(p.type)});
  }
  gguf::Writer w;
  w.set("general.architecture", gguf::Value{std::string("t5")});
  w.set("tokenizer.ggml.model", gguf::Value{std::string("t5")});
  w.set("tokenizer.ggml.tokens", gguf::Value{tokens});
  w.set("tokenizer.ggml.scores", gguf::Value{scores});
  w.set("tokenizer.ggml.token_type", gguf::Value{types});
  w.set("tokenizer.ggml.unknown_token_id", gguf::Value{uint32_t{0}});
  w.set("tokenizer.ggml.eos_token_id", gguf::Value{uint32_t{2}});
  w.set("tokenizer.ggml.remove_extra_whitespaces", gguf::Value{false});
  const fs::path path = scratch_path("unigram-t5.gguf");
  w.write(path.string());
  const auto gguf_tok = Tokenizer::from_file(path.string());
  const auto spm = load("tokenizer.model", sentencepiece_model(true));
  EXPECT_EQ(gguf_tok->kind(), "unigram");
  EXPECT_FALSE(gguf_tok->add_bos_by_default());
  for (const std::string text : {"hello world", "hey \xC3\xA9 he[x]llo", "  world  "}) {
    EXPECT_EQ(gguf_tok->encode(text, false), spm->encode(text, false)) << text;
  }
}

TEST(UnigramTokenizer, MistralV7ModelLoads) {
  OWL_REQUIRE_FIXTURE(dir, "mistral-common");
  const auto tok = Tokenizer::from_file((dir / "mistral_instruct_tokenizer_241114.model.v7").string());
  ASSERT_GT(tok->n_vocab(), 1000);
  const std::string text = "Hello, world! How are you today? \xC3\xA9t\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 123";
  const auto ids = tok->encode(text, false);
  EXPECT_GT(ids.size(), 5u);
  EXPECT_EQ(tok->decode(ids), text);
  EXPECT_EQ(test::streamed(*tok, ids), text);
}

}  // namespace
}  // namespace owl
