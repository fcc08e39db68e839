// Token masks: the trie walk against checking every token on its own, tokens that split a UTF-8
// character, end tokens only where the grammar may end, and the sampler under a grammar (greedy
// equals the argmax of the masked logits; every draw stays inside the grammar).

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "base/error.h"
#include "engine/grammar_vocabulary.h"
#include "fixtures.h"
#include "test_files.h"
#include "grammar/grammar.h"
#include "grammar/json_schema.h"
#include "grammar/recognizer.h"
#include "grammar/token_matcher.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace owl::grammar {
namespace {

// A small vocabulary with shared prefixes, multi-byte pieces, bytes of split characters, a control
// token (no bytes), every printable ASCII character (as real vocabularies have: a path the grammar
// allows can always be finished) and an end token (the last).
std::shared_ptr<const TokenVocabulary> small_vocabulary() {
  std::vector<std::string> bytes = {"{", "}", "\"", "\"a", "\"ab", "a", "ab", "abc", ":", ",", " ", "  ",
                                    "1", "12", "123", "-", ".", "e", "true", "tr", "ue", "null", "[", "]",
                                    "\xC3", "\xA9", "\xC3\xA9", "\xE2\x82", "\xAC", "\":", "\"}", "{\"", "",
                                    "\n", "x", "fal", "se", "0", "9", "\\", "n", "\\n"};
  for (char c = 0x20; c < 0x7F; ++c) bytes.emplace_back(1, c);
  bytes.emplace_back();
  std::vector<bool> end(bytes.size(), false);
  end.back() = true;
  return std::make_shared<const TokenVocabulary>(bytes, end);
}

TokenGrammar json_grammar(const std::shared_ptr<const TokenVocabulary>& vocab) {
  return {std::make_shared<const Grammar>(parse_gbnf(json_object_gbnf())), vocab};
}

TEST(TokenMatcher, MaskEqualsCheckingEachToken) {
  const auto vocab = small_vocabulary();
  TokenMatcher m(json_grammar(vocab));
  TokenMatcher one_by_one(json_grammar(vocab));
  std::mt19937 rng(3);
  std::string text;
  // Walk a random path through the grammar; at every step the mask must equal allows() per token.
  for (int step = 0; step < 300; ++step) {
    std::vector<float> logits(vocab->size() + 3, 0.0f);  // longer than the vocabulary: the rest refused
    const size_t n = m.mask(logits);
    std::vector<int32_t> allowed;
    for (size_t id = 0; id < logits.size(); ++id) {
      const bool in_mask = !std::isinf(logits[id]);
      ASSERT_EQ(in_mask, one_by_one.allows(static_cast<int32_t>(id))) << "token " << id << " at step " << step;
      if (in_mask) allowed.push_back(static_cast<int32_t>(id));
    }
    ASSERT_EQ(n, allowed.size());
    ASSERT_FALSE(allowed.empty()) << text;
    const int32_t pick = allowed[rng() % allowed.size()];
    text += vocab->bytes(pick);
    m.accept(pick);
    one_by_one.accept(pick);
    if (vocab->end_of_generation(pick)) {
      EXPECT_TRUE(m.allows(pick));
      EXPECT_FALSE(m.allows(0));  // nothing after the end but the end
      m.reset();
      one_by_one.reset();
      text.clear();
    }
  }
}

// The mask (a trie walk, cached per state) against checking every token on its own, along random
// paths through JSON mode and two schemas, on real vocabularies: owl's own, Llama 2's and Llama 3's
// (where masks take whole subtrees of string characters at once).
TEST(TokenMatcher, MaskEqualsCheckingEachTokenOnRealVocabularies) {
  std::vector<std::pair<std::string, int>> vocabularies = {
      {kStoriesModel, 400}};
  if (const auto fixtures = owl_fixtures()) {
    vocabularies.emplace_back((*fixtures / "llamacpp-vocab" / "ggml-vocab-llama-spm.gguf").string(), 120);
    vocabularies.emplace_back((*fixtures / "llama3-tiktoken" / "tokenizer.model").string(), 40);
  }
  const std::vector<std::string> grammars = {
      json_object_gbnf(),
      json_schema_to_gbnf(nlohmann::ordered_json::parse(R"({"type": "object", "properties": {"name": {"type": "string",
          "maxLength": 12}, "tags": {"type": "array", "items": {"enum": ["a", "b\"c"]}, "maxItems": 3},
          "score": {"type": "number", "minimum": -1, "maximum": 1}}, "required": ["name"]})")),
      json_schema_to_gbnf(nlohmann::ordered_json::parse(R"({"type": "array", "items": {"type": "string",
          "pattern": "^[a-z]{2,5}-\\d{2}$"}, "maxItems": 4})"))};
  for (const auto& [path, steps] : vocabularies) {
    const auto tokenizer = Tokenizer::from_file(path);
    const auto vocab = grammar_vocabulary(*tokenizer, [&](int32_t id) { return tokenizer->is_end_of_generation(id); });
    for (const std::string& gbnf : grammars) {
      const TokenGrammar g{std::make_shared<const Grammar>(parse_gbnf(gbnf)), vocab};
      TokenMatcher m(g);
      TokenMatcher one_by_one(g);
      std::mt19937 rng(7);
      std::vector<float> logits(vocab->size());
      for (int step = 0; step < steps; ++step) {
        std::fill(logits.begin(), logits.end(), 0.0f);
        m.mask(logits);
        std::vector<int32_t> allowed;
        for (size_t id = 0; id < logits.size(); ++id) {
          const bool in_mask = !std::isinf(logits[id]);
          ASSERT_EQ(in_mask, one_by_one.allows(static_cast<int32_t>(id))) << path << " token " << id << " step " << step;
          if (in_mask) allowed.push_back(static_cast<int32_t>(id));
        }
        ASSERT_FALSE(allowed.empty()) << path << " step " << step;
        const int32_t pick = allowed[rng() % allowed.size()];
        m.accept(pick);
        one_by_one.accept(pick);
        if (vocab->end_of_generation(pick)) {
          m.reset();
          one_by_one.reset();
        }
      }
    }
  }
}

TEST(TokenMatcher, SplitCharactersAndEndTokens) {
  const auto vocab = small_vocabulary();
  const TokenGrammar g{std::make_shared<const Grammar>(parse_gbnf(R"(root ::= "a" [\u00e9\u20ac]+)")), vocab};
  TokenMatcher m(g);
  const int32_t end = static_cast<int32_t>(vocab->size() - 1);
  EXPECT_FALSE(m.allows(end));
  m.accept(5);  // "a"
  EXPECT_FALSE(m.allows(end));
  EXPECT_TRUE(m.allows(24));   // first byte of é
  EXPECT_FALSE(m.allows(25));  // a lone continuation byte
  EXPECT_TRUE(m.allows(27));   // two bytes of €
  EXPECT_FALSE(m.allows(32));  // a control token: no bytes
  m.accept(24);
  EXPECT_FALSE(m.allows(end));  // inside a character
  EXPECT_TRUE(m.allows(25));
  EXPECT_FALSE(m.allows(26));  // é again would leave the first one unfinished
  m.accept(25);
  EXPECT_TRUE(m.allows(end));
  m.accept(26);
  m.accept(27);
  m.accept(28);
  EXPECT_TRUE(m.accepting());
  EXPECT_THROW(m.accept(5), Error);
}

TEST(TokenMatcher, GreedyUnderAGrammarIsTheArgmaxOfTheMaskedLogits) {
  const auto vocab = small_vocabulary();
  const auto g = std::make_shared<const TokenGrammar>(json_grammar(vocab));
  SamplingParams p;
  p.temperature = 0.0f;
  p.grammar = g;
  Sampler sampler(p);
  TokenMatcher reference(*g);
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  for (int step = 0; step < 200; ++step) {
    std::vector<float> logits(vocab->size());
    for (float& l : logits) l = normal(rng);
    std::vector<float> masked = logits;
    reference.mask(masked);
    size_t best = 0;
    for (size_t i = 1; i < masked.size(); ++i) {
      if (masked[i] > masked[best]) best = i;
    }
    const int32_t got = sampler.sample(logits);
    ASSERT_EQ(got, static_cast<int32_t>(best)) << "step " << step;
    reference.accept(got);
    if (vocab->end_of_generation(got)) {
      sampler.clear_history();
      reference.reset();
    }
  }
}

TEST(TokenMatcher, DrawsStayInsideTheGrammarAndNoTokenLeftIsAnError) {
  const auto vocab = small_vocabulary();
  const auto g = std::make_shared<const TokenGrammar>(json_grammar(vocab));
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SamplingParams p;
    p.temperature = 1.5f;
    p.top_k = 0;
    p.min_p = 0.0f;
    p.seed = seed;
    p.grammar = g;
    Sampler sampler(p);
    std::mt19937 rng(static_cast<uint32_t>(seed));
    std::normal_distribution<float> normal;
    std::string text;
    for (int step = 0; step < 400 && !sampler.grammar_accepting(); ++step) {
      std::vector<float> logits(vocab->size());
      for (float& l : logits) l = 3.0f * normal(rng);
      const int32_t t = sampler.sample(logits);
      ASSERT_FALSE(vocab->end_of_generation(t));
      text += vocab->bytes(t);
    }
    // Whatever came out is a prefix of a JSON object (a whole one when the grammar accepted).
    Recognizer check(std::make_shared<const Grammar>(parse_gbnf(json_object_gbnf())));
    const auto s = check.advance(check.start(), text);
    ASSERT_NE(s, Recognizer::kDead) << text;
    EXPECT_EQ(check.accepting(s), sampler.grammar_accepting()) << text;
  }
  // A grammar that no token can start: a clear error, not a token outside the grammar.
  SamplingParams p;
  p.grammar = std::make_shared<const TokenGrammar>(
      TokenGrammar{std::make_shared<const Grammar>(parse_gbnf(R"(root ::= "\u0416")")), vocab});  // no token has its bytes
  Sampler sampler(p);
  std::vector<float> logits(vocab->size(), 0.0f);
  try {
    sampler.sample(logits);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no token of the vocabulary can continue"), std::string::npos);
  }
}

}  // namespace
}  // namespace owl::grammar
