// Every llama.cpp ggml-vocab-*.gguf.{inp,out} pair against owl's tokenizers: from the GGUF vocabulary
// where the fixture has it, otherwise from the Hugging Face / tiktoken files of the same model.
// Checks ids, decode(encode(x)) == x for lossless tokenizers, and streaming decode == full decode.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.h"
#include "vocab_vectors.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace owl {
namespace {

namespace fs = std::filesystem;
using test::run_pair;

class GgufVocabVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocabVectors, MatchGgufVocabulary) {
  OWL_REQUIRE_FIXTURE(dir, "llamacpp-vocab");
  const std::string name = GetParam();
  const auto tok = test::load_gguf_tokenizer(dir / ("ggml-vocab-" + name + ".gguf"));
  const int passed = run_pair(*tok, dir, name);
  EXPECT_EQ(passed, 46);
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, GgufVocabVectors,
                         ::testing::Values("gpt-2", "falcon", "mpt", "starcoder", "refact", "deepseek-coder",
                                           "deepseek-llm", "bert-bge", "llama-spm", "phi-3"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string s = param.param;
                           for (char& c : s) c = (c == '-') ? '_' : c;
                           return s;
                         });

}  // namespace
}  // namespace owl
