// GGUF tokenizer.ggml.* metadata for a Vocab, and for the tokenizer of a Hugging Face directory the way
// llama.cpp's convert_hf_to_gguf.py writes it (_set_vocab_sentencepiece, _set_vocab_gpt2 / get_vocab_base,
// the tiktoken merge rebuild of its Qwen path). Special ids and add_* flags: gguf_export_hf.cpp.
#include "tokenizer/gguf_export.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "base/error.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/gguf_export_hf.h"
#include "tokenizer/hf_loaders.h"
#include "tokenizer/spm_text.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/unicode.h"

namespace owl {

namespace fs = std::filesystem;
using nlohmann::json;
using Metadata = std::vector<std::pair<std::string, gguf::Value>>;

Metadata vocab_metadata(const Vocab& vocab) {
  Metadata out;
  auto add = [&](const char* key, gguf::Value v) { out.emplace_back(key, std::move(v)); };
  add("tokenizer.ggml.model", gguf::Value{vocab.model});
  if (!vocab.pre.empty()) add("tokenizer.ggml.pre", gguf::Value{vocab.pre});
  add("tokenizer.ggml.tokens", gguf::Value::string_array(vocab.tokens));
  if (!vocab.scores.empty()) add("tokenizer.ggml.scores", gguf::Value::f32_array(vocab.scores));
  std::vector<int32_t> types(vocab.tokens.size(), static_cast<int32_t>(TokenType::normal));
  for (size_t i = 0; i < vocab.types.size() && i < types.size(); ++i) types[i] = static_cast<int32_t>(vocab.types[i]);
  add("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
  if (!vocab.merges.empty()) add("tokenizer.ggml.merges", gguf::Value::string_array(vocab.merges));
  // gguf-py's SpecialVocab order: bos, eos, unk, sep, pad, cls, mask (then eot, eom when present).
  const std::pair<const char*, int32_t> ids[] = {
      {"tokenizer.ggml.bos_token_id", vocab.bos},     {"tokenizer.ggml.eos_token_id", vocab.eos},
      {"tokenizer.ggml.unknown_token_id", vocab.unk}, {"tokenizer.ggml.seperator_token_id", vocab.sep},
      {"tokenizer.ggml.padding_token_id", vocab.pad}, {"tokenizer.ggml.cls_token_id", vocab.cls},
      {"tokenizer.ggml.mask_token_id", vocab.mask},   {"tokenizer.ggml.eot_token_id", vocab.eot},
      {"tokenizer.ggml.eom_token_id", vocab.eom},
  };
  for (const auto& [key, id] : ids) {
    if (id >= 0) add(key, gguf::Value{static_cast<uint32_t>(id)});
  }
  if (vocab.add_bos) add("tokenizer.ggml.add_bos_token", gguf::Value{*vocab.add_bos});
  if (vocab.add_eos) add("tokenizer.ggml.add_eos_token", gguf::Value{*vocab.add_eos});
  if (vocab.add_space_prefix) add("tokenizer.ggml.add_space_prefix", gguf::Value{*vocab.add_space_prefix});
  return out;
}

namespace {

constexpr float kAddedScore = -1000.0f;              // what _create_vocab_sentencepiece gives added tokens
constexpr float kPadScore = -10000.0f;               // and the [PAD<id>] fillers

std::string head_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(256, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return head;
}

// GPT-2's byte-to-unicode spelling of raw token bytes.
std::string byte_level(std::string_view raw) {
  std::string out;
  for (const char c : raw) unicode::append_utf8(byte_to_codepoint(static_cast<uint8_t>(c)), out);
  return out;
}

// merges.txt / vocab.bpe as gguf-py's SpecialVocab reads them: a first line starting with '#' is a
// header; each other non-empty line must hold exactly two whitespace-separated parts.
std::vector<std::string> read_merges_file(const fs::path& path) {
  const std::string data = read_tokenizer_file(path.string());
  std::vector<std::string> merges;
  bool first = true;
  for (size_t pos = 0; pos < data.size();) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    const std::string_view line(data.data() + pos, end - pos);
    pos = end + 1;
    std::vector<std::string_view> parts;
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      const size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i > start) parts.push_back(line.substr(start, i - start));
    }
    const bool header = first && !parts.empty() && parts[0].starts_with("#");
    first = false;
    if (!header && parts.size() == 2) merges.push_back(std::string(parts[0]) + " " + std::string(parts[1]));
  }
  return merges;
}

// tokenizer.json model.merges: "a b" strings, or [a, b] pairs whose inner spaces gguf-py spells U+0120.
std::vector<std::string> json_merges(const json& tj, const std::string& path) {
  std::vector<std::string> merges;
  const json* m = tj.contains("model") ? &tj["model"] : nullptr;
  if (m == nullptr || !m->contains("merges") || !(*m)["merges"].is_array()) return merges;
  for (const json& item : (*m)["merges"]) {
    if (item.is_string()) {
      merges.push_back(item.get<std::string>());
    } else if (item.is_array() && item.size() == 2 && item[0].is_string() && item[1].is_string()) {
      std::string joined;
      for (int k = 0; k < 2; ++k) {
        if (k == 1) joined += ' ';
        for (const char c : item[k].get<std::string>()) {
          if (c == ' ')
            unicode::append_utf8(0x120, joined);
          else
            joined += c;
        }
      }
      merges.push_back(std::move(joined));
    } else {
      fail("{}: 'model.merges': malformed entry {}", path, item.dump());
    }
  }
  return merges;
}

// The merges of a rank-ordered byte vocabulary (tiktoken), as transformers' TikTokenConverter writes
// them into tokenizer.json (so Llama 3's GGUF has them): for each token in rank order, every split into
// two tokens, ordered by the ranks of the left then the right part.
std::vector<std::string> derive_merges(const Vocab& v) {
  std::unordered_map<std::string_view, int32_t> rank;
  for (int32_t id = 0; id < v.size(); ++id) {
    if (v.type(id) == TokenType::normal) rank.emplace(v.tokens[static_cast<size_t>(id)], id);
  }
  std::vector<std::string> merges;
  std::vector<std::pair<int32_t, int32_t>> splits;  // (rank of left, rank of right)
  std::vector<size_t> cut;
  for (int32_t id = 0; id < v.size(); ++id) {
    const std::string_view token = v.tokens[static_cast<size_t>(id)];
    if (v.type(id) != TokenType::normal || token.size() < 2 || rank.at(token) != id) continue;
    splits.clear();
    cut.clear();
    for (size_t k = 1; k < token.size(); ++k) {
      const auto l = rank.find(token.substr(0, k));
      const auto r = rank.find(token.substr(k));
      if (l != rank.end() && r != rank.end()) {
        splits.emplace_back(l->second, r->second);
        cut.push_back(k);
      }
    }
    std::vector<size_t> order(splits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return splits[a] < splits[b]; });
    for (const size_t i : order)
      merges.push_back(byte_level(token.substr(0, cut[i])) + " " + byte_level(token.substr(cut[i])));
  }
  return merges;
}

// The tokenizer.ggml.pre name whose pre-tokenizer (as PreTokenizer::from_gguf_pre builds it) is the
// one tok was built with, NFC and ignore_merges included; the first of equivalent names wins.
std::string pre_name(const BpeTokenizer& tok, const std::string& source) {
  static constexpr const char* kNames[] = {
      "gpt-2",        "llama-bpe",      "qwen2",       "stablelm2", "mpt",    "smaug-bpe", "starcoder", "falcon",
      "deepseek-llm", "deepseek-coder", "deepseek-v3", "poro-chat", "viking", "tekken",    "default",
  };
  for (const char* name : kNames) {
    bool ignore_merges = false;
    bool nfc = false;
    const PreTokenizer pre = PreTokenizer::from_gguf_pre(name, source, ignore_merges, nfc);
    if (ignore_merges == tok.ignores_merges() && nfc == tok.normalizes_nfc() && pre.same_steps(tok.pre_tokenizer())) {
      return name;
    }
  }
  fail("{}: the byte-level BPE pre-tokenizer ({}{}{}) is none that a GGUF tokenizer.ggml.pre name stands for", source,
       tok.pre_tokenizer().describe(), tok.normalizes_nfc() ? "; NFC" : "",
       tok.ignores_merges() ? "; ignore_merges" : "");
}

// Added tokens as llama.cpp types them: control when marked special or when they look special,
// otherwise user-defined with U+2581 written as a space; SentencePiece scores them -1000.
void apply_added_tokens(Vocab& v, const std::vector<HfAddedToken>& added) {
  for (const HfAddedToken& a : added) {
    if (a.id < 0 || a.id >= v.size()) continue;  // past config.json's vocab_size: dropped, as llama.cpp does
    const auto id = static_cast<size_t>(a.id);
    const bool control = a.special || looks_special(a.content);
    v.tokens[id] = control ? a.content : spm::unescape_spaces(a.content);
    v.types[id] = control ? TokenType::control : TokenType::user_defined;
    if (!v.scores.empty()) v.scores[id] = kAddedScore;
  }
}

// Fills or cuts the vocabulary to n tokens: [PAD<id>] fillers of type unused, as llama.cpp writes them.
void resize_vocab(Vocab& v, size_t n) {
  const size_t old = v.tokens.size();
  v.tokens.resize(n);
  v.types.resize(n, TokenType::unused);
  if (!v.scores.empty()) v.scores.resize(n, kPadScore);
  for (size_t i = old; i < n; ++i) v.tokens[i] = fmt::format("[PAD{}]", i);
}

void to_sentencepiece(Vocab& v) {
  v.model = "llama";
  v.pre = "default";
  if (v.add_space_prefix.value_or(true)) v.add_space_prefix.reset();  // written only when off (Gemma)
}

void to_byte_level_bpe(Vocab& v, const BpeTokenizer& tok, const fs::path& source, const HfFiles& files) {
  const std::string src = source.string();
  if (!tok.merges_bytes()) fail("{}: a BPE over characters (no ByteLevel pre-tokenizer) has no GGUF form", src);
  if (tok.byte_fallback()) fail("{}: byte-level BPE with byte_fallback has no GGUF form", src);
  if (tok.adds_prefix_space()) fail("{}: ByteLevel add_prefix_space has no GGUF form (tokenizer.ggml.pre)", src);
  v.model = "gpt2";
  v.pre = pre_name(tok, src);
  v.scores.clear();
  v.add_space_prefix.reset();
  if (!tok.byte_level_spelling()) {  // tiktoken: raw bytes, ranked, without merges
    v.merges = derive_merges(v);
    for (int32_t id = 0; id < v.size(); ++id) {
      if (v.type(id) == TokenType::normal)
        v.tokens[static_cast<size_t>(id)] = byte_level(v.tokens[static_cast<size_t>(id)]);
    }
  } else if (source.filename() == "tokenizer.json") {
    v.merges = json_merges(files.tokenizer_json, src);
  } else {
    const fs::path merges = source.parent_path() / (source.filename() == "encoder.json" ? "vocab.bpe" : "merges.txt");
    v.merges = read_merges_file(merges);
  }
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i].empty()) {  // an id vocab.json skips: a filler, as get_vocab_base writes it
      v.tokens[i] = fmt::format("[PAD{}]", i);
      v.types[i] = TokenType::unused;
    }
  }
}

}  // namespace

Metadata hf_tokenizer_metadata(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("{}: not a directory", dir);
  const fs::path d(dir);
  auto has = [&](const char* name) { return fs::exists(d / name, ec); };
  // llama.cpp converts a SentencePiece tokenizer.model first, then tokenizer.json, then vocab + merges.
  const bool tiktoken = has("tokenizer.model") && looks_like_tiktoken(head_of(d / "tokenizer.model"));
  fs::path source;
  // (A tiktoken tokenizer.model comes after tokenizer.json.)
  if (has("tokenizer.model") && (!tiktoken || !has("tokenizer.json")))
    source = d / "tokenizer.model";
  else if (has("tokenizer.json"))
    source = d / "tokenizer.json";
  else if (has("vocab.json") && has("merges.txt"))
    source = d / "vocab.json";
  else if (has("encoder.json") && has("vocab.bpe"))
    source = d / "encoder.json";
  else if (has("vocab.json") || has("encoder.json"))
    fail("{}: no merges.txt (or vocab.bpe) beside the vocabulary", dir);
  else
    return {};

  const HfConfig config = HfConfig::from_dir(dir);
  const HfFiles files = HfFiles::read(d);
  const std::string src = source.string();
  std::unique_ptr<Tokenizer> tok;
  if (source.filename() == "tokenizer.json")
    tok = load_tokenizer_json(src, config);
  else if (source.filename() == "tokenizer.model")
    tok = tiktoken ? load_tiktoken(src, config) : load_sentencepiece(src, config);
  else
    tok =
        load_vocab_merges(src, (d / (source.filename() == "vocab.json" ? "merges.txt" : "vocab.bpe")).string(), config);

  Vocab v;
  bool spm = false;
  if (const auto* s = dynamic_cast<const SpmTokenizer*>(tok.get())) {
    v = s->vocab();
    to_sentencepiece(v);
    spm = true;
  } else if (const auto* b = dynamic_cast<const BpeTokenizer*>(tok.get())) {
    v = b->vocab();
    to_byte_level_bpe(v, *b, source, files);
  } else {
    fail("{}: writing a {} tokenizer as GGUF metadata is not supported yet (SentencePiece BPE and byte-level BPE are)",
         src, tok->kind());
  }
  Vocab loaded;  // the special ids owl's HF loader found, kept where gguf-py's rules find none
  loaded.bos = v.bos;
  loaded.eos = v.eos;
  loaded.unk = v.unk;
  loaded.add_bos = v.add_bos;
  loaded.add_eos = v.add_eos;
  if (const auto n = files.vocab_size()) {
    if (*n < v.tokens.size() && !spm) {
      fail("{}: vocab_size {} is smaller than the {} tokens of {}", (d / "config.json").string(), *n, v.tokens.size(),
           src);
    }
    resize_vocab(v, *n);
  }
  apply_added_tokens(v, files.added_tokens(source.filename() == "tokenizer.json"));
  apply_special_tokens(v, loaded, files);
  v.validate();
  return vocab_metadata(v);
}

}  // namespace owl
