// Unit tests of the SentencePiece-style tokenizer on small hand-made vocabularies: merge order,
// byte fallback, invalid UTF-8, unused-piece resegmentation, the decoder's dummy-prefix rule, UTF-8
// helpers, vocabulary validation and the streaming decoder. Expected ids follow SentencePiece BPE.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

namespace owl {
namespace {

const std::string kU = "\xE2\x96\x81";  // U+2581

struct Piece {
  std::string text;
  float score;
  TokenType type = TokenType::normal;
};

// <unk>=0 <s>=1 </s>=2, optionally the 256 byte pieces (3..258), then the given pieces.
Vocab make_vocab(const std::vector<Piece>& pieces, bool bytes = true) {
  Vocab v;
  v.model = "llama";
  auto add = [&](std::string text, float score, TokenType type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, TokenType::unknown);
  add("<s>", 0, TokenType::control);
  add("</s>", 0, TokenType::control);
  if (bytes) {
    for (int b = 0; b < 256; ++b) add(fmt::format("<0x{:02X}>", b), 0, TokenType::byte);
  }
  for (const Piece& p : pieces) add(p.text, p.score, p.type);
  v.bos = 1;
  v.eos = 2;
  v.unk = 0;
  return v;
}

int32_t id_of(const SpmTokenizer& tok, std::string_view text) {
  for (int32_t i = 0; i < tok.n_vocab(); ++i) {
    if (tok.piece(i) == text) return i;
  }
  ADD_FAILURE() << "no piece " << text;
  return -1;
}

std::vector<std::string> pieces_of(const SpmTokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.emplace_back(tok.piece(id));
  return out;
}

TEST(SpmTokenizer, MergesHighestScoreFirst) {
  // "abc": ab (score -1) beats bc (-2), then ab+c has no piece, so [_, ab, c] ... with the prefix.
  SpmTokenizer tok(make_vocab({{kU, -5}, {"a", -10}, {"b", -10}, {"c", -10}, {"ab", -1}, {"bc", -2},
                               {kU + "a", -3}, {"abc", -4}}));
  // Pairs: _a(-3) ab(-1) bc(-2). ab first -> _ ab c; then _ab none, abc(-4) -> _ abc.
  EXPECT_EQ(pieces_of(tok, tok.encode("abc", false)), (std::vector<std::string>{kU, "abc"}));
}

TEST(SpmTokenizer, TiesGoLeftmost) {
  // "aaa": both "aa" pairs score the same; the left one merges first -> [aa, a].
  Vocab v = make_vocab({{"a", -10}, {"aa", -1}});
  v.add_space_prefix = false;
  SpmTokenizer no_prefix(std::move(v));
  EXPECT_EQ(pieces_of(no_prefix, no_prefix.encode("aaa", false)), (std::vector<std::string>{"aa", "a"}));
  EXPECT_EQ(pieces_of(no_prefix, no_prefix.encode("aaaaa", false)), (std::vector<std::string>{"aa", "aa", "a"}));
}

TEST(SpmTokenizer, SpacesAndPrefix) {
  SpmTokenizer tok(make_vocab({{kU, -5}, {"h", -10}, {"i", -10}, {kU + "h", -3}, {kU + "hi", -2}, {"hi", -4},
                               {kU + kU, -6}}));
  EXPECT_EQ(pieces_of(tok, tok.encode("hi hi", false)), (std::vector<std::string>{kU + "hi", kU + "hi"}));
  EXPECT_EQ(tok.encode("hi", true).front(), 1);
  EXPECT_EQ(tok.encode("", true), (std::vector<int32_t>{1}));
  EXPECT_TRUE(tok.encode("", false).empty());
  EXPECT_EQ(tok.normalize("a b"), kU + "a" + kU + "b");
  EXPECT_EQ(tok.decode(tok.encode(" hi  hi ", true)), " hi  hi ");
}

TEST(SpmTokenizer, ByteFallbackAndInvalidUtf8) {
  SpmTokenizer tok(make_vocab({{kU, -5}, {"a", -10}}));
  // "é" (C3 A9) is not in the vocabulary: two byte pieces.
  const auto ids = tok.encode("a\xC3\xA9", false);
  EXPECT_EQ(ids, (std::vector<int32_t>{id_of(tok, kU), id_of(tok, "a"), 3 + 0xC3, 3 + 0xA9}));
  // Invalid bytes each stand alone and round-trip.
  const std::string bad = "a\xFF\xC3(\xE2\x96 \x80";
  const auto bad_ids = tok.encode(bad, false);
  EXPECT_EQ(tok.decode(bad_ids), bad);
  EXPECT_NE(std::find(bad_ids.begin(), bad_ids.end(), 3 + 0xFF), bad_ids.end());
}

TEST(SpmTokenizer, WordCacheMatchesUncached) {
  // The same word repeated and long words must give the same ids wherever they stand.
  SpmTokenizer tok(make_vocab({{kU, -5}, {"a", -10}, {"b", -10}, {"ab", -1}, {kU + "a", -2}, {kU + "ab", -0.5f}}));
  const std::string word = "abab";
  std::string text;
  for (int i = 0; i < 100; ++i) text += word + " ";
  const auto one = tok.encode(word, false);
  const auto many = tok.encode(text, false);
  ASSERT_GE(many.size(), one.size() * 100);
  EXPECT_TRUE(std::equal(one.begin(), one.end(), many.begin()));
  EXPECT_EQ(tok.decode(many), text);
  std::string long_word(1000, 'a');
  EXPECT_EQ(tok.decode(tok.encode(long_word + " " + long_word, false)), long_word + " " + long_word);
}

TEST(SpmTokenizer, UnusedPiecesAreResegmented) {
  // "ab" is unused: it may merge (so "abc" forms) but is never output itself.
  Vocab v = make_vocab({{"a", -10}, {"b", -10}, {"c", -10}, {"ab", -1, TokenType::unused}, {"abc", -2}});
  v.add_space_prefix = false;
  SpmTokenizer t(std::move(v));
  EXPECT_EQ(pieces_of(t, t.encode("abc", false)), (std::vector<std::string>{"abc"}));
  EXPECT_EQ(pieces_of(t, t.encode("ab", false)), (std::vector<std::string>{"a", "b"}));
}

TEST(SpmTokenizer, UnknownWithoutByteFallback) {
  Vocab v = make_vocab({{kU, -5}, {"a", -10}}, /*bytes=*/false);
  SpmTokenizer tok(std::move(v));
  // A run of unknown characters gives one <unk>.
  EXPECT_EQ(tok.encode("a\xC3\xA9\xC3\xA9", false), (std::vector<int32_t>{3, 4, 0}));
  EXPECT_EQ(tok.token_to_piece(0), " \xE2\x81\x87 ");
}

TEST(SpmTokenizer, DecodeRules) {
  SpmTokenizer tok(make_vocab({{kU, -5}, {"a", -10}, {kU + "a", -1}, {"<x>", 0, TokenType::user_defined}}));
  const int32_t ua = id_of(tok, kU + "a");
  const int32_t a = id_of(tok, "a");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{1, ua, ua, 2}), "a a");  // prefix dropped after BOS, control invisible
  EXPECT_EQ(tok.decode(std::vector<int32_t>{ua}), "a");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{a, ua}), "a a");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{3 + 'x', ua}), "x a");  // only the first piece loses its prefix
  EXPECT_EQ(tok.token_to_piece(ua), " a");
  EXPECT_EQ(tok.token_to_piece(1), "");
  EXPECT_EQ(tok.token_to_piece(3 + 0x41), "A");
  EXPECT_EQ(tok.token_to_piece(id_of(tok, "<x>")), "<x>");
  EXPECT_THROW(tok.token_to_piece(-1), Error);
  EXPECT_THROW(tok.token_to_piece(tok.n_vocab()), Error);
  EXPECT_THROW(tok.decode(std::vector<int32_t>{ua, 1 << 30}), Error);
  EXPECT_TRUE(tok.is_end_of_generation(2));
  EXPECT_FALSE(tok.is_end_of_generation(1));
  EXPECT_FALSE(tok.is_end_of_generation(-7));
  Vocab v = make_vocab({{kU, -5}, {"a", -10}, {kU + "a", -1}});
  v.add_space_prefix = false;
  SpmTokenizer raw(std::move(v));
  EXPECT_EQ(raw.decode(std::vector<int32_t>{id_of(raw, kU + "a")}), " a");
}

// Random vocabularies and texts: cutting text into words and at character pairs no piece contains,
// and either merge queue, must give exactly what one BPE over the whole text gives.
TEST(SpmTokenizer, SplittingMatchesWholeTextBpeOnRandomInput) {
  const std::vector<std::string> alphabet = {"a", "b", "c", "d", kU, "\xC3\xA9", "\xE4\xB8\xAD", "\n"};
  std::mt19937 rng(1234);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (int variant = 0; variant < 4; ++variant) {
    const bool space_only_at_start = variant % 2 == 0;  // true: word splitting applies
    std::vector<Piece> pieces;
    for (const std::string& c : alphabet) {
      if (c != "\n") pieces.push_back({c, -50});
    }
    for (int i = 0; i < 120; ++i) {
      std::string text;
      const size_t len = 2 + pick(4);
      for (size_t k = 0; k < len; ++k) {
        const std::string& c = alphabet[pick(alphabet.size())];
        if (c == kU && space_only_at_start && k > 0) continue;
        text += c;
      }
      // Integer scores give many ties; the leftmost-first rule must then decide.
      pieces.push_back({text, -static_cast<float>(pick(variant < 2 ? 10 : 1000))});
    }
    Vocab v = make_vocab(pieces);
    SpmTokenizer split{Vocab(v)};
    SpmTokenizer heap{Vocab(v)};
    SpmTokenizer buckets(std::move(v));
    EXPECT_EQ(split.splits_words(), space_only_at_start);
    heap.disable_splitting();
    heap.set_merge_queue(SpmTokenizer::MergeQueue::heap);
    buckets.disable_splitting();
    buckets.set_merge_queue(SpmTokenizer::MergeQueue::buckets);
    for (int t = 0; t < 60; ++t) {
      std::string text;
      const size_t len = pick(3000);
      for (size_t k = 0; k < len; ++k) {
        const size_t r = pick(alphabet.size() + 2);  // U+2581 in text would decode as a space: use " "
        text += r < alphabet.size() && alphabet[r] != kU ? alphabet[r] : (r == alphabet.size() ? "\xFF" : " ");
      }
      const auto want = heap.encode(text, false);
      ASSERT_TRUE(split.encode(text, false) == want) << "variant " << variant << " text " << t;
      ASSERT_TRUE(buckets.encode(text, false) == want) << "variant " << variant << " text " << t;
      ASSERT_TRUE(split.decode(want) == text) << "variant " << variant << " text " << t;
    }
  }
}

TEST(SpmVocab, ValidationNamesTheKey) {
  auto expect_error = [](Vocab v, const std::string& needle) {
    try {
      SpmTokenizer tok(std::move(v));
      ADD_FAILURE() << "no error, wanted " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Vocab v = make_vocab({});
  v.scores.pop_back();
  expect_error(v, "tokenizer.ggml.scores");
  v = make_vocab({});
  v.types.pop_back();
  expect_error(v, "tokenizer.ggml.token_type");
  v = make_vocab({});
  v.eos = v.size();
  expect_error(v, "tokenizer.ggml.eos_token_id");
  v = make_vocab({});
  v.scores.clear();
  expect_error(v, "tokenizer.ggml.scores");
  v = make_vocab({});
  v.tokens[5] = "<0xZZ>";
  expect_error(v, "tokenizer.ggml.tokens");
  v = make_vocab({}, false);
  v.unk = -1;
  v.types[0] = TokenType::control;
  expect_error(v, "tokenizer.ggml.unknown_token_id");
  v = make_vocab({});
  v.tokens.clear();
  v.scores.clear();
  v.types.clear();
  expect_error(v, "tokenizer.ggml.tokens");
}

TEST(TokenizerUtf8, CharLengthAndTail) {
  using namespace std::string_view_literals;
  EXPECT_EQ(utf8::char_length("a", 0), 1u);
  EXPECT_EQ(utf8::char_length("\xC3\xA9", 0), 2u);
  EXPECT_EQ(utf8::char_length("\xE2\x96\x81", 0), 3u);
  EXPECT_EQ(utf8::char_length("\xF0\x9F\xA6\x99", 0), 4u);
  EXPECT_EQ(utf8::char_length("\xC0\x80", 0), 1u);      // overlong
  EXPECT_EQ(utf8::char_length("\xED\xA0\x80", 0), 1u);  // surrogate
  EXPECT_EQ(utf8::char_length("\xF0\x9F\xA6", 0), 1u);  // cut short
  EXPECT_EQ(utf8::char_length("\x80", 0), 1u);
  EXPECT_EQ(utf8::incomplete_tail("ab"), 0u);
  EXPECT_EQ(utf8::incomplete_tail("a\xF0"), 1u);
  EXPECT_EQ(utf8::incomplete_tail("a\xF0\x9F"), 2u);
  EXPECT_EQ(utf8::incomplete_tail("a\xF0\x9F\xA6"), 3u);
  EXPECT_EQ(utf8::incomplete_tail("a\xF0\x9F\xA6\x99"), 0u);
  EXPECT_EQ(utf8::incomplete_tail("a\xE0\x80"), 0u);  // can never complete
  EXPECT_EQ(utf8::incomplete_tail("\x80\x80"), 0u);
  EXPECT_EQ(utf8::incomplete_tail(""), 0u);
}

TEST(StreamDecoder, HoldsBackUnfinishedCharacters) {
  SpmTokenizer tok(make_vocab({{kU, -5}, {"a", -10}, {kU + "a", -1}}));
  const std::string text = "a \xF0\x9F\xA6\x99 a\xE2\x96";  // ends in an unfinished sequence
  const auto ids = tok.encode(text, true);
  StreamDecoder stream(tok);
  std::string got;
  for (int32_t id : ids) {
    const std::string part = stream.feed(id);
    EXPECT_EQ(utf8::incomplete_tail(part), 0u);
    got += part;
  }
  EXPECT_EQ(got, text.substr(0, text.size() - 2));
  got += stream.finish();
  EXPECT_EQ(got, text);
  EXPECT_EQ(got, tok.decode(ids));
}

}  // namespace
}  // namespace owl
