// GGUF reader and writer against real files: the shared fixtures read correctly and
// read -> Writer::from -> write reproduces each of them byte for byte.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/error.h"
#include "fixtures.h"
#include "test_files.h"
#include "formats/gguf.h"

namespace owl::gguf {
namespace {

// read -> Writer::from -> write must give back the same bytes.
void expect_round_trip(const std::filesystem::path& path) {
  const auto file = File::open(path.string());
  const auto out = scratch_path(path.filename().string());
  Writer::from(*file).write(out.string());
  const std::string a = read_file(path);
  const std::string b = read_file(out);
  EXPECT_EQ(a.size(), b.size()) << path;
  EXPECT_TRUE(a == b) << path << ": round trip differs";
  std::filesystem::remove(out);
}

TEST(GgufFixtures, TinyLlamaReads) {
  OWL_REQUIRE_FIXTURE(path, "ollama-tiny-random-gguf/llama-2-tiny-random.gguf");
  const auto file = File::open(path.string());
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->get_string("general.architecture"), "llama");
  EXPECT_EQ(file->tensors().size(), 12u);
  EXPECT_EQ(file->data_offset() % file->alignment(), 0u);
  const Array& tokens = file->get_array("tokenizer.ggml.tokens");
  EXPECT_EQ(tokens.elem, ValueType::string);
  EXPECT_EQ(tokens.items.size(), 32000u);
  for (const TensorInfo& t : file->tensors()) {
    EXPECT_NE(t.data, nullptr);
    EXPECT_EQ(t.offset % file->alignment(), 0u) << t.name;
    EXPECT_LE(file->data_offset() + t.offset + t.n_bytes, file->file_size()) << t.name;
  }
  const TensorInfo& emb = file->tensor("token_embd.weight");
  ASSERT_EQ(emb.shape.size(), 2u);
  EXPECT_EQ(emb.shape[0], 32000);  // PyTorch order: (n_vocab, n_embd)
  EXPECT_EQ(emb.cols(), static_cast<int64_t>(file->get_uint("llama.embedding_length")));
  EXPECT_THROW(file->tensor("no.such.tensor"), Error);
  EXPECT_THROW((void)file->get_string("llama.block_count"), Error);
}

TEST(GgufFixtures, TinyLlamaRoundTrip) {
  OWL_REQUIRE_FIXTURE(path, "ollama-tiny-random-gguf/llama-2-tiny-random.gguf");
  expect_round_trip(path);
}

TEST(GgufFixtures, QuantGoldensReads) {
  OWL_REQUIRE_FIXTURE(path, "quant-goldens/quant-goldens.gguf");
  const auto file = File::open(path.string());
  EXPECT_EQ(file->get_string("general.architecture"), "quant-goldens");
  EXPECT_EQ(file->get_uint("quant_goldens.rows"), 8u);
  EXPECT_EQ(file->get_uint("quant_goldens.cols"), 512u);
  ASSERT_EQ(file->tensors().size(), 39u);
  const TensorInfo& q = file->tensor("q4_K.quantized");
  EXPECT_EQ(q.type, DType::q4_k);
  EXPECT_EQ(q.shape, (std::vector<int64_t>{8, 512}));
  EXPECT_EQ(q.rows(), 8);
  EXPECT_EQ(q.n_bytes, 8u * 2 * 144);
  const TensorInfo& in = file->tensor("f16.input");
  EXPECT_EQ(in.type, DType::f32);
  EXPECT_EQ(in.n_elements, 8u * 512);
}

TEST(GgufFixtures, QuantGoldensRoundTrip) {
  OWL_REQUIRE_FIXTURE(path, "quant-goldens/quant-goldens.gguf");
  expect_round_trip(path);
}

// llama.cpp's vocab-only files (written by gguf-py: no tensors, no padding after the header).
TEST(GgufFixtures, LlamacppVocabRoundTrip) {
  OWL_REQUIRE_FIXTURE(dir, "llamacpp-vocab");
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    SCOPED_TRACE(entry.path().string());
    const auto file = File::open(entry.path().string());
    EXPECT_TRUE(file->find("tokenizer.ggml.model") != nullptr);
    EXPECT_GT(file->get_array("tokenizer.ggml.tokens").items.size(), 0u);
    expect_round_trip(entry.path());
    ++n;
  }
  EXPECT_GE(n, 12);
}

// The Llama-2 vocabulary (32000 strings plus scores and types) parses quickly; printed, not asserted.
TEST(GgufFixtures, LlamaSpmVocabParsesFast) {
  OWL_REQUIRE_FIXTURE(path, "llamacpp-vocab/ggml-vocab-llama-spm.gguf");
  const auto start = std::chrono::steady_clock::now();
  const auto file = File::open(path.string());
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(file->get_array("tokenizer.ggml.tokens").items.size(), 32000u);
  EXPECT_EQ(file->get_array("tokenizer.ggml.scores").elem, ValueType::f32);
  std::printf("llama-spm vocab parsed in %.2f ms\n", ms);
}

}  // namespace
}  // namespace owl::gguf
