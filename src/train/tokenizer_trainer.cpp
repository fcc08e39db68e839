// BPE training for an SPM-style vocabulary (train/tokenizer_trainer.h). Words are counted once and
// kept as symbol-id sequences; each round recounts the adjacent pairs (weighted by word counts),
// merges the best pair everywhere and adds its piece.
#include "train/tokenizer_trainer.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "base/error.h"
#include "tokenizer/spm_text.h"
#include "tokenizer/utf8.h"

namespace owl::train {

namespace {

using spm::kSpace;

// The UTF-8 characters of s (an invalid byte stands alone).
std::vector<std::string> characters(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > s.size()) len = 1;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

bool word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
}

// Word counts of the texts normalised as the SPM encoder sees them ("▁" + text, spaces as "▁"),
// split before each "▁" and where letters meet punctuation ("▁Pip." is "▁Pip" and "."), so that
// the vocabulary spends its pieces on words, not on words with a comma attached.
std::map<std::string, int64_t> count_words(const std::vector<std::string>& texts) {
  std::map<std::string, int64_t> words;
  for (const std::string& text : texts) {
    std::string word;
    auto flush = [&] {
      if (!word.empty() && word != kSpace) ++words[word];
      word.clear();
    };
    bool space_before = true;  // the dummy prefix
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == ' ') {
        flush();
        space_before = true;
        continue;
      }
      if (space_before) {
        word = kSpace;
      } else if (i > 0 && word_char(c) != word_char(text[i - 1])) {
        flush();
      }
      space_before = false;
      word += c;
    }
    flush();
  }
  return words;
}

}  // namespace

Vocab train_spm_bpe(const std::vector<std::string>& texts, const TokenizerTrainOptions& o) {
  if (o.vocab_size < 300 || o.vocab_size > 1'000'000) fail("--vocab-size {}: must be 300 to 1000000", o.vocab_size);
  Vocab v;
  v.source = "<owl train-tokenizer>";
  v.model = "llama";
  auto add = [&](std::string piece, float score, TokenType type) {
    v.tokens.push_back(std::move(piece));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0.0f, TokenType::unknown);
  add("<s>", 0.0f, TokenType::control);
  add("</s>", 0.0f, TokenType::control);
  for (int b = 0; b < 256; ++b) add(fmt::format("<0x{:02X}>", b), 0.0f, TokenType::byte);
  v.unk = 0, v.bos = 1, v.eos = 2;
  v.add_bos = true, v.add_eos = false, v.add_space_prefix = true;

  // Symbols by id; words as symbol sequences with their counts.
  const std::map<std::string, int64_t> word_counts = count_words(texts);
  if (word_counts.empty()) fail("owl train-tokenizer: the text holds no words");
  std::map<std::string, int64_t> char_counts;
  for (const auto& [word, count] : word_counts) {
    for (const std::string& c : characters(word)) {
      if (utf8::valid_char_length(c, 0) == c.size()) char_counts[c] += count;  // invalid bytes: byte fallback
    }
  }
  std::vector<std::pair<std::string, int64_t>> chars(char_counts.begin(), char_counts.end());
  std::stable_sort(chars.begin(), chars.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  // Characters take what the specials and bytes leave, up to max_chars; merges the rest.
  const int64_t char_room = std::min<int64_t>(o.max_chars, o.vocab_size - v.size());
  if (static_cast<int64_t>(chars.size()) > char_room) chars.resize(static_cast<size_t>(char_room));
  std::vector<std::string> symbols;  // id -> text
  std::map<std::string, int32_t> symbol_id;
  for (const auto& [c, n] : chars) {
    symbol_id[c] = static_cast<int32_t>(symbols.size());
    symbols.push_back(c);
  }
  struct Word {
    std::vector<int32_t> ids;
    int64_t count;
  };
  std::vector<Word> words;
  constexpr int32_t kByte = -1;  // a character left to byte fallback: never merged
  for (const auto& [text, count] : word_counts) {
    Word w{{}, count};
    for (const std::string& c : characters(text)) {
      const auto it = symbol_id.find(c);
      w.ids.push_back(it == symbol_id.end() ? kByte : it->second);
    }
    words.push_back(std::move(w));
  }

  const int64_t budget = o.vocab_size - v.size() - static_cast<int64_t>(chars.size());
  std::vector<std::string> merged;  // new pieces in merge order
  while (static_cast<int64_t>(merged.size()) < budget) {
    std::unordered_map<uint64_t, int64_t> pairs;
    for (const Word& w : words) {
      for (size_t i = 0; i + 1 < w.ids.size(); ++i) {
        if (w.ids[i] == kByte || w.ids[i + 1] == kByte) continue;
        pairs[(static_cast<uint64_t>(w.ids[i]) << 32) | static_cast<uint32_t>(w.ids[i + 1])] += w.count;
      }
    }
    // The best pair: highest count, then the smallest merged text (hash order never decides).
    uint64_t best = 0;
    int64_t best_count = 0;
    std::string best_text;
    for (const auto& [key, count] : pairs) {
      if (count < o.min_frequency || count < best_count) continue;
      std::string text = symbols[key >> 32] + symbols[key & 0xFFFFFFFFu];
      // Two pairs may make the same text ("▁t|he", "▁th|e"): then the smaller pair of ids decides.
      if (count > best_count || text < best_text || (text == best_text && key < best)) {
        best = key, best_count = count, best_text = std::move(text);
      }
    }
    if (best_count == 0) break;
    const auto a = static_cast<int32_t>(best >> 32), b = static_cast<int32_t>(best & 0xFFFFFFFFu);
    int32_t id;
    if (const auto it = symbol_id.find(best_text); it != symbol_id.end()) {
      id = it->second;  // another split of a piece already made
    } else {
      id = static_cast<int32_t>(symbols.size());
      symbols.push_back(best_text);
      symbol_id[best_text] = id;
      merged.push_back(best_text);
    }
    for (Word& w : words) {
      std::vector<int32_t> out;
      out.reserve(w.ids.size());
      for (size_t i = 0; i < w.ids.size(); ++i) {
        if (i + 1 < w.ids.size() && w.ids[i] == a && w.ids[i + 1] == b) {
          out.push_back(id);
          ++i;
        } else {
          out.push_back(w.ids[i]);
        }
      }
      w.ids = std::move(out);
    }
  }
  const auto n_merged = static_cast<float>(merged.size());
  for (size_t i = 0; i < merged.size(); ++i) add(merged[i], -static_cast<float>(i), TokenType::normal);
  for (size_t i = 0; i < chars.size(); ++i) add(chars[i].first, -n_merged - static_cast<float>(i), TokenType::normal);
  v.validate();
  return v;
}

}  // namespace owl::train
