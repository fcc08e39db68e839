// Tokenizers built from Hugging Face / SentencePiece / tiktoken files against the llama.cpp vectors
// and against the GGUF vocabulary of the same model; the mistral-common chat samples; errors for
// malformed files; invalid UTF-8.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "fixtures.h"
#include "test_files.h"
#include "tokenizer/tokenizer.h"
#include "vocab_vectors.h"

namespace owl {
namespace {

namespace fs = std::filesystem;
using test::read_pairs;
using test::run_pair;
using test::streamed;

std::vector<std::string> vocab_vector_texts(const fs::path& vocab_dir, const std::string& name) {
  const fs::path base = vocab_dir / ("ggml-vocab-" + name + ".gguf");
  std::vector<std::string> texts;
  for (const test::Case& c : read_pairs(fs::path(base.string() + ".inp"), fs::path(base.string() + ".out"))) texts.push_back(c.text);
  return texts;
}

TEST(BpeTokenizerHfFiles, LlamaBpeFromTiktoken) {
  OWL_REQUIRE_FIXTURES();
  if (!fs::exists(fixtures / "llama3-tiktoken/tokenizer.model")) GTEST_SKIP() << "fixtures not found: llama3-tiktoken";
  const auto tok = Tokenizer::from_file((fixtures / "llama3-tiktoken/tokenizer.model").string());
  EXPECT_EQ(tok->n_vocab(), 128256);
  EXPECT_EQ(tok->bos(), 128000);
  EXPECT_TRUE(tok->is_end_of_generation(128009));
  EXPECT_EQ(run_pair(*tok, fixtures / "llamacpp-vocab", "llama-bpe"), 46);
  // Special tokens only with parse_special; BOS from add_bos_token.
  const auto ids = tok->encode_with_specials("<|start_header_id|>user<|end_header_id|>", true);
  EXPECT_EQ(ids, (std::vector<int32_t>{128000, 128006, 882, 128007}));
  EXPECT_GT(tok->encode("<|eot_id|>", false).size(), 1u);
}

TEST(BpeTokenizerHfFiles, LlamaBpeFromEncoderJsonAndMerges) {
  OWL_REQUIRE_FIXTURE(dir, "llama3.2-bpe-ollama");
  const auto tok = Tokenizer::from_file((dir / "encoder.json").string());
  EXPECT_EQ(run_pair(*tok, fixtures / "llamacpp-vocab", "llama-bpe"), 46);
  // Rank-based (tiktoken) and merge-based paths agree on everything, not only the vectors.
  const auto tik = Tokenizer::from_file((fixtures / "llama3-tiktoken/tokenizer.model").string());
  const std::string text = read_file(fixtures / "README.md");
  EXPECT_TRUE(tok->encode(text, false) == tik->encode(text, false));
}

TEST(BpeTokenizerHfFiles, Qwen2FromVocabJsonAndMerges) {
  OWL_REQUIRE_FIXTURE(dir, "qwen2-tokenizer");
  const auto tok = Tokenizer::from_hf_dir(dir.string());
  EXPECT_EQ(run_pair(*tok, fixtures / "llamacpp-vocab", "qwen2"), 46);
  EXPECT_EQ(tok->encode("<|im_start|>user", false, true).front(), 151644);
  EXPECT_TRUE(tok->is_end_of_generation(151645));
  EXPECT_FALSE(tok->add_bos_by_default());
  // NFC: a decomposed accent gives the ids of the composed one.
  EXPECT_EQ(tok->encode("Cafe\xCC\x81", false), tok->encode("Caf\xC3\xA9", false));
}

TEST(BpeTokenizerHfFiles, Gpt2FromVocabAndMerges) {
  OWL_REQUIRE_FIXTURE(dir, "ortx-hf-tokenizers/gpt2");
  const auto tok = Tokenizer::from_file((dir / "gpt2.vocab").string());
  EXPECT_EQ(run_pair(*tok, fixtures / "llamacpp-vocab", "gpt-2"), 46);
}

// The same Llama 2 / Phi-3 vocabulary from tokenizer.model, tokenizer.json and GGUF: same ids.
void expect_same_ids(const Tokenizer& a, const Tokenizer& b, const std::vector<std::string>& texts, const std::string& what) {
  int same = 0;
  for (const std::string& t : texts) {
    const auto x = a.encode(t, false);
    EXPECT_EQ(x, b.encode(t, false)) << what << ": '" << t << "'";
    same += x == b.encode(t, false) ? 1 : 0;
    EXPECT_EQ(a.decode(x), t) << what;
  }
  std::printf("[ %s ] %d/%zu texts give the same ids\n", what.c_str(), same, texts.size());
  EXPECT_EQ(same, static_cast<int>(texts.size()));
}

TEST(SpmTokenizerHfFiles, Llama2ModelAndJsonMatchGguf) {
  OWL_REQUIRE_FIXTURE(vocab_dir, "llamacpp-vocab");
  const auto gguf = test::load_gguf_tokenizer(vocab_dir / "ggml-vocab-llama-spm.gguf");
  auto texts = vocab_vector_texts(vocab_dir, "llama-spm");
  texts.push_back(read_file(vocab_dir / "LICENSE"));
  const auto model = Tokenizer::from_file((fixtures / "llama2c-tokenizer/tokenizer.model").string());
  expect_same_ids(*model, *gguf, texts, "llama2 tokenizer.model vs GGUF");
  EXPECT_EQ(run_pair(*model, vocab_dir, "llama-spm"), 46);
  const auto json = Tokenizer::from_file((fixtures / "ortx-hf-tokenizers/llama2/tokenizer.json").string());
  expect_same_ids(*json, *gguf, texts, "llama2 tokenizer.json vs GGUF");
  EXPECT_EQ(json->bos(), 1);
  EXPECT_TRUE(json->add_bos_by_default());
}

TEST(SpmTokenizerHfFiles, Phi3JsonMatchesGguf) {
  OWL_REQUIRE_FIXTURE(vocab_dir, "llamacpp-vocab");
  const auto gguf = test::load_gguf_tokenizer(vocab_dir / "ggml-vocab-phi-3.gguf");
  const auto json = Tokenizer::from_file((fixtures / "ortx-hf-tokenizers/phi-3-mini/tokenizer.json").string());
  expect_same_ids(*json, *gguf, vocab_vector_texts(vocab_dir, "phi-3"), "phi-3 tokenizer.json vs GGUF");
  EXPECT_EQ(run_pair(*json, vocab_dir, "phi-3"), 46);
  const auto a = json->encode("<|user|>\nHi<|end|>", false, true);
  // HF marks <|user|> rstrip: the newline after it is absorbed (the GGUF vocabulary has no such flag).
  EXPECT_EQ(a.front(), 32010);
  EXPECT_EQ(a.back(), 32007);
  EXPECT_EQ(gguf->encode("<|user|>\nHi<|end|>", false, true).size(), a.size() + 1);
}

TEST(BpeTokenizerHfFiles, Phi2JsonMatchesGpt2) {
  OWL_REQUIRE_FIXTURE(vocab_dir, "llamacpp-vocab");
  const auto json = Tokenizer::from_file((fixtures / "ortx-hf-tokenizers/phi-2/tokenizer.json").string());
  const auto gpt2 = test::load_gguf_tokenizer(vocab_dir / "ggml-vocab-gpt-2.gguf");
  // Phi-2 (CodeGen) adds tokens for runs of spaces and tabs; elsewhere it is GPT-2.
  std::vector<std::string> texts;
  for (const std::string& t : vocab_vector_texts(vocab_dir, "gpt-2")) {
    if (t.find("  ") == std::string::npos && t.find("\t\t") == std::string::npos) texts.push_back(t);
  }
  expect_same_ids(*json, *gpt2, texts, "phi-2 tokenizer.json vs gpt-2 GGUF");
  for (const std::string& t : vocab_vector_texts(vocab_dir, "gpt-2")) {
    EXPECT_EQ(json->decode(json->encode(t, false)), t);
  }
}

// mistral-common: the joined pieces of each sample, with U+2581 read as a space and <0xXX> as its byte, give the expected
// ids once control tokens are recognised and no dummy prefix follows them.
TEST(SpmTokenizerHfFiles, MistralCommonSamples) {
  OWL_REQUIRE_FIXTURE(dir, "mistral-common");
  const std::pair<std::string, std::string> versions[] = {
      {"v1", "tokenizer.model.v1"},
      {"v2", "mistral_instruct_tokenizer_240216.model.v2"},
      {"v3", "mistral_instruct_tokenizer_240323.model.v3"},
  };
  int total = 0;
  int passed = 0;
  for (const auto& [version, file] : versions) {
    const auto tok = Tokenizer::from_file((dir / file).string());
    for (const auto& sample : fs::directory_iterator(dir / "samples")) {
      const fs::path text_path = sample.path() / ("text_" + version + ".txt");
      const fs::path ids_path = sample.path() / ("tokens_" + version + ".json");
      if (!fs::exists(text_path) || !fs::exists(ids_path)) continue;
      std::string text = read_file(text_path);
      std::string plain;
      for (size_t i = 0; i < text.size();) {
        if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
          plain += ' ';
          i += 3;
        } else if (text.compare(i, 3, "<0x") == 0 && i + 6 <= text.size() && text[i + 5] == '>') {
          plain += static_cast<char>(std::stoi(text.substr(i + 3, 2), nullptr, 16));  // a byte piece
          i += 6;
        } else {
          plain += text[i++];
        }
      }
      const auto want = nlohmann::json::parse(read_file(ids_path)).at("tokens").get<std::vector<int32_t>>();
      const auto ids = tok->encode(plain, false, /*parse_special=*/true);
      size_t diff = 0;
      while (diff < ids.size() && diff < want.size() && ids[diff] == want[diff]) ++diff;
      EXPECT_EQ(ids, want) << version << " " << sample.path().filename() << " first difference at " << diff << ": "
                           << (diff < ids.size() ? tok->decode(std::vector<int32_t>(ids.begin() + diff, ids.begin() + std::min(ids.size(), diff + 8))) : "")
                           << " | want " << (diff < want.size() ? tok->decode(std::vector<int32_t>(want.begin() + diff, want.begin() + std::min(want.size(), diff + 8))) : "");
      ++total;
      passed += ids == want ? 1 : 0;
    }
  }
  std::printf("[ mistral-common ] %d/%d samples match\n", passed, total);
  EXPECT_EQ(passed, total);
  EXPECT_GE(total, 13);
}

TEST(TokenizerHfFiles, MalformedFilesNameTheFile) {
  OWL_REQUIRE_FIXTURES();
  const auto expect_error = [](const fs::path& path, const std::string& content) {
    write_file(path, content);
    try {
      (void)Tokenizer::from_file(path.string());
      ADD_FAILURE() << path << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  };
  expect_error(scratch_path("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": [1,2]}}");
  expect_error(scratch_path("tokenizer.json"), "{\"model\": ");
  expect_error(scratch_path("tokenizer.json"), "{\"model\": {\"type\": \"Mystery\", \"vocab\": {}}}");
  expect_error(scratch_path("tokenizer.model"), std::string("\x0a\x05\x0a\x03", 4));  // truncated piece
  expect_error(scratch_path("tokenizer.model"), std::string("\x0a\xff\xff\xff\xff\x0f", 6));
  expect_error(scratch_path("tokenizer.model"), "");
  expect_error(scratch_path("tiktoken.model"), "YQ== 0\nYg== 5\n");
  expect_error(scratch_path("vocab.json"), "{\"a\": 0}");  // no merges.txt beside it
  // Found by fuzz/tokenizer_json_fuzz: an added token id out of int range (undefined behaviour in the
  // conversion), and a BertProcessing "cls" without its id (read past the array's end).
  const std::string wordpiece = R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2}},)";
  expect_error(scratch_path("tokenizer.json"), wordpiece + R"( "added_tokens": [{"id": 5e24, "content": "x"}]})");
  expect_error(scratch_path("tokenizer.json"), wordpiece + R"( "added_tokens": [{"id": -1, "content": "x"}]})");
  expect_error(scratch_path("tokenizer.json"),
               wordpiece + R"( "post_processor": {"type": "BertProcessing", "cls": ["[CLS]"], "sep": ["[SEP]", 2]}})");
  // And a WordPiece max_input_chars_per_word of 2e43 (a float converted to size_t: undefined behaviour).
  expect_error(scratch_path("tokenizer.json"),
               R"({"model": {"type": "WordPiece", "max_input_chars_per_word": 2e43, "vocab": {"[UNK]": 0}}})");
  // The real files, cut short.
  const std::string spm = read_file(fixtures / "llama2c-tokenizer/tokenizer.model");
  expect_error(scratch_path("tokenizer.model"), spm.substr(0, spm.size() / 2));
}

TEST(TokenizerHfFiles, InvalidUtf8EncodesWithoutCrash) {
  OWL_REQUIRE_FIXTURE(vocab_dir, "llamacpp-vocab");
  const std::string bad = "ok \xFF\xFE broken \xC3 utf8 \xE2\x82 end \xED\xA0\x80 \xF0\x9F\xA6";
  std::vector<std::unique_ptr<Tokenizer>> toks;
  for (const char* name : {"gpt-2", "llama-spm", "deepseek-llm", "falcon", "bert-bge"}) {
    toks.push_back(test::load_gguf_tokenizer(vocab_dir / (std::string("ggml-vocab-") + name + ".gguf")));
  }
  toks.push_back(Tokenizer::from_file((fixtures / "llama3-tiktoken/tokenizer.model").string()));
  toks.push_back(Tokenizer::from_hf_dir((fixtures / "qwen2-tokenizer").string()));
  for (size_t t = 0; t < toks.size(); ++t) {
    const auto& tok = toks[t];
    // deepseek-llm and falcon lack tokens for the bytes FE / FF (never in UTF-8), BERT lower-cases.
    const bool all_bytes = t != 2 && t != 3 && t != 4;
    const auto ids = tok->encode(bad, false);
    ASSERT_FALSE(ids.empty());
    for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok->n_vocab());
    if (all_bytes) {
      EXPECT_EQ(tok->decode(ids), bad) << t;  // byte fallback keeps every byte
    }
    EXPECT_EQ(streamed(*tok, ids), tok->decode(ids));
  }
}

}  // namespace
}  // namespace owl
