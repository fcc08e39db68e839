// llama2.c import: the converted model's metadata and tensors, and malformed checkpoints and
// tokenizers rejected with the file and field named.
#include <gtest/gtest.h>

#include <fstream>

#include "base/error.h"
#include "fixtures.h"
#include "formats/gguf.h"
#include "test_files.h"
#include "tools/llama2c_import.h"

namespace {

std::string error_of(const owl::Llama2cImport& o) {
  try {
    owl::import_llama2c(o);
  } catch (const owl::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Llama2cImport, MetadataAndTensorsOfStories260K) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto out = test_scratch_dir() / "import.gguf";
  owl::import_llama2c({(dir / "stories260K.bin").string(), (dir / "tok512.bin").string(), out.string(), owl::DType::f16, 2});
  const auto f = owl::gguf::File::open(out.string());
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_uint("llama.embedding_length"), 64u);
  EXPECT_EQ(f->get_uint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens").items.size(), 512u);
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens").items[1].to_string("bos"), "<s>");
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens").items[3].to_string("byte"), "<0x00>");
  EXPECT_EQ(f->get_array("tokenizer.ggml.token_type").items[3].to_int("type"), 6);
  EXPECT_EQ(f->tensor("blk.0.attn_q.weight").type, owl::DType::f16);
  EXPECT_EQ(f->tensor("blk.0.attn_norm.weight").type, owl::DType::f32);
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);  // shared classifier
  EXPECT_EQ(f->tensors().size(), 47u);
}

TEST(Llama2cImport, MalformedInputsAreNamedErrors) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const std::string model = read_file(dir / "stories260K.bin");
  const std::string tok = dir / "tok512.bin";
  const auto scratch = test_scratch_dir();
  const auto out = (scratch / "bad-out.gguf").string();
  auto with_model = [&](const std::string& bytes) {
    const auto p = scratch / "bad-model.bin";
    write_file(p, bytes);
    return error_of({p.string(), tok, out, owl::DType::f32, 1});
  };
  EXPECT_NE(with_model(model.substr(0, 10)).find("truncated"), std::string::npos);
  EXPECT_NE(with_model(model.substr(0, model.size() - 4)).find("does not match the header"), std::string::npos);
  std::string bad = model;
  const int32_t huge = 1 << 30;
  std::memcpy(bad.data(), &huge, 4);  // dim
  EXPECT_NE(with_model(bad).find("dim"), std::string::npos);
  bad = model;
  const int32_t three = 3;
  std::memcpy(bad.data() + 16, &three, 4);  // n_kv_heads does not divide n_heads
  EXPECT_NE(with_model(bad).find("n_kv_heads"), std::string::npos);

  const std::string tok_bytes = read_file(tok);
  const auto bad_tok = scratch / "bad-tok.bin";
  write_file(bad_tok, tok_bytes.substr(0, tok_bytes.size() / 2));
  EXPECT_NE(error_of({(dir / "stories260K.bin").string(), bad_tok.string(), out, owl::DType::f32, 1}).find("truncated"),
            std::string::npos);
  std::string long_token = tok_bytes;
  const int32_t len = 1000;
  std::memcpy(long_token.data() + 8, &len, 4);  // first token's length beyond max_token_length
  write_file(bad_tok, long_token);
  EXPECT_NE(error_of({(dir / "stories260K.bin").string(), bad_tok.string(), out, owl::DType::f32, 1}).find("length"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_NE(error_of({"/nonexistent.bin", tok, out, owl::DType::f32, 1}).find("/nonexistent.bin"), std::string::npos);
  // Llama 2's 32,000-token tokenizer with the 512-token model: refused, not cut to size.
  const auto llama2_tok = dir.parent_path() / "llama2c-tokenizer" / "tokenizer.bin";
  if (std::filesystem::exists(llama2_tok)) {
    EXPECT_NE(error_of({(dir / "stories260K.bin").string(), llama2_tok.string(), out, owl::DType::f32, 1})
                  .find("has more tokens than the model's vocabulary of 512"),
              std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

}  // namespace
