// vocab_metadata / hf_tokenizer_metadata: every llama.cpp vocab GGUF survives Vocab -> metadata unchanged;
// every HF tokenizer source of the fixtures, written as GGUF metadata and read back by Tokenizer::from_gguf,
// is the tokenizer Tokenizer::from_hf_dir builds (pieces, types, specials, ids on the llama.cpp vectors);
// the output is compared key by key with llama.cpp's GGUF of the same vocabulary, differences printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "fixtures.h"
#include "formats/gguf.h"
#include "test_files.h"
#include "tokenizer/gguf_export.h"
#include "tokenizer/tokenizer.h"
#include "vocab_vectors.h"

namespace owl {
namespace {

namespace fs = std::filesystem;
using Metadata = std::vector<std::pair<std::string, gguf::Value>>;

std::unique_ptr<gguf::File> as_gguf(const Metadata& kv, const std::string& name) {
  gguf::Writer w;
  for (const auto& [key, value] : kv) w.set(key, value);
  const fs::path path = scratch_path(name + ".gguf");
  w.write(path.string());
  return gguf::File::open(path.string());
}

const gguf::Value* find(const Metadata& kv, std::string_view key) {
  for (const auto& [k, v] : kv) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool same_value(const gguf::Value& a, const gguf::Value& b) {
  if (a.type() != b.type()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b.v);
        if constexpr (std::is_same_v<T, gguf::Array>) {
          if (x.elem != y.elem || x.items.size() != y.items.size()) return false;
          for (size_t i = 0; i < x.items.size(); ++i) {
            if (!same_value(x.items[i], y.items[i])) return false;
          }
          return true;
        } else {
          return x == y;
        }
      },
      a.v);
}

std::string show(const gguf::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v.v)) return "'" + *s + "'";
  if (v.type() == gguf::ValueType::boolean) return std::get<bool>(v.v) ? "true" : "false";
  if (v.is_integer()) return std::to_string(v.to_int("value"));
  if (v.is_float()) return std::to_string(v.to_double("value"));
  return std::string(gguf::value_type_name(v.type()));
}

// "" when equal, else how they differ (arrays: how many elements, and the first).
std::string difference(const gguf::Value& ours, const gguf::Value& theirs) {
  if (same_value(ours, theirs)) return "";
  const auto* a = std::get_if<gguf::Array>(&ours.v);
  const auto* b = std::get_if<gguf::Array>(&theirs.v);
  if (a == nullptr || b == nullptr) return show(ours) + " vs " + show(theirs);
  size_t n = 0;
  size_t first = SIZE_MAX;
  for (size_t i = 0; i < std::min(a->items.size(), b->items.size()); ++i) {
    if (!same_value(a->items[i], b->items[i])) {
      ++n;
      first = std::min(first, i);
    }
  }
  std::string out = fmt::format("{} vs {} elements, {} differ", a->items.size(), b->items.size(), n);
  if (first != SIZE_MAX)
    out += fmt::format(" (first at {}: {} vs {})", first, show(a->items[first]), show(b->items[first]));
  return out;
}

// Compares our tokenizer.ggml.* keys with those of a llama.cpp GGUF; prints and returns the keys that differ.
std::set<std::string> compare_with_llamacpp(const Metadata& ours, const fs::path& path, const std::string& what) {
  const auto file = gguf::File::open(path.string());
  std::set<std::string> keys;
  for (const auto& [key, value] : file->metadata()) {
    if (key.starts_with("tokenizer.ggml.")) keys.insert(key);
  }
  for (const auto& [key, value] : ours) keys.insert(key);
  std::set<std::string> differ;
  for (const std::string& key : keys) {
    const gguf::Value* a = find(ours, key);
    const gguf::Value* b = file->find(key);
    const std::string d = a == nullptr   ? "absent here, llama.cpp: " + show(*b)
                          : b == nullptr ? "absent in llama.cpp's, here: " + show(*a)
                                         : difference(*a, *b);
    if (d.empty()) continue;
    differ.insert(key);
    std::printf("[ %s vs %s ] %s: %s\n", what.c_str(), path.filename().c_str(), key.c_str(), d.c_str());
  }
  return differ;
}

std::vector<std::string> vector_texts(const fs::path& fixtures, const std::string& name) {
  const fs::path base = fixtures / "llamacpp-vocab" / ("ggml-vocab-" + name + ".gguf");
  std::vector<std::string> texts;
  for (const auto& c : test::read_pairs(fs::path(base.string() + ".inp"), fs::path(base.string() + ".out")))
    texts.push_back(c.text);
  texts.push_back(read_file(fixtures / "README.md"));
  texts.push_back(" Hello  world\n\n\tünïcödé ✓ 🦙 中文 1234567 it's");
  return texts;
}

// A scratch HF directory: links to fixture files under HF names, plus small files written here.
fs::path make_dir(const std::string& name, const std::vector<std::pair<std::string, fs::path>>& links,
                  const std::vector<std::pair<std::string, std::string>>& files = {}) {
  const fs::path dir = scratch_path(name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [to, from] : links) fs::create_symlink(fs::absolute(from), dir / to);
  for (const auto& [to, text] : files) write_file(dir / to, text);
  return dir;
}

struct Expect {
  std::set<int32_t> types_differ;  // ids llama.cpp's conventions type otherwise (an added <unk> is control)
  int32_t n_vocab = -1;            // the GGUF's size when config.json's vocab_size pads it
  int32_t bos = -2;                // the GGUF's bos when config.json gives one the HF loader ignores
  int32_t eos = -2;
  bool respelled = false;  // tiktoken: raw bytes become GPT-2's byte-level spelling
};

// llama.cpp types an added special <unk> control; the HF loader keeps SentencePiece's unknown.
Expect unk_is_control() {
  Expect e;
  e.types_differ = {0};
  return e;
}

// from_hf_dir and from_gguf(hf_tokenizer_metadata) agree; returns the metadata for further checks.
Metadata expect_round_trip(const fs::path& dir, const std::vector<std::string>& texts, const std::string& what,
                           const Expect& e = {}) {
  const auto hf = Tokenizer::from_hf_dir(dir.string());
  const Metadata kv = hf_tokenizer_metadata(dir.string());
  EXPECT_FALSE(kv.empty()) << what;
  const auto file = as_gguf(kv, what);
  const auto gg = Tokenizer::from_gguf(*file);
  EXPECT_EQ(gg->kind(), hf->kind()) << what;
  EXPECT_EQ(gg->n_vocab(), e.n_vocab >= 0 ? e.n_vocab : hf->n_vocab()) << what;
  int pieces = 0;
  std::set<int32_t> types;
  for (int32_t id = 0; id < std::min(hf->n_vocab(), gg->n_vocab()); ++id) {
    const bool retyped = e.types_differ.count(id) != 0;  // a control token prints nothing
    const bool same = (retyped || gg->token_to_piece(id) == hf->token_to_piece(id)) &&
                      (e.respelled || gg->piece(id) == hf->piece(id));
    if (!same && pieces++ < 3)
      ADD_FAILURE() << what << ": piece " << id << ": " << gg->piece(id) << " vs " << hf->piece(id);
    if (gg->token_type(id) != hf->token_type(id)) types.insert(id);
  }
  EXPECT_EQ(pieces, 0) << what;
  EXPECT_EQ(types, e.types_differ) << what;
  for (int32_t id = hf->n_vocab(); id < gg->n_vocab(); ++id) {
    EXPECT_EQ(gg->piece(id), fmt::format("[PAD{}]", id));
    EXPECT_EQ(gg->token_type(id), TokenType::unused);
  }
  EXPECT_EQ(gg->bos(), e.bos != -2 ? e.bos : hf->bos()) << what;
  EXPECT_EQ(gg->eos(), e.eos != -2 ? e.eos : hf->eos()) << what;
  EXPECT_EQ(gg->add_bos_by_default(), hf->add_bos_by_default()) << what;
  EXPECT_EQ(gg->add_eos_by_default(), hf->add_eos_by_default()) << what;
  EXPECT_EQ(gg->lossless(), hf->lossless()) << what;
  int same = 0;
  for (const std::string& text : texts) {
    for (const bool special : {false, true}) {
      const auto ids = hf->encode(text, false, special);
      const bool retyped =
          std::any_of(ids.begin(), ids.end(), [&](int32_t id) { return e.types_differ.count(id) != 0; });
      const bool ok = gg->encode(text, false, special) == ids && (retyped || gg->decode(ids) == hf->decode(ids));
      EXPECT_TRUE(ok) << what << (special ? " (parse_special)" : "") << ": '" << text.substr(0, 120) << "'";
      same += ok ? 1 : 0;
    }
  }
  std::printf("[ %s ] %zu keys, %d vocab, %d/%zu encodings agree\n", what.c_str(), kv.size(), gg->n_vocab(), same,
              2 * texts.size());
  return kv;
}

size_t array_size(const Metadata& kv, std::string_view key) {
  const gguf::Value* v = find(kv, key);
  return v == nullptr ? 0 : std::get<gguf::Array>(v->v).items.size();
}

std::string string_of(const Metadata& kv, std::string_view key) {
  const gguf::Value* v = find(kv, key);
  return v == nullptr ? "" : v->to_string(key);
}

TEST(VocabMetadata, RewritesEveryLlamaCppVocabUnchanged) {
  OWL_REQUIRE_FIXTURE(dir, "llamacpp-vocab");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    ++files;
    const auto file = gguf::File::open(entry.path().string());
    const Metadata kv = vocab_metadata(Vocab::from_gguf(*file));
    std::set<std::string> differ = compare_with_llamacpp(kv, entry.path(), "vocab_metadata");
    if (string_of(kv, "tokenizer.ggml.model") == "bert") {  // Vocab::from_gguf takes [CLS] / [SEP] as BOS / EOS
      differ.erase("tokenizer.ggml.bos_token_id");
      differ.erase("tokenizer.ggml.eos_token_id");
      differ.erase("tokenizer.ggml.token_type_count");  // BERT's segment count: a model setting, not the vocabulary
    }
    differ.erase("tokenizer.ggml.chat_template");
    EXPECT_TRUE(differ.empty()) << entry.path();
  }
  EXPECT_EQ(files, 12);
}

TEST(HfTokenizerMetadata, Llama2SentencePieceModelIsLlamaCppsVocab) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-tokenizer");
  const Metadata kv = expect_round_trip(dir, vector_texts(fixtures, "llama-spm"), "llama2 tokenizer.model");
  EXPECT_TRUE(compare_with_llamacpp(kv, fixtures / "llamacpp-vocab/ggml-vocab-llama-spm.gguf", "llama2 tokenizer.model")
                  .empty());
}

TEST(HfTokenizerMetadata, Llama2TokenizerJson) {
  OWL_REQUIRE_FIXTURE(dir, "ortx-hf-tokenizers/llama2");
  auto texts = vector_texts(fixtures, "llama-spm");
  texts.push_back("<s>[INST] <<SYS>>\nHi\n<</SYS>>\n\nThere [/INST] ok</s>");
  const Metadata kv = expect_round_trip(dir, texts, "llama2 tokenizer.json", unk_is_control());
  // Scores come from the merge ranks (llama.cpp's LlamaHfVocab writes -1000 for all, which SPM cannot merge by);
  // the fixture's tokenizer.json spells four pieces with U+0020 where the SentencePiece model has U+00A0.
  const auto differ =
      compare_with_llamacpp(kv, fixtures / "llamacpp-vocab/ggml-vocab-llama-spm.gguf", "llama2 tokenizer.json");
  EXPECT_EQ(differ,
            (std::set<std::string>{"tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.tokens"}));
}

TEST(HfTokenizerMetadata, Phi3TokenizerJson) {
  OWL_REQUIRE_FIXTURE(src, "ortx-hf-tokenizers/phi-3-mini");
  auto texts = vector_texts(fixtures, "phi-3");
  texts.push_back("<|user|>Hi<|end|><|assistant|>Hello</s><|endoftext|>");
  expect_round_trip(src, texts, "phi-3 tokenizer.json", unk_is_control());
  // Phi-3-mini's config.json gives vocab_size 32064: [PAD] fillers, as in llama.cpp's GGUF.
  const fs::path dir = make_dir(
      "phi3", {{"tokenizer.json", src / "tokenizer.json"}, {"tokenizer_config.json", src / "tokenizer_config.json"}},
      {{"config.json", R"({"vocab_size": 32064})"}});
  Expect padded = unk_is_control();
  padded.n_vocab = 32064;
  const Metadata kv = expect_round_trip(dir, texts, "phi-3 + config.json", padded);
  const auto differ =
      compare_with_llamacpp(kv, fixtures / "llamacpp-vocab/ggml-vocab-phi-3.gguf", "phi-3 tokenizer.json");
  EXPECT_EQ(differ, (std::set<std::string>{"tokenizer.ggml.scores", "tokenizer.ggml.token_type",
                                           "tokenizer.ggml.add_bos_token"}));
}

TEST(HfTokenizerMetadata, MistralSentencePieceWithControlAndUserDefinedPieces) {
  OWL_REQUIRE_FIXTURE(src, "mistral-common/mistral_instruct_tokenizer_240323.model.v3");
  const fs::path dir = make_dir("mistral-v3", {{"tokenizer.model", src}});
  std::vector<std::string> texts = vector_texts(fixtures, "llama-spm");
  texts.push_back("[INST] What is in [REFERENCE_DOC_1]? [/INST][TOOL_CALLS] [{\"name\": \"f\"}]</s>");
  expect_round_trip(dir, texts, "mistral v3 tokenizer.model");
}

TEST(HfTokenizerMetadata, Qwen2VocabAndMerges) {
  OWL_REQUIRE_FIXTURE(dir, "qwen2-tokenizer");
  auto texts = vector_texts(fixtures, "qwen2");
  texts.push_back(
      "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nCafe\xCC\x81?<|im_end|>\n<|endoftext|>");
  // config.json: vocab_size 151936 (fillers) and bos_token_id 151643, which the HF loader does not read.
  Expect e;
  e.n_vocab = 151936;
  e.bos = 151643;
  const Metadata kv = expect_round_trip(dir, texts, "qwen2 vocab.json", e);
  EXPECT_EQ(string_of(kv, "tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(string_of(kv, "tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(array_size(kv, "tokenizer.ggml.merges"), 151387u);
}

TEST(HfTokenizerMetadata, Gpt2VocabAndMergesIsLlamaCppsVocab) {
  OWL_REQUIRE_FIXTURE(src, "ortx-hf-tokenizers/gpt2");
  // GPT-2's config.json names bos / eos 50256; the HF loader reads no config.json.
  const fs::path dir =
      make_dir("gpt2", {{"vocab.json", src / "gpt2.vocab"}, {"merges.txt", src / "gpt2.merges.txt"}},
               {{"config.json", R"({"bos_token_id": 50256, "eos_token_id": 50256, "vocab_size": 50257})"}});
  Expect e;
  e.bos = e.eos = 50256;
  const Metadata kv = expect_round_trip(dir, vector_texts(fixtures, "gpt-2"), "gpt2 vocab.json", e);
  // Only <|endoftext|>'s type differs: HF's gpt2 declares it an added special token in tokenizer.json, which the
  // fixture lacks.
  const auto differ = compare_with_llamacpp(kv, fixtures / "llamacpp-vocab/ggml-vocab-gpt-2.gguf", "gpt2 vocab.json");
  EXPECT_EQ(differ, (std::set<std::string>{"tokenizer.ggml.token_type"}));
}

TEST(HfTokenizerMetadata, Phi2TokenizerJson) {
  OWL_REQUIRE_FIXTURE(dir, "ortx-hf-tokenizers/phi-2");
  auto texts = vector_texts(fixtures, "gpt-2");
  texts.push_back("def f(x):\n        return x  # eight spaces\n\t\treturn<|endoftext|>");
  const Metadata kv = expect_round_trip(dir, texts, "phi-2 tokenizer.json");
  EXPECT_EQ(string_of(kv, "tokenizer.ggml.pre"), "gpt-2");  // llama.cpp names it "phi-2" by hash: the same regex
  compare_with_llamacpp(kv, fixtures / "llamacpp-vocab/ggml-vocab-gpt-2.gguf", "phi-2 tokenizer.json");
}

std::vector<std::string> merges_file(const fs::path& path) {
  std::vector<std::string> merges;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && !line.starts_with("#version")) merges.push_back(line);
  }
  return merges;
}

TEST(HfTokenizerMetadata, Llama3TiktokenGetsTheMergesOfItsHfFiles) {
  OWL_REQUIRE_FIXTURE(dir, "llama3-tiktoken");
  auto texts = vector_texts(fixtures, "llama-bpe");
  texts.push_back("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi 12345<|eot_id|>");
  Expect e;
  e.respelled = true;
  const Metadata kv = expect_round_trip(dir, texts, "llama3 tiktoken", e);
  EXPECT_EQ(string_of(kv, "tokenizer.ggml.pre"), "llama-bpe");
  // The merges rebuilt from the ranks are those of the HF files of the same vocabulary.
  const auto want = merges_file(fixtures / "llama3.2-bpe-ollama/vocab.bpe");
  const auto& got = std::get<gguf::Array>(find(kv, "tokenizer.ggml.merges")->v).items;
  ASSERT_EQ(got.size(), want.size());
  size_t differ = 0;
  for (size_t i = 0; i < want.size(); ++i) differ += got[i].to_string("merge") == want[i] ? 0 : 1;
  EXPECT_EQ(differ, 0u);
}

TEST(HfTokenizerMetadata, Llama3EncoderJsonAndVocabBpe) {
  OWL_REQUIRE_FIXTURE(dir, "llama3.2-bpe-ollama");
  const Metadata kv = expect_round_trip(dir, vector_texts(fixtures, "llama-bpe"), "llama3 encoder.json");
  EXPECT_EQ(string_of(kv, "tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(array_size(kv, "tokenizer.ggml.merges"), 280147u);
}

// A small byte-level tokenizer.json: added tokens typed as llama.cpp types them (special or looking special:
// control; otherwise user-defined, U+2581 written as a space), special ids from tokenizer_config.json looked
// up among tokenizer.json's added tokens before config.json's, BOS added by the template, [PAD] to vocab_size.
TEST(HfTokenizerMetadata, AddedTokensAndSpecialIdsAsGgufPy) {
  const fs::path dir = make_dir(
      "synthetic", {},
      {
          {"tokenizer.json", R"({"added_tokens": [{"id": 4, "content": "<s>", "special": true},
          {"id": 5, "content": "<|tool|>", "special": false}, {"id": 6, "content": "\u2581hi", "special": false}],
        "normalizer": null, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
        "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
          {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {}},
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3}, "merges": [["a", "b"]]}})"},
          {"tokenizer_config.json", R"({"bos_token": {"content": "<s>"}, "eos_token": "<s>", "add_eos_token": false})"},
          {"config.json", R"({"vocab_size": 10, "eos_token_id": 1, "pad_token_id": 9})"},
      });
  const Metadata kv = hf_tokenizer_metadata(dir.string());
  const auto file = as_gguf(kv, "synthetic");
  const Vocab v = Vocab::from_gguf(*file);
  EXPECT_EQ(v.model, "gpt2");
  EXPECT_EQ(v.pre, "gpt-2");
  EXPECT_EQ(v.tokens, (std::vector<std::string>{"a", "b", "ab", "\xC4\xA0", "<s>", "<|tool|>", " hi", "[PAD7]",
                                                "[PAD8]", "[PAD9]"}));
  using T = TokenType;
  EXPECT_EQ(v.types, (std::vector<T>{T::normal, T::normal, T::normal, T::normal, T::control, T::control,
                                     T::user_defined, T::unused, T::unused, T::unused}));
  EXPECT_TRUE(v.scores.empty());
  EXPECT_EQ(v.merges, (std::vector<std::string>{"a b"}));
  EXPECT_EQ(v.bos, 4);
  EXPECT_EQ(v.eos, 4);  // tokenizer_config.json's "<s>" before config.json's eos_token_id
  EXPECT_EQ(v.pad, 9);
  EXPECT_EQ(v.unk, -1);
  EXPECT_EQ(v.add_bos, std::optional<bool>(true));  // from the template
  EXPECT_EQ(v.add_eos, std::optional<bool>(false));
  EXPECT_EQ(find(kv, "tokenizer.ggml.add_space_prefix"), nullptr);
}

TEST(HfTokenizerMetadata, NoTokenizerFilesGiveNoMetadata) {
  EXPECT_TRUE(hf_tokenizer_metadata(make_dir("empty", {}).string()).empty());
  OWL_REQUIRE_FIXTURE(dir, "hf-archs/llama");  // config.json + tokenizer_config.json, no vocabulary
  EXPECT_TRUE(hf_tokenizer_metadata(dir.string()).empty());
}

TEST(HfTokenizerMetadata, WhatGgufCannotSayFailsNamingTheFile) {
  const auto expect_error = [](const fs::path& dir, const std::string& file, const std::string& words) {
    try {
      (void)hf_tokenizer_metadata(dir.string());
      ADD_FAILURE() << dir << ": no error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find((file.empty() ? dir : dir / file).string()), std::string::npos) << what;
      EXPECT_NE(what.find(words), std::string::npos) << what;
    }
  };
  const std::string bpe = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
  expect_error(make_dir("unknown-pre", {},
                        {{"tokenizer.json", R"({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Isolated"},
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]}, )" +
                                                bpe + "}"}}),
               "tokenizer.json", "regex '\\d+' isolated");
  expect_error(
      make_dir("char-bpe", {}, {{"tokenizer.json", R"({"pre_tokenizer": {"type": "Whitespace"}, )" + bpe + "}"}}),
      "tokenizer.json", "no GGUF form");
  expect_error(make_dir("prefix-space", {}, {{"tokenizer.json", R"({"pre_tokenizer": {"type": "ByteLevel",
      "add_prefix_space": true}, )" + bpe + "}"}}),
               "tokenizer.json", "add_prefix_space");
  expect_error(make_dir("wordpiece", {}, {{"tokenizer.json", R"({"normalizer": {"type": "BertNormalizer"},
      "pre_tokenizer": {"type": "BertPreTokenizer"}, "model": {"type": "WordPiece", "unk_token": "[UNK]",
      "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3}}})"}}),
               "tokenizer.json", "wordpiece");
  expect_error(make_dir("no-merges", {}, {{"vocab.json", R"({"a": 0})"}}), "", "merges.txt");
  expect_error(make_dir("bad-config", {}, {{"vocab.json", R"({"a": 0})"}, {"merges.txt", ""}, {"config.json", "{"}}),
               "config.json", "not valid JSON");
  EXPECT_THROW((void)hf_tokenizer_metadata(scratch_path("missing").string()), Error);
}

}  // namespace
}  // namespace owl
