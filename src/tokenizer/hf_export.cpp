// hf_tokenizer_files: a Vocab as the Hugging Face tokenizers serialization (tokenizer.json: added_tokens,
// normalizer, pre_tokenizer, post_processor, decoder, BPE model) plus tokenizer_config.json. SentencePiece
// merges follow transformers' SentencePieceExtractor; the byte-level layout follows Llama 3's and Qwen2's.
#include "tokenizer/hf_export.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/error.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/spm_text.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/utf8.h"

namespace owl {

using spm::kSpace;

namespace {

using Json = nlohmann::ordered_json;
using Lookup = std::unordered_map<std::string_view, int32_t>;

// Special ids and flags with the tokenizer model's defaults for absent keys applied.
struct Specials {
  int32_t bos = -1;
  int32_t eos = -1;
  int32_t unk = -1;
  int32_t pad = -1;
  bool add_bos = false;
  bool add_eos = false;
};

// What differs between the SentencePiece and the byte-level layout.
struct Layout {
  Json normalizer;
  Json pre_tokenizer;
  Json post_processor;
  Json decoder;
  Json model;                       // the BPE options, without vocab and merges
  std::vector<std::string> merges;  // as JSON text: "a b" strings or ["a", "b"] pairs
  std::string tokenizer_class;
};

// text -> id of every token. owl::Error for what a tokenizer.json cannot hold: text that is not valid
// UTF-8 (JSON strings are Unicode), two tokens with one text (model.vocab maps each text to one id).
Lookup token_ids(const Vocab& v) {
  Lookup ids;
  ids.reserve(v.tokens.size());
  for (int32_t id = 0; id < v.size(); ++id) {
    const std::string_view text = v.tokens[static_cast<size_t>(id)];
    for (size_t pos = 0; pos < text.size();) {
      const size_t n = utf8::valid_char_length(text, pos);
      if (n == 0) fail("{}: token {} is not valid UTF-8, which a tokenizer.json cannot hold", v.source, id);
      pos += n;
    }
    const auto [it, inserted] = ids.emplace(text, id);
    if (!inserted) {
      fail("{}: tokens {} and {} are both '{}', which a tokenizer.json vocabulary cannot hold", v.source, it->second,
           id, text);
    }
  }
  return ids;
}

const std::string& text_of(const Vocab& v, int32_t id) { return v.tokens[static_cast<size_t>(id)]; }

Json token_or_null(const Vocab& v, int32_t id) { return id >= 0 ? Json(text_of(v, id)) : Json(); }

bool is_added(TokenType t) { return t == TokenType::control || t == TokenType::user_defined; }

// An AddedToken: control tokens are special (matched only when parsing specials), user-defined ones are
// not. normalized = false: matched on the raw text, as owl and llama.cpp match them.
Json added_token(const Vocab& v, int32_t id, bool with_id) {
  Json t;
  if (with_id) t["id"] = id;
  t["content"] = text_of(v, id);
  t["single_word"] = false;
  t["lstrip"] = false;
  t["rstrip"] = false;
  t["normalized"] = false;
  t["special"] = v.type(id) == TokenType::control;
  return t;
}

// BOS / EOS around each sequence, as LlamaTokenizerFast.update_post_processor writes them.
Json template_processing(const Vocab& v, const Specials& s) {
  const int32_t bos = s.add_bos ? s.bos : -1;
  const int32_t eos = s.add_eos ? s.eos : -1;
  auto item = [](const char* kind, const std::string& id, int type_id) {
    Json j;
    j[kind]["id"] = id;
    j[kind]["type_id"] = type_id;
    return j;
  };
  auto around = [&](Json& list, const char* sequence, int type_id) {
    if (bos >= 0) list.push_back(item("SpecialToken", text_of(v, bos), type_id));
    list.push_back(item("Sequence", sequence, type_id));
    if (eos >= 0) list.push_back(item("SpecialToken", text_of(v, eos), type_id));
  };
  Json single = Json::array();
  Json pair = Json::array();
  around(single, "A", 0);
  around(pair, "A", 0);
  around(pair, "B", 1);
  Json specials = Json::object();
  for (const int32_t id : {bos, eos}) {
    if (id < 0) continue;
    Json& e = specials[text_of(v, id)];
    e["id"] = text_of(v, id);
    e["ids"] = Json::array({id});
    e["tokens"] = Json::array({text_of(v, id)});
  }
  Json t;
  t["type"] = "TemplateProcessing";
  t["single"] = std::move(single);
  t["pair"] = std::move(pair);
  t["special_tokens"] = std::move(specials);
  return t;
}

Json bpe_options(const Json& unk_token, bool fuse_unk, bool byte_fallback, bool ignore_merges) {
  Json m;
  m["type"] = "BPE";
  m["dropout"] = nullptr;
  m["unk_token"] = unk_token;
  m["continuing_subword_prefix"] = nullptr;
  m["end_of_word_suffix"] = nullptr;
  m["fuse_unk"] = fuse_unk;
  m["byte_fallback"] = byte_fallback;
  m["ignore_merges"] = ignore_merges;
  return m;
}

Json replace_string(std::string_view from, std::string_view to) {
  Json r;
  r["type"] = "Replace";
  r["pattern"]["String"] = std::string(from);
  r["content"] = std::string(to);
  return r;
}

Json of_type(const char* type) {
  Json j;
  j["type"] = type;
  return j;
}

Json sequence(const char* key, Json items) {
  Json j;
  j["type"] = "Sequence";
  j[key] = std::move(items);
  return j;
}

// Pieces SentencePiece's BPE can merge into (owl's SpmTokenizer: not control, unknown or byte pieces).
bool mergeable(TokenType t) {
  return t == TokenType::normal || t == TokenType::user_defined || t == TokenType::unused || t == TokenType::undefined;
}

// transformers' SentencePieceExtractor (generate_merges): for every piece, each split at a character
// boundary into two pieces of the vocabulary, in (left id, right id) order; then all of them ordered by
// the merged piece's score, then by the lengths of the left and right parts, all descending (stable).
// HF's BPE then merges into a piece where SentencePiece would; among pieces of equal score (Llama 2's
// whitespace runs) SentencePiece takes the leftmost pair, which the length order mostly reproduces.
std::vector<std::pair<int32_t, int32_t>> sentencepiece_merges(const Vocab& v, const Lookup& ids) {
  struct Merge {
    float score;
    int32_t left;
    int32_t right;
    size_t left_chars;
    size_t right_chars;
  };
  std::vector<Merge> merges;
  std::vector<Merge> local;
  std::vector<size_t> starts;  // byte offset of each character: Python splits a str by code points
  for (int32_t id = 0; id < v.size(); ++id) {
    if (!mergeable(v.type(id))) continue;
    const std::string_view piece = text_of(v, id);
    starts.clear();
    for (size_t k = 0; k < piece.size(); k += utf8::char_length(piece, k)) starts.push_back(k);
    local.clear();
    for (size_t c = 1; c < starts.size(); ++c) {
      const auto left = ids.find(piece.substr(0, starts[c]));
      const auto right = ids.find(piece.substr(starts[c]));
      if (left != ids.end() && right != ids.end()) {
        local.push_back(Merge{v.scores[static_cast<size_t>(id)], left->second, right->second, c, starts.size() - c});
      }
    }
    std::sort(local.begin(), local.end(),
              [](const Merge& a, const Merge& b) { return std::pair(a.left, a.right) < std::pair(b.left, b.right); });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    return std::pair(a.left_chars, a.right_chars) > std::pair(b.left_chars, b.right_chars);
  });
  std::vector<std::pair<int32_t, int32_t>> out;
  out.reserve(merges.size());
  for (const Merge& m : merges) out.emplace_back(m.left, m.right);
  return out;
}

// Llama 2's layout (LlamaConverter, legacy): spaces become U+2581 and one is prepended (the dummy prefix)
// by the normalizer, no pre-tokenizer, byte fallback; the decoder undoes both.
Layout sentencepiece_layout(const SpmTokenizer& spm, const Lookup& ids, const Specials& s) {
  const Vocab& v = spm.vocab();
  Layout l;
  Json prepend = of_type("Prepend");
  prepend["prepend"] = std::string(kSpace);
  const Json replace = replace_string(" ", kSpace);
  l.normalizer = spm.add_space_prefix() ? sequence("normalizers", Json::array({prepend, replace})) : replace;
  l.pre_tokenizer = nullptr;
  l.post_processor = template_processing(v, s);
  Json decoders = Json::array({replace_string(kSpace, " "), of_type("ByteFallback"), of_type("Fuse")});
  if (spm.add_space_prefix()) {
    Json strip = of_type("Strip");
    strip["content"] = " ";
    strip["start"] = 1;
    strip["stop"] = 0;
    decoders.push_back(std::move(strip));
  }
  l.decoder = sequence("decoders", std::move(decoders));
  const bool byte_fallback = std::find(v.types.begin(), v.types.end(), TokenType::byte) != v.types.end();
  l.model = bpe_options(token_or_null(v, s.unk), true, byte_fallback, false);

  const auto merges = sentencepiece_merges(v, ids);
  // "a b" strings (readable by every tokenizers version) unless a piece holds a space: then pairs.
  const bool pairs = std::any_of(merges.begin(), merges.end(), [&](const auto& m) {
    return text_of(v, m.first).find(' ') != std::string::npos || text_of(v, m.second).find(' ') != std::string::npos;
  });
  l.merges.reserve(merges.size());
  for (const auto& [a, b] : merges) {
    l.merges.push_back(pairs ? Json::array({text_of(v, a), text_of(v, b)}).dump()
                             : Json(text_of(v, a) + " " + text_of(v, b)).dump());
  }
  l.tokenizer_class = spm.add_space_prefix() ? "LlamaTokenizer" : "PreTrainedTokenizerFast";
  return l;
}

const char* behavior_name(SplitBehavior b) {
  static constexpr const char* kNames[] = {"Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
  return kNames[static_cast<int>(b)];  // in SplitBehavior order
}

Json byte_level(bool trim_offsets, bool use_regex) {
  Json j = of_type("ByteLevel");
  j["add_prefix_space"] = false;
  j["trim_offsets"] = trim_offsets;
  j["use_regex"] = use_regex;
  return j;
}

// GPT-2 / Llama 3 / Qwen2's layout: the regexes llama.cpp uses for tokenizer.ggml.pre as Split steps
// before ByteLevel (GPT-2's own regex is ByteLevel's built-in one), NFC where the name asks for it.
Layout byte_level_layout(const Vocab& v, const Lookup& ids, const Specials& s) {
  Layout l;
  bool ignore_merges = false;
  bool nfc = false;
  const PreTokenizer pre = PreTokenizer::from_gguf_pre(v.pre, v.source, ignore_merges, nfc);
  const auto splits = pre.regex_splits();
  if (!splits)
    fail("{}: metadata 'tokenizer.ggml.pre': '{}' ({}) has no tokenizer.json form", v.source, v.pre, pre.describe());
  l.normalizer = nfc ? of_type("NFC") : Json();
  const bool gpt2_regex = splits->size() == 1 && splits->front().pattern == kGpt2Pattern &&
                          splits->front().behavior == SplitBehavior::isolated && !splits->front().invert;
  if (gpt2_regex) {
    l.pre_tokenizer = byte_level(true, true);
  } else {
    Json steps = Json::array();
    for (const auto& split : *splits) {
      Json step = of_type("Split");
      step["pattern"]["Regex"] = split.pattern;
      step["behavior"] = behavior_name(split.behavior);
      step["invert"] = split.invert;
      steps.push_back(std::move(step));
    }
    steps.push_back(byte_level(true, false));
    l.pre_tokenizer = sequence("pretokenizers", std::move(steps));
  }
  const Json post = byte_level(false, true);
  l.post_processor = (s.add_bos && s.bos >= 0) || (s.add_eos && s.eos >= 0)
                         ? sequence("processors", Json::array({post, template_processing(v, s)}))
                         : post;
  Json decoder = byte_level(true, true);
  decoder["add_prefix_space"] = true;  // as transformers writes it; the decoder adds nothing
  l.decoder = std::move(decoder);
  l.model = bpe_options(Json(), false, false, ignore_merges);

  // HF refuses a merge whose parts or result are not tokens; owl and llama.cpp skip those, so dropping
  // them changes no result (the order of the others is kept).
  l.merges.reserve(v.merges.size());
  for (const std::string& m : v.merges) {
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos) continue;
    const std::string_view a = std::string_view(m).substr(0, space);
    const std::string_view b = std::string_view(m).substr(space + 1);
    if (!ids.contains(a) || !ids.contains(b) || !ids.contains(std::string(a) + std::string(b))) continue;
    l.merges.push_back(Json(m).dump());
  }
  l.tokenizer_class = "PreTrainedTokenizerFast";
  return l;
}

// tokenizer.json as the tokenizers library lays it out; model.vocab and merges one entry a line.
std::string tokenizer_json(const Vocab& v, const Layout& l) {
  Json head;
  head["version"] = "1.0";
  head["truncation"] = nullptr;
  head["padding"] = nullptr;
  head["added_tokens"] = Json::array();
  for (int32_t id = 0; id < v.size(); ++id) {
    if (is_added(v.type(id))) head["added_tokens"].push_back(added_token(v, id, true));
  }
  head["normalizer"] = l.normalizer;
  head["pre_tokenizer"] = l.pre_tokenizer;
  head["post_processor"] = l.post_processor;
  head["decoder"] = l.decoder;
  std::string out = head.dump(2);
  out.resize(out.size() - 2);  // reopen the object: drop "\n}"
  out += ",\n  \"model\": {\n";
  for (const auto& [key, value] : l.model.items()) out += "    " + Json(key).dump() + ": " + value.dump() + ",\n";
  // Every token, control ones included: HF gives an added token the id of its text in model.vocab, and
  // otherwise the next free id, so a token left out would change the ids of the tokens after it.
  out += "    \"vocab\": {";
  for (int32_t id = 0; id < v.size(); ++id) {
    out += id == 0 ? "\n      " : ",\n      ";
    out += Json(text_of(v, id)).dump() + ": " + std::to_string(id);
  }
  out += "\n    },\n    \"merges\": [";
  for (size_t i = 0; i < l.merges.size(); ++i) out += (i == 0 ? "\n      " : ",\n      ") + l.merges[i];
  out += "\n    ]\n  }\n}\n";
  return out;
}

std::string tokenizer_config_json(const Vocab& v, const Specials& s, const Layout& l,
                                  const std::optional<std::string>& chat_template) {
  Json c;
  c["add_bos_token"] = s.add_bos;
  c["add_eos_token"] = s.add_eos;
  Json decoder = Json::object();
  for (int32_t id = 0; id < v.size(); ++id) {
    if (is_added(v.type(id))) decoder[std::to_string(id)] = added_token(v, id, false);
  }
  c["added_tokens_decoder"] = std::move(decoder);
  c["bos_token"] = token_or_null(v, s.bos);
  c["eos_token"] = token_or_null(v, s.eos);
  c["unk_token"] = token_or_null(v, s.unk);
  c["pad_token"] = token_or_null(v, s.pad);
  if (chat_template) c["chat_template"] = *chat_template;
  c["clean_up_tokenization_spaces"] = false;  // decode must give the text back unchanged
  c["tokenizer_class"] = l.tokenizer_class;
  return c.dump(2) + "\n";
}

Specials specials_of(const Tokenizer& tok, const Vocab& v, int32_t unk) {
  return Specials{tok.bos(), tok.eos(), unk, v.pad, tok.add_bos_by_default(), tok.add_eos_by_default()};
}

}  // namespace

// The tokenizer is built first for its checks and for the defaults of absent keys (SentencePiece's bos 1,
// eos 2, add_bos on, the first unknown piece as unk), so that the files say what owl does with the GGUF.
HfTokenizerFiles hf_tokenizer_files(const Vocab& vocab, const std::optional<std::string>& chat_template) {
  try {
    if (vocab.model == "llama") {
      const SpmTokenizer spm(vocab);
      const Vocab& v = spm.vocab();
      const Specials s = specials_of(spm, v, spm.unk());
      const Layout layout = sentencepiece_layout(spm, token_ids(v), s);
      return HfTokenizerFiles{tokenizer_json(v, layout), tokenizer_config_json(v, s, layout, chat_template)};
    }
    if (vocab.model == "gpt2") {
      const auto bpe = BpeTokenizer::from_vocab(vocab);
      const Vocab& v = bpe->vocab();
      const Specials s = specials_of(*bpe, v, v.unk);
      const Layout layout = byte_level_layout(v, token_ids(v), s);
      return HfTokenizerFiles{tokenizer_json(v, layout), tokenizer_config_json(v, s, layout, chat_template)};
    }
  } catch (const nlohmann::json::exception& e) {  // a chat template that is not valid UTF-8
    fail("{}: cannot write the tokenizer as JSON: {}", vocab.source, e.what());
  }
  fail("{}: metadata 'tokenizer.ggml.model': writing a '{}' tokenizer as Hugging Face files is not supported (only "
       "'llama', SentencePiece BPE, and 'gpt2', byte-level BPE)",
       vocab.source, vocab.model);
}

}  // namespace owl
