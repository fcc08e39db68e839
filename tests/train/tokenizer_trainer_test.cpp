// owl train-tokenizer (train/tokenizer_trainer.h): the vocabulary it trains is read by owl's SPM
// tokenizer as any GGUF vocabulary, encodes every text (unseen characters through byte fallback)
// and decodes it back exactly, is the same for the same corpus, and turns frequent words into
// single pieces.
#include <gtest/gtest.h>

#include "base/error.h"

#include "formats/model_file.h"
#include "tokenizer/gguf_export.h"
#include "tokenizer/tokenizer.h"
#include "train/story_corpus.h"
#include "train/tokenizer_trainer.h"

namespace {

std::unique_ptr<owl::Tokenizer> tokenizer_of(const owl::Vocab& v) {
  owl::AssembledModelFile file("<vocab>", "gguf");
  for (auto& [key, value] : owl::vocab_metadata(v)) file.set(key, value);
  return owl::Tokenizer::from_gguf(file);
}

TEST(TokenizerTrainer, StoriesRoundTripAndCommonWordsAreOnePiece) {
  const std::vector<std::string> texts = owl::train::generate_stories(3, 0, 2000);
  owl::train::TokenizerTrainOptions o;
  o.vocab_size = 1024;
  const owl::Vocab v = owl::train::train_spm_bpe(texts, o);
  EXPECT_EQ(v.size(), 1024);
  EXPECT_EQ(v.tokens[1], "<s>");
  EXPECT_EQ(v.tokens[3 + 0x41], "<0x41>");
  const auto tok = tokenizer_of(v);
  int64_t chars = 0, tokens = 0;
  for (const std::string& t : owl::train::generate_stories(3, 1000, 50)) {  // held out
    const std::vector<int32_t> ids = tok->encode(t, false);
    EXPECT_EQ(tok->decode(ids), t);
    chars += static_cast<int64_t>(t.size());
    tokens += static_cast<int64_t>(ids.size());
  }
  EXPECT_GT(static_cast<double>(chars) / static_cast<double>(tokens), 3.0) << "the merges do not compress";
  // Frequent words are one piece each, and punctuation is never glued to a word.
  EXPECT_EQ(tok->encode("Once upon a time, she said", false).size(), 7u);
  for (int32_t id : tok->encode("\"Hello,\" said the little fox. \"Thank you!\"", false)) {
    const std::string piece = v.tokens[static_cast<size_t>(id)];
    const bool letters = piece.find_first_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos;
    EXPECT_FALSE(letters && piece.find_first_of(".,!?\"") != std::string::npos) << piece;
  }
  // Text the corpus never had: unknown characters fall back to bytes and still round-trip.
  for (const std::string t : {"Zürich {x} — 42%\ttab", "\xF0\x9F\xA6\x89 owl", "  two  spaces "}) {
    EXPECT_EQ(tok->decode(tok->encode(t, false)), t) << t;
  }
}

TEST(TokenizerTrainer, SameCorpusSameVocabulary) {
  const std::vector<std::string> texts = owl::train::generate_stories(5, 0, 200);
  owl::train::TokenizerTrainOptions o;
  o.vocab_size = 500;
  const owl::Vocab a = owl::train::train_spm_bpe(texts, o), b = owl::train::train_spm_bpe(texts, o);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.scores, b.scores);
}

TEST(TokenizerTrainer, RefusesBadOptionsAndEmptyText) {
  owl::train::TokenizerTrainOptions o;
  o.vocab_size = 100;
  EXPECT_THROW(owl::train::train_spm_bpe({"a b"}, o), owl::Error);
  o.vocab_size = 400;
  EXPECT_THROW(owl::train::train_spm_bpe({"", "   "}, o), owl::Error);
  // A tiny text stops merging when no pair repeats: fewer pieces than asked, all of them valid.
  const owl::Vocab v = owl::train::train_spm_bpe({"ab ab ab cd"}, o);
  EXPECT_LT(v.size(), 400);
  EXPECT_EQ(tokenizer_of(v)->encode("ab cd", false).size(), 4u);  // "▁ab" (merged), "▁", "c", "d" (seen once)
  // The smallest vocabulary holds no more pieces than asked, though the text has more characters;
  // invalid UTF-8 never becomes a piece (byte fallback) and still round-trips.
  o.vocab_size = 300;
  const std::string bad = "caf\xC3 \xFF\xFE text";
  const owl::Vocab small = owl::train::train_spm_bpe({owl::train::generate_story(1, 0), bad}, o);
  EXPECT_EQ(small.size(), 300);
  EXPECT_EQ(tokenizer_of(small)->decode(tokenizer_of(small)->encode(bad, false)), bad);
}

}  // namespace
