// hf_tokenizer_files: every "llama" (SentencePiece) and "gpt2" (byte-level BPE) GGUF vocabulary of the
// fixtures, written as Hugging Face files, reads back through Tokenizer::from_hf_dir to the tokenizer
// Tokenizer::from_gguf builds (pieces, specials, ids on the llama.cpp vectors with and without special
// tokens), and through hf_tokenizer_metadata to the same tokens and merges; other models fail by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "fixtures.h"
#include "formats/gguf.h"
#include "formats/model_file.h"
#include "test_files.h"
#include "tokenizer/gguf_export.h"
#include "tokenizer/hf_export.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"
#include "vocab_vectors.h"

namespace owl {
namespace {

namespace fs = std::filesystem;

// Differences HF files cannot avoid, by id.
struct HfExpect {
  std::set<int32_t> types_differ;             // from_hf_dir vs from_gguf: HF has no unknown / unused types
  std::set<int32_t> round_trip_types_differ;  // hf_tokenizer_metadata vs the GGUF: llama.cpp's typing rules
};

// The texts of a llama.cpp vector file, a long text, and one that spells every control / user-defined token.
std::vector<std::string> texts_for(const fs::path& fixtures, const std::string& vectors, const Vocab& v) {
  const fs::path base = fixtures / "llamacpp-vocab" / ("ggml-vocab-" + vectors + ".gguf");
  std::vector<std::string> texts;
  for (const auto& c : test::read_pairs(fs::path(base.string() + ".inp"), fs::path(base.string() + ".out")))
    texts.push_back(c.text);
  texts.push_back(read_file(fixtures / "README.md"));
  texts.push_back(" Hello  world\n\n\tünïcödé ✓ 🦙 中文 1234567 it's <unk> [PAD] <s>");
  std::string runs;  // Llama 2's 15 whitespace pieces share one score: tie-breaking shows here
  for (int n = 1; n <= 70; ++n) {
    runs.append("a").append(static_cast<size_t>(n), ' ').append("b\n").append(static_cast<size_t>(n), ' ');
  }
  texts.push_back(runs);
  std::string specials = "Hi";
  for (int32_t id = 0; id < v.size(); ++id) {
    const TokenType t = v.type(id);
    if (t == TokenType::control || t == TokenType::user_defined) specials += v.tokens[static_cast<size_t>(id)] + " x\n";
  }
  texts.push_back(specials);
  return texts;
}

fs::path write_hf_dir(const std::string& name, const HfTokenizerFiles& files) {
  const fs::path dir = scratch_path("hf-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file(dir / "tokenizer.json", files.tokenizer_json);
  write_file(dir / "tokenizer_config.json", files.tokenizer_config_json);
  return dir;
}

std::string show(const std::set<int32_t>& ids) {
  std::string out;
  for (const int32_t id : ids) {
    if (out.size() > 60) return out + "... (" + std::to_string(ids.size()) + ")";
    if (!out.empty()) out += ' ';
    out += std::to_string(id);
  }
  return out;
}

// Writes the vocabulary of gguf as HF files and compares what owl reads from both.
void expect_same_tokenizer(const ModelFile& gguf, const std::string& name, const std::vector<std::string>& texts,
                           const HfExpect& e = {}) {
  const Vocab vocab = Vocab::from_gguf(gguf);
  const fs::path dir = write_hf_dir(name, hf_tokenizer_files(vocab, std::nullopt));
  const auto gg = Tokenizer::from_gguf(gguf);
  const auto hf = Tokenizer::from_hf_dir(dir.string());
  EXPECT_EQ(hf->kind(), gg->kind()) << name;
  ASSERT_EQ(hf->n_vocab(), gg->n_vocab()) << name;
  EXPECT_EQ(hf->bos(), gg->bos()) << name;
  EXPECT_EQ(hf->eos(), gg->eos()) << name;
  EXPECT_EQ(hf->add_bos_by_default(), gg->add_bos_by_default()) << name;
  EXPECT_EQ(hf->add_eos_by_default(), gg->add_eos_by_default()) << name;
  int pieces = 0;
  std::set<int32_t> types;
  for (int32_t id = 0; id < gg->n_vocab(); ++id) {
    if (hf->piece(id) != gg->piece(id) && pieces++ < 3)
      ADD_FAILURE() << name << ": piece " << id << ": " << hf->piece(id);
    if (hf->token_type(id) != gg->token_type(id)) types.insert(id);
  }
  EXPECT_EQ(pieces, 0) << name;
  EXPECT_EQ(types, e.types_differ) << name << ": types differ at " << show(types);
  int same = 0;
  for (const std::string& text : texts) {
    for (const bool special : {false, true}) {
      const auto ids = gg->encode(text, false, special);
      const bool retyped = std::any_of(ids.begin(), ids.end(), [&](int32_t id) { return types.count(id) != 0; });
      const bool ok = hf->encode(text, false, special) == ids && (retyped || hf->decode(ids) == gg->decode(ids));
      EXPECT_TRUE(ok) << name << (special ? " (parse_special)" : "") << ": '" << text.substr(0, 120) << "'";
      same += ok ? 1 : 0;
    }
  }
  std::printf("[ %s ] %d pieces, %d/%zu encodings agree, types differ at {%s}\n", name.c_str(), gg->n_vocab(), same,
              2 * texts.size(), show(types).c_str());

  // hf_tokenizer_metadata reads the directory back to the GGUF's tokens (and merges).
  AssembledModelFile back(dir.string(), "hf");
  for (auto& [key, value] : hf_tokenizer_metadata(dir.string())) back.set(key, std::move(value));
  const Vocab again = Vocab::from_gguf(back);
  EXPECT_EQ(again.model, vocab.model) << name;
  EXPECT_TRUE(again.tokens == vocab.tokens) << name;
  std::set<int32_t> retyped;
  for (int32_t id = 0; id < std::min(again.size(), vocab.size()); ++id) {
    if (again.type(id) != vocab.type(id)) retyped.insert(id);
  }
  EXPECT_EQ(retyped, e.round_trip_types_differ) << name << ": round-trip types differ at " << show(retyped);
  if (vocab.model == "gpt2") {
    EXPECT_TRUE(again.merges == vocab.merges) << name << ": " << again.merges.size() << " vs " << vocab.merges.size();
    bool ignore[2] = {false, false};
    bool nfc[2] = {false, false};
    const PreTokenizer read = PreTokenizer::from_gguf_pre(again.pre, name, ignore[0], nfc[0]);
    const PreTokenizer written = PreTokenizer::from_gguf_pre(vocab.pre, name, ignore[1], nfc[1]);
    EXPECT_TRUE(read.same_steps(written) && ignore[0] == ignore[1] && nfc[0] == nfc[1])
        << name << ": " << again.pre << " vs " << vocab.pre;
  }
}

void expect_same_gguf(const fs::path& path, const std::string& vectors, const HfExpect& e = {}) {
  OWL_REQUIRE_FIXTURES();
  if (!fs::exists(path)) GTEST_SKIP() << "fixtures not found at " << path;
  const auto file = gguf::File::open(path.string());
  expect_same_tokenizer(*file, path.stem().string(), texts_for(fixtures, vectors, Vocab::from_gguf(*file)), e);
}

fs::path vocab_file(const std::string& name) {
  const auto root = owl_fixtures();
  return (root ? *root : fs::path(owl_fixtures_wanted())) / "llamacpp-vocab" / ("ggml-vocab-" + name + ".gguf");
}

std::set<int32_t> range(int32_t first, int32_t last) {
  std::set<int32_t> ids;
  for (int32_t id = first; id <= last; ++id) ids.insert(id);
  return ids;
}

TEST(HfTokenizerFiles, LlamaSpm) { expect_same_gguf(vocab_file("llama-spm"), "llama-spm"); }
TEST(HfTokenizerFiles, Baichuan) { expect_same_gguf(vocab_file("baichuan"), "llama-spm"); }

TEST(HfTokenizerFiles, Phi3) {
  // The <unk> of Phi-3's GGUF is control-typed, its [PAD] fillers unknown-typed: HF's unk token reads back
  // as unknown, the fillers as normal (HF files have no unknown type but the unk token's).
  HfExpect e;
  e.types_differ = range(32011, 32063);
  e.types_differ.insert(0);
  e.round_trip_types_differ = range(32011, 32063);
  expect_same_gguf(vocab_file("phi-3"), "phi-3", e);
}

TEST(HfTokenizerFiles, Gpt2) { expect_same_gguf(vocab_file("gpt-2"), "gpt-2"); }
TEST(HfTokenizerFiles, DeepseekCoder) {
  // hf_tokenizer_metadata types added tokens that look special ("<｜fim▁hole｜>", "<pad>", "<|User|>", ...)
  // control, as llama.cpp does; this GGUF has them user-defined.
  HfExpect e;
  e.round_trip_types_differ = range(32015, 32021);
  expect_same_gguf(vocab_file("deepseek-coder"), "deepseek-coder", e);
}
TEST(HfTokenizerFiles, DeepseekLlm) { expect_same_gguf(vocab_file("deepseek-llm"), "deepseek-llm"); }
TEST(HfTokenizerFiles, Falcon) { expect_same_gguf(vocab_file("falcon"), "falcon"); }
TEST(HfTokenizerFiles, Mpt) { expect_same_gguf(vocab_file("mpt"), "mpt"); }
TEST(HfTokenizerFiles, GptNeox) { expect_same_gguf(vocab_file("gpt-neox"), "mpt"); }
TEST(HfTokenizerFiles, Refact) { expect_same_gguf(vocab_file("refact"), "refact"); }
TEST(HfTokenizerFiles, Starcoder) { expect_same_gguf(vocab_file("starcoder"), "starcoder"); }

TEST(HfTokenizerFiles, TinyModels) {
  OWL_REQUIRE_FIXTURE(dir, "archs");
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    expect_same_gguf(entry.path(), "llama-spm");
    ++n;
  }
  EXPECT_EQ(n, 10);
}

// Llama 3 and Qwen2 have no GGUF among the fixtures: built from their HF files by hf_tokenizer_metadata.
void expect_same_from_hf(const fs::path& src, const std::string& vectors, const HfExpect& e = {}) {
  OWL_REQUIRE_FIXTURES();
  if (!fs::exists(src)) GTEST_SKIP() << "fixtures not found at " << src;
  AssembledModelFile file(src.string(), "hf");
  for (auto& [key, value] : hf_tokenizer_metadata(src.string())) file.set(key, std::move(value));
  expect_same_tokenizer(file, vectors, texts_for(fixtures, vectors, Vocab::from_gguf(file)), e);
}

TEST(HfTokenizerFiles, Llama3) {
  const auto root = owl_fixtures();
  expect_same_from_hf(root ? *root / "llama3.2-bpe-ollama" : fs::path(), "llama-bpe");
}

TEST(HfTokenizerFiles, Qwen2) {
  // config.json's vocab_size pads the vocabulary with unused [PAD] fillers: normal in HF files.
  HfExpect e;
  e.types_differ = e.round_trip_types_differ = range(151646, 151935);
  const auto root = owl_fixtures();
  expect_same_from_hf(root ? *root / "qwen2-tokenizer" : fs::path(), "qwen2", e);
}

// A GGUF vocabulary changed in memory, as a model file.
std::unique_ptr<AssembledModelFile> as_model_file(const Vocab& v) {
  auto file = std::make_unique<AssembledModelFile>(v.source, "gguf");
  for (auto& [key, value] : vocab_metadata(v)) file->set(key, std::move(value));
  return file;
}

// The other layouts: no dummy prefix (Gemma-style SentencePiece; no Prepend, no Strip), EOS appended
// instead of BOS prepended, and a byte-level template with both.
TEST(HfTokenizerFiles, PrefixAndTemplateVariants) {
  OWL_REQUIRE_FIXTURES();
  const auto spm = gguf::File::open(vocab_file("llama-spm").string());
  Vocab v = Vocab::from_gguf(*spm);
  v.add_space_prefix = false;
  v.add_bos = false;
  v.add_eos = true;
  expect_same_tokenizer(*as_model_file(v), "llama-spm, no prefix, eos", texts_for(fixtures, "llama-spm", v));
  const auto tj = nlohmann::json::parse(hf_tokenizer_files(v, std::nullopt).tokenizer_json);
  EXPECT_EQ(tj.at("normalizer").at("type"), "Replace");
  EXPECT_EQ(tj.at("decoder").at("decoders").size(), 3u);
  const auto gpt2 = gguf::File::open(vocab_file("gpt-2").string());
  Vocab w = Vocab::from_gguf(*gpt2);
  w.add_bos = w.add_eos = true;
  expect_same_tokenizer(*as_model_file(w), "gpt-2, bos and eos", texts_for(fixtures, "gpt-2", w));
  EXPECT_EQ(nlohmann::json::parse(hf_tokenizer_files(w, std::nullopt).tokenizer_json).at("post_processor").at("type"),
            "Sequence");
}

// Merges whose pieces hold a space are written as [left, right] pairs ("a b" would be ambiguous).
TEST(HfTokenizerFiles, MergesWithSpacesAsPairs) {
  using T = TokenType;
  Vocab v;
  v.source = "spaces.gguf";
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", " ", "a ", "\xE2\x96\x81" "a", "b"};
  v.types = {T::unknown, T::control, T::control, T::normal, T::normal, T::normal, T::normal, T::normal, T::normal};
  v.scores = {0, 0, 0, -1, -2, -3, -4, -5, -6};
  v.unk = 0;
  const auto tj = nlohmann::json::parse(hf_tokenizer_files(v, std::nullopt).tokenizer_json);
  EXPECT_EQ(tj.at("model").at("merges"), nlohmann::json::parse(R"([["a", " "], ["\u2581", "a"]])"));
  EXPECT_EQ(tj.at("model").at("byte_fallback"), false);
  expect_same_tokenizer(*as_model_file(v), "spaces", {"a a b", "ab  ba", "a\tb", "é"});
}

TEST(HfTokenizerFiles, ConfigCarriesSpecialsAndTemplate) {
  OWL_REQUIRE_FIXTURE(path, "llamacpp-vocab/ggml-vocab-phi-3.gguf");
  const auto file = gguf::File::open(path.string());
  const HfTokenizerFiles files = hf_tokenizer_files(Vocab::from_gguf(*file), std::string("{{ messages }}"));
  const auto config = nlohmann::json::parse(files.tokenizer_config_json);
  EXPECT_EQ(config.at("bos_token"), "<s>");
  EXPECT_EQ(config.at("eos_token"), "<|endoftext|>");
  EXPECT_EQ(config.at("unk_token"), "<unk>");
  EXPECT_EQ(config.at("pad_token"), "<|endoftext|>");
  EXPECT_EQ(config.at("add_bos_token"), true);
  EXPECT_EQ(config.at("add_eos_token"), false);
  EXPECT_EQ(config.at("chat_template"), "{{ messages }}");
  EXPECT_EQ(config.at("added_tokens_decoder").at("32007").at("content"), "<|end|>");
  EXPECT_EQ(config.at("added_tokens_decoder").at("32007").at("special"), true);
  EXPECT_EQ(config.at("added_tokens_decoder").at("2").at("special"), false);  // user-defined "</s>"
  const auto tj = nlohmann::json::parse(files.tokenizer_json);
  EXPECT_EQ(tj.at("model").at("vocab").size(), 32064u);
  EXPECT_EQ(tj.at("model").at("byte_fallback"), true);
  EXPECT_EQ(tj.at("model").at("merges").at(0), "▁ t");  // the best-scored piece with a split
  EXPECT_FALSE(nlohmann::json::parse(hf_tokenizer_files(Vocab::from_gguf(*file), std::nullopt).tokenizer_config_json)
                   .contains("chat_template"));
}

TEST(HfTokenizerFiles, UnsupportedVocabulariesFailByName) {
  const auto expect_error = [](const Vocab& v, const std::string& words) {
    try {
      (void)hf_tokenizer_files(v, std::nullopt);
      ADD_FAILURE() << v.model << "/" << v.pre << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(v.source), std::string::npos) << e.what();
    }
  };
  Vocab v;
  v.source = "mem.gguf";
  v.tokens = {"a", "b", "ab"};
  v.model = "t5";
  v.scores = {0, 0, 0};
  expect_error(v, "'t5'");
  v.model = "gpt2";
  v.merges = {"a b"};
  v.pre = "no-such-pre";
  expect_error(v, "no-such-pre");
  v.pre = "gpt-2";
  v.tokens = {"a", "b", "a"};
  expect_error(v, "tokens 0 and 2");
  v.tokens = {"a", "b", "\xC3"};
  expect_error(v, "token 2 is not valid UTF-8");
  OWL_REQUIRE_FIXTURE(path, "llamacpp-vocab/ggml-vocab-bert-bge.gguf");
  const auto file = gguf::File::open(path.string());
  const Vocab bert = Vocab::from_gguf(*file);
  expect_error(bert, "'bert'");
}

}  // namespace
}  // namespace owl
