// Hugging Face tokenizer.json: model (BPE / WordPiece), normalizer, pre_tokenizer, post_processor and
// added_tokens mapped onto owl's tokenizers. SentencePiece-style BPE (Metaspace, or Prepend + Replace
// "▁") becomes an SpmTokenizer whose piece scores follow the merge ranks; byte-level BPE a
// BpeTokenizer; WordPiece a WordPieceTokenizer; Unigram a UnigramTokenizer. Mirrors the HF
// tokenizers serialization format.
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/hf_loaders.h"
#include "tokenizer/spm_text.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/unigram_tokenizer.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace owl {

using spm::kSpace;

using nlohmann::json;

namespace {

struct Parsed {
  std::string path;
  bool nfc = false;
  bool spm_style = false;        // spaces become U+2581
  bool spm_prefix = false;       // with a U+2581 in front
  bool lowercase = false;
  bool bert_normalizer = false;
  WordPieceOptions wordpiece;
  bool byte_level = false;
  bool add_prefix_space = false;
  PreTokenizer pre;
  bool has_pre = false;
  bool metaspace_split = false;   // Metaspace with split on: words are segmented one by one
  bool precompiled = false;       // a Precompiled (SentencePiece charsmap) normalizer
  bool collapse_spaces = false;   // Replace " {2,}" -> " "
  bool whitespace_split = false;  // a WhitespaceSplit pre-tokenizer
  std::string other_pre;          // the first pre-tokenizer a Unigram model cannot follow
};

[[noreturn]] void unsupported(const Parsed& p, std::string_view where, std::string_view type) {
  fail("{}: '{}': type '{}' is not supported", p.path, where, type);
}

std::string type_of(const json& j) { return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : ""; }

void parse_normalizer(const json& j, Parsed& p) {
  if (j.is_null()) return;
  const std::string t = type_of(j);
  if (t == "Sequence") {
    for (const json& n : j.at("normalizers")) parse_normalizer(n, p);
  } else if (t == "NFC") {
    p.nfc = true;
  } else if (t == "Prepend") {
    if (j.value("prepend", "") != kSpace) unsupported(p, "normalizer.Prepend", j.value("prepend", ""));
    p.spm_prefix = true;
  } else if (t == "Precompiled") {
    p.precompiled = true;
  } else if (t == "Replace" && j.at("pattern").contains("Regex") && j["pattern"]["Regex"] == " {2,}" &&
             j.value("content", "") == " ") {
    p.collapse_spaces = true;
  } else if (t == "Replace") {
    const json& pat = j.at("pattern");
    if (!(pat.contains("String") && pat["String"] == " " && j.value("content", "") == kSpace)) {
      unsupported(p, "normalizer.Replace", pat.dump());
    }
    p.spm_style = true;
  } else if (t == "BertNormalizer") {
    p.bert_normalizer = true;
    p.wordpiece.clean_text = j.value("clean_text", true);
    p.wordpiece.handle_chinese_chars = j.value("handle_chinese_chars", true);
    p.wordpiece.lowercase = j.value("lowercase", true);
    const json& sa = j.contains("strip_accents") ? j["strip_accents"] : json();
    p.wordpiece.strip_accents = sa.is_boolean() ? sa.get<bool>() : p.wordpiece.lowercase;
  } else if (t == "Lowercase") {
    p.lowercase = true;
  } else {
    unsupported(p, "normalizer", t);
  }
}

SplitBehavior behavior_of(const Parsed& p, const json& j) {
  const std::string b = j.value("behavior", "Isolated");
  if (b == "Isolated") return SplitBehavior::isolated;
  if (b == "Removed") return SplitBehavior::removed;
  if (b == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
  if (b == "MergedWithNext") return SplitBehavior::merged_with_next;
  if (b == "Contiguous") return SplitBehavior::contiguous;
  unsupported(p, "pre_tokenizer.behavior", b);
}

void parse_pre_tokenizer(const json& j, Parsed& p) {
  if (j.is_null()) return;
  p.has_pre = true;
  const std::string t = type_of(j);
  if (t != "Sequence" && t != "Metaspace" && t != "WhitespaceSplit" && p.other_pre.empty()) p.other_pre = t;
  if (t == "Sequence") {
    for (const json& n : j.at("pretokenizers")) parse_pre_tokenizer(n, p);
  } else if (t == "ByteLevel") {
    p.byte_level = true;
    p.add_prefix_space = j.value("add_prefix_space", false);
    if (j.value("use_regex", true)) p.pre.add_fast(FastPattern::gpt2);
  } else if (t == "Split") {
    const json& pat = j.at("pattern");
    if (pat.contains("Regex")) {
      p.pre.add_regex(pat["Regex"].get<std::string>(), behavior_of(p, j), j.value("invert", false), p.path);
    } else if (pat.contains("String")) {
      p.pre.add_literal(pat["String"].get<std::string>(), behavior_of(p, j), j.value("invert", false));
    } else {
      unsupported(p, "pre_tokenizer.Split.pattern", pat.dump());
    }
  } else if (t == "Digits") {
    p.pre.add_digits(j.value("individual_digits", false));
  } else if (t == "Punctuation") {
    p.pre.add_punctuation(behavior_of(p, j));
  } else if (t == "Whitespace") {
    p.pre.add_whitespace();
  } else if (t == "WhitespaceSplit") {
    p.pre.add_whitespace_split();
    p.whitespace_split = true;
  } else if (t == "BertPreTokenizer") {
    p.pre.add_bert();
  } else if (t == "Metaspace") {
    p.spm_style = true;
    const std::string scheme = j.value("prepend_scheme", j.value("add_prefix_space", true) ? "always" : "never");
    p.spm_prefix = scheme != "never";
    p.metaspace_split = j.value("split", true);
  } else {
    unsupported(p, "pre_tokenizer", t);
  }
}

// Merges as pairs: "a b" strings (older files) or ["a", "b"] arrays.
std::vector<std::pair<std::string, std::string>> read_merges(const Parsed& p, const json& model) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!model.contains("merges")) return out;
  for (const json& m : model["merges"]) {
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ', 1);
      if (space == std::string::npos) fail("{}: 'model.merges': '{}' is not two tokens", p.path, s);
      out.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      fail("{}: 'model.merges': malformed entry {}", p.path, m.dump());
    }
  }
  return out;
}

void read_added_tokens(const json& root, const std::string& path, HfConfig& config);

// A token id from the file: an integer in 0..16 Mi (model.vocab's bound). get<int32_t>() alone
// would narrow a large integer and is undefined for a float out of int range (fuzz/tokenizer_json_fuzz).
int32_t token_id(const json& id, const std::string& path, std::string_view where) {
  if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > 16 * 1024 * 1024) {
    fail("{}: '{}': {} is not a token id", path, where, id.dump());
  }
  return static_cast<int32_t>(id.get<int64_t>());
}

// The vocabulary of model.vocab ({token: id}) with the added tokens on top.
Vocab read_vocab(const Parsed& p, const json& model, const json& root, HfConfig& config) {
  Vocab v;
  v.source = p.path;
  const json& vocab = model.at("vocab");
  if (!vocab.is_object()) fail("{}: 'model.vocab': expected an object of token -> id", p.path);
  for (const auto& [text, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > 16 * 1024 * 1024) {
      fail("{}: 'model.vocab.{}': expected a token id", p.path, text);
    }
    const auto i = static_cast<size_t>(id.get<int64_t>());
    if (i >= v.tokens.size()) v.tokens.resize(i + 1);
    v.tokens[i] = text;
  }
  v.types.assign(v.tokens.size(), TokenType::normal);
  read_added_tokens(root, p.path, config);
  return v;
}

// A Unigram model.vocab: [[piece, score], ...] in id order; model.unk_id names the unknown piece.
Vocab read_unigram_vocab(const Parsed& p, const json& model, const json& root, HfConfig& config) {
  Vocab v;
  v.source = p.path;
  const json& vocab = model.at("vocab");
  if (!vocab.is_array()) fail("{}: 'model.vocab': expected an array of [piece, score] (a Unigram model)", p.path);
  for (size_t i = 0; i < vocab.size(); ++i) {
    const json& e = vocab[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string()) fail("{}: 'model.vocab[{}]': expected [piece, score]", p.path, i);
    if (!e[1].is_number()) fail("{}: 'model.vocab[{}]': the score {} is not a number", p.path, i, e[1].dump());
    v.tokens.push_back(e[0].get<std::string>());
    v.scores.push_back(e[1].get<float>());
  }
  if (v.tokens.empty()) fail("{}: 'model.vocab': empty", p.path);
  v.types.assign(v.tokens.size(), TokenType::normal);
  if (model.contains("unk_id") && !model["unk_id"].is_null()) {
    const json& u = model["unk_id"];
    if (!u.is_number_integer() || u.get<int64_t>() < 0 || u.get<int64_t>() >= static_cast<int64_t>(v.tokens.size())) {
      fail("{}: 'model.unk_id': {} is not a token id (the vocabulary has {} pieces)", p.path, u.dump(), v.tokens.size());
    }
    v.unk = u.get<int32_t>();
  }
  read_added_tokens(root, p.path, config);
  return v;
}

void read_added_tokens(const json& root, const std::string& path, HfConfig& config) {
  if (root.contains("added_tokens") && root["added_tokens"].is_array()) {
    for (const json& a : root["added_tokens"]) {
      AddedToken t;
      t.id = token_id(a.at("id"), path, "added_tokens.id");
      t.content = a.at("content").get<std::string>();
      t.special = a.value("special", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      config.added.push_back(t);
    }
  }
}

// BOS / EOS from the post-processor: TemplateProcessing's special tokens around $A, BertProcessing.
void read_post_processor(const json& j, Vocab& v) {
  const std::string t = type_of(j);
  if (t == "TemplateProcessing" && j.contains("single") && j["single"].is_array()) {
    const json& single = j["single"];
    bool before = true;
    for (const json& item : single) {
      if (item.contains("Sequence")) {
        before = false;
      } else if (item.contains("SpecialToken")) {
        const int32_t id = find_token(v, item["SpecialToken"].value("id", ""));
        if (id < 0) continue;
        if (before) {
          v.bos = id;
          v.add_bos = true;
        } else {
          v.eos = id;
          v.add_eos = true;
        }
      }
    }
    if (!v.add_bos) v.add_bos = false;
    if (!v.add_eos) v.add_eos = false;
  } else if (t == "BertProcessing" || t == "RobertaProcessing") {
    // ["[CLS]", 101]; a shorter array was read past its end.
    for (const auto& [key, id] : {std::pair{"cls", &v.bos}, std::pair{"sep", &v.eos}}) {
      if (!j.contains(key) || !j[key].is_array()) continue;
      const json& pair = j[key];
      *id = token_id(pair.size() == 2 ? pair[1] : json(), v.source, std::string("post_processor.") + key);
    }
    v.add_bos = true;
    v.add_eos = true;
  } else if (t == "Sequence" && j.contains("processors")) {
    for (const json& n : j["processors"]) read_post_processor(n, v);
  }
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path, const HfConfig& file_config) {
  json root;
  try {
    root = json::parse(read_tokenizer_file(path));
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  try {
    Parsed p;
    p.path = path;
    if (!root.is_object() || !root.contains("model")) fail("{}: 'model': missing (not a tokenizer.json)", path);
    const json& model = root["model"];
    parse_normalizer(root.contains("normalizer") ? root["normalizer"] : json(), p);
    parse_pre_tokenizer(root.contains("pre_tokenizer") ? root["pre_tokenizer"] : json(), p);
    HfConfig config;
    const std::string type = type_of(model).empty() ? "BPE" : type_of(model);
    if (type != "Unigram" && (p.precompiled || p.collapse_spaces)) unsupported(p, "normalizer", "Precompiled / Replace");
    Vocab v = type == "Unigram" ? read_unigram_vocab(p, model, root, config) : read_vocab(p, model, root, config);
    // The file's own added tokens first; tokenizer_config.json may add more.
    for (const AddedToken& a : file_config.added) config.added.push_back(a);
    config.bos_token = file_config.bos_token;
    config.eos_token = file_config.eos_token;
    config.unk_token = file_config.unk_token;
    config.add_bos = file_config.add_bos;
    config.add_eos = file_config.add_eos;
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      v.unk = find_token(v, model["unk_token"].get<std::string>());
    }
    apply_hf_config(v, HfConfig{std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, "", config.added});
    if (root.contains("post_processor")) read_post_processor(root["post_processor"], v);
    apply_hf_config(v, HfConfig{config.add_bos, config.add_eos, config.bos_token, config.eos_token, config.unk_token, "", {}});
    std::unique_ptr<Tokenizer> tok;
    if (type == "BPE" && p.spm_style) {
      // SentencePiece BPE converted by transformers: every piece a merge forms is ranked by the
      // merge list, which follows the SentencePiece scores; SpmTokenizer merges by score.
      const auto merges = read_merges(p, model);
      v.model = "llama";
      v.scores.assign(v.tokens.size(), -1e9f);
      std::vector<uint8_t> ranked(v.tokens.size(), 0);
      for (size_t r = 0; r < merges.size(); ++r) {
        const int32_t id = find_token(v, merges[r].first + merges[r].second);
        if (id >= 0 && !ranked[static_cast<size_t>(id)]) {
          v.scores[static_cast<size_t>(id)] = -static_cast<float>(r);
          ranked[static_cast<size_t>(id)] = 1;
        }
      }
      const bool byte_fallback = model.value("byte_fallback", false);
      for (size_t i = 0; i < v.tokens.size(); ++i) {
        if (v.types[i] == TokenType::normal && byte_fallback && parse_byte_piece(v.tokens[i])) v.types[i] = TokenType::byte;
      }
      if (v.unk >= 0) v.types[static_cast<size_t>(v.unk)] = TokenType::unknown;
      v.add_space_prefix = p.spm_prefix;
      if (!v.add_bos) v.add_bos = false;
      tok = std::make_unique<SpmTokenizer>(std::move(v));
    } else if (type == "BPE") {
      if (p.bert_normalizer || p.lowercase) unsupported(p, "normalizer", "lower-casing with BPE");
      v.model = "gpt2";
      BpeOptions o;
      o.merges = read_merges(p, model);
      if (o.merges.empty()) fail("{}: 'model.merges': missing or empty", path);
      o.spelling = p.byte_level ? BpeOptions::Spelling::byte_level : BpeOptions::Spelling::raw;
      o.byte_level_symbols = p.byte_level;
      o.ignore_merges = model.value("ignore_merges", false);
      o.byte_fallback = model.value("byte_fallback", false);
      o.nfc = p.nfc;
      o.add_prefix_space = p.add_prefix_space;
      o.pre_given = true;
      o.pre = std::move(p.pre);
      if (o.byte_fallback) {
        for (size_t i = 0; i < v.tokens.size(); ++i) {
          if (v.types[i] == TokenType::normal && parse_byte_piece(v.tokens[i])) v.types[i] = TokenType::byte;
        }
      }
      tok = std::make_unique<BpeTokenizer>(std::move(v), std::move(o));
    } else if (type == "Unigram") {
      if (!p.other_pre.empty()) unsupported(p, "pre_tokenizer (with a Unigram model)", p.other_pre);
      if (p.lowercase || p.bert_normalizer) unsupported(p, "normalizer (with a Unigram model)", "lower-casing");
      v.model = "unigram";
      UnigramOptions o;
      o.escape_whitespace = p.spm_style;
      o.split_on_space = p.metaspace_split;
      o.remove_extra_whitespaces = p.collapse_spaces || p.whitespace_split;
      o.nfkc = p.precompiled;  // the SentencePiece charsmap, approximated by NFKC
      o.byte_fallback = model.value("byte_fallback", false);
      for (size_t i = 0; i < v.tokens.size(); ++i) {
        if (v.types[i] == TokenType::normal && o.byte_fallback && parse_byte_piece(v.tokens[i])) v.types[i] = TokenType::byte;
      }
      if (v.unk >= 0) v.types[static_cast<size_t>(v.unk)] = TokenType::unknown;
      v.add_space_prefix = p.spm_style && p.spm_prefix;
      if (!v.add_bos) v.add_bos = false;
      tok = std::make_unique<UnigramTokenizer>(std::move(v), o);
    } else if (type == "WordPiece") {
      v.model = "bert";
      WordPieceOptions o = p.wordpiece;
      if (!p.bert_normalizer) o = WordPieceOptions{false, false, false, p.lowercase};
      o.continuing_prefix = model.value("continuing_subword_prefix", "##");
      // A float or an absurd count here would be converted with undefined behaviour: checked first.
      const json max_chars = model.value("max_input_chars_per_word", json(100));
      if (!max_chars.is_number_integer() || max_chars.get<int64_t>() < 1 || max_chars.get<int64_t>() > (1 << 30)) {
        fail("{}: model.max_input_chars_per_word must be a positive integer, got {}", path, max_chars.dump());
      }
      o.max_input_chars_per_word = max_chars.get<size_t>();
      if (v.bos < 0) v.bos = find_token(v, "[CLS]");
      if (v.eos < 0) v.eos = find_token(v, "[SEP]");
      tok = std::make_unique<WordPieceTokenizer>(std::move(v), o);
    } else {
      unsupported(p, "model", type);
    }
    register_added_tokens(*tok, config);
    return tok;
  } catch (const json::exception& e) {
    fail("{}: malformed tokenizer.json: {}", path, e.what());
  }
}

}  // namespace owl
