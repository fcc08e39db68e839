// Tokenizer::from_file / from_hf_dir and the simple file formats: tiktoken rank files (base64 token
// + rank per line, Llama 3's tokenizer.model), vocab.json + merges.txt (GPT-2 / Qwen2 layout), and
// HF tokenizer_config.json / special_tokens_map.json / added_tokens.json. Mirrors HF transformers.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/gguf.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/hf_loaders.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/unigram_tokenizer.h"

namespace owl {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json parse_json(const std::string& path) {
  try {
    return json::parse(read_tokenizer_file(path));
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

// A token given as a string or as an AddedToken object {"content": ...}; nullopt for null.
std::optional<std::string> token_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

bool decode_base64(std::string_view in, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

std::string sibling(const std::string& path, std::initializer_list<const char*> names) {
  const fs::path dir = fs::path(path).parent_path();
  for (const char* n : names) {
    if (fs::exists(dir / n)) return (dir / n).string();
  }
  return {};
}

// Llama 3's 256 special tokens are defined in code (llama-models tokenizer.py), not in its files.
void add_llama3_specials(HfConfig& c) {
  if (!c.added.empty()) return;
  const char* named[] = {"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                         "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                         "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"};
  for (int k = 0; k < 256; ++k) {
    const std::string text = k < 11 ? named[k] : fmt::format("<|reserved_special_token_{}|>", k - 11 + 3);
    c.added.push_back(AddedToken{text, 128000 + k, true, false, false});
  }
  if (!c.bos_token) c.bos_token = "<|begin_of_text|>";
  if (!c.eos_token) c.eos_token = "<|end_of_text|>";
  if (!c.add_bos) c.add_bos = true;
}

}  // namespace

bool looks_like_tiktoken(std::string_view head) {
  const size_t nl = head.find('\n');
  const std::string_view line = head.substr(0, nl == std::string_view::npos ? head.size() : nl);
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 >= line.size()) return false;
  for (size_t i = 0; i < space; ++i) {
    const char c = line[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) return false;
  }
  for (size_t i = space + 1; i < line.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(line[i])) && line[i] != '\r') return false;
  }
  return true;
}

std::string read_tokenizer_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open the tokenizer file", path);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail("{}: read error", path);
  return data;
}

int32_t find_token(const Vocab& vocab, std::string_view text) {
  for (int32_t i = 0; i < vocab.size(); ++i) {
    if (vocab.tokens[static_cast<size_t>(i)] == text) return i;
  }
  return -1;
}

HfConfig HfConfig::from_dir(const std::string& dir) {
  HfConfig c;
  const fs::path d(dir);
  if (fs::exists(d / "special_tokens_map.json")) {
    const json j = parse_json((d / "special_tokens_map.json").string());
    if (j.contains("bos_token")) c.bos_token = token_text(j["bos_token"]);
    if (j.contains("eos_token")) c.eos_token = token_text(j["eos_token"]);
    if (j.contains("unk_token")) c.unk_token = token_text(j["unk_token"]);
  }
  if (fs::exists(d / "tokenizer_config.json")) {
    const std::string path = (d / "tokenizer_config.json").string();
    const json j = parse_json(path);
    if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) c.add_bos = j["add_bos_token"].get<bool>();
    if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) c.add_eos = j["add_eos_token"].get<bool>();
    if (j.contains("bos_token")) c.bos_token = token_text(j["bos_token"]);
    if (j.contains("eos_token")) c.eos_token = token_text(j["eos_token"]);
    if (j.contains("unk_token")) c.unk_token = token_text(j["unk_token"]);
    if (j.contains("tokenizer_class") && j["tokenizer_class"].is_string()) c.tokenizer_class = j["tokenizer_class"];
    if (j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object()) {
      for (const auto& [key, v] : j["added_tokens_decoder"].items()) {
        AddedToken t;
        try {
          t.id = std::stoi(key);
        } catch (const std::exception&) {
          fail("{}: 'added_tokens_decoder': key '{}' is not a token id", path, key);
        }
        const auto text = token_text(v);
        if (!text) fail("{}: 'added_tokens_decoder.{}': no content", path, key);
        t.content = *text;
        t.special = v.value("special", true);
        t.lstrip = v.value("lstrip", false);
        t.rstrip = v.value("rstrip", false);
        c.added.push_back(t);
      }
    }
  }
  if (fs::exists(d / "added_tokens.json")) {
    const std::string path = (d / "added_tokens.json").string();
    const json j = parse_json(path);
    if (!j.is_object()) fail("{}: expected an object of token -> id", path);
    for (const auto& [text, id] : j.items()) {
      if (!id.is_number_integer()) fail("{}: '{}': expected an integer id", path, text);
      bool known = false;
      for (const AddedToken& a : c.added) known = known || a.id == id.get<int32_t>();
      if (!known) c.added.push_back(AddedToken{text, id.get<int32_t>(), true, false, false});
    }
  }
  return c;
}

void apply_hf_config(Vocab& vocab, const HfConfig& config) {
  for (const AddedToken& a : config.added) {
    if (a.id < 0 || a.id > 16 * 1024 * 1024) fail("{}: added token '{}' has id {} out of range", vocab.source, a.content, a.id);
    const auto id = static_cast<size_t>(a.id);
    if (id >= vocab.tokens.size()) {
      for (size_t i = vocab.tokens.size(); i <= id; ++i) {
        vocab.tokens.push_back(fmt::format("[PAD{}]", i));
        vocab.types.push_back(TokenType::unused);
        if (!vocab.scores.empty()) vocab.scores.push_back(0.0f);
      }
    }
    vocab.tokens[id] = a.content;
    if (vocab.types.size() < vocab.tokens.size()) vocab.types.resize(vocab.tokens.size(), TokenType::normal);
    vocab.types[id] = a.special ? TokenType::control : TokenType::user_defined;
  }
  if (config.bos_token) vocab.bos = find_token(vocab, *config.bos_token);
  if (config.eos_token) vocab.eos = find_token(vocab, *config.eos_token);
  if (config.unk_token && vocab.unk < 0) vocab.unk = find_token(vocab, *config.unk_token);
  if (config.add_bos) vocab.add_bos = *config.add_bos;
  if (config.add_eos) vocab.add_eos = *config.add_eos;
}

void register_added_tokens(Tokenizer& tok, const HfConfig& config) {
  for (const AddedToken& a : config.added) {
    if (a.id >= 0 && a.id < tok.n_vocab()) tok.add_special_token(a.content, a.id, !a.special, a.lstrip, a.rstrip);
  }
}

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path, const HfConfig& config) {
  SentencePieceModel m = parse_sentencepiece_model(read_tokenizer_file(path), path);
  if (m.model_type != 1 && m.model_type != 2) {
    fail("{}: SentencePiece model type {} is not supported (only Unigram, type 1, and BPE, type 2)", path, m.model_type);
  }
  apply_hf_config(m.vocab, config);
  std::unique_ptr<Tokenizer> tok;
  if (m.model_type == 1) {
    const auto n = static_cast<int32_t>(m.vocab.tokens.size());
    if (m.unk_id < 0 || m.unk_id >= n) {
      fail("{}: not a valid SentencePiece model: trainer_spec.unk_id {} is out of range (the model has {} pieces)", path,
           m.unk_id, n);
    }
    UnigramOptions o;
    o.byte_fallback = m.byte_fallback;
    o.remove_extra_whitespaces = m.remove_extra_whitespaces;
    // Named normalizers other than identity use a precompiled character map: approximated by NFKC.
    o.nfkc = m.normalizer_name != "identity";
    tok = std::make_unique<UnigramTokenizer>(std::move(m.vocab), o);
  } else {
    tok = std::make_unique<SpmTokenizer>(std::move(m.vocab));
  }
  register_added_tokens(*tok, config);
  return tok;
}

std::unique_ptr<Tokenizer> load_tiktoken(const std::string& path, const HfConfig& config) {
  const std::string data = read_tokenizer_file(path);
  Vocab vocab;
  vocab.source = path;
  vocab.model = "gpt2";
  size_t line_no = 0;
  std::string bytes;
  for (size_t pos = 0; pos < data.size();) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    std::string_view line(data.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || !decode_base64(line.substr(0, space), bytes)) {
      fail("{}: line {}: expected '<base64 token> <rank>'", path, line_no);
    }
    size_t rank = 0;
    try {
      rank = std::stoul(std::string(line.substr(space + 1)));
    } catch (const std::exception&) {
      fail("{}: line {}: the rank is not a number", path, line_no);
    }
    if (rank != vocab.tokens.size()) fail("{}: line {}: rank {} out of order (expected {})", path, line_no, rank, vocab.tokens.size());
    vocab.tokens.push_back(bytes);
  }
  vocab.types.assign(vocab.tokens.size(), TokenType::normal);
  HfConfig c = config;
  if (vocab.tokens.size() == 128000) add_llama3_specials(c);
  apply_hf_config(vocab, c);
  if (vocab.tokens.size() >= 128010 && vocab.tokens[128009] == "<|eot_id|>") vocab.eot = 128009;
  BpeOptions options;
  options.spelling = BpeOptions::Spelling::raw;
  options.merges_by_rank = true;
  options.ignore_merges = true;  // tiktoken looks a whole piece up first
  options.pre_given = true;
  options.pre.add_fast(FastPattern::llama3);
  auto tok = std::make_unique<BpeTokenizer>(std::move(vocab), std::move(options));
  register_added_tokens(*tok, c);
  return tok;
}

std::unique_ptr<Tokenizer> load_vocab_merges(const std::string& vocab_path, const std::string& merges_path,
                                             const HfConfig& config) {
  const json j = parse_json(vocab_path);
  if (!j.is_object()) fail("{}: expected an object of token -> id", vocab_path);
  Vocab vocab;
  vocab.source = vocab_path;
  vocab.model = "gpt2";
  for (const auto& [text, id] : j.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > 16 * 1024 * 1024) {
      fail("{}: '{}': expected a token id", vocab_path, text);
    }
    const auto i = static_cast<size_t>(id.get<int64_t>());
    if (i >= vocab.tokens.size()) vocab.tokens.resize(i + 1);
    vocab.tokens[i] = text;
  }
  vocab.types.assign(vocab.tokens.size(), TokenType::normal);
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    if (vocab.tokens[i].empty()) vocab.types[i] = TokenType::unused;
  }
  BpeOptions options;
  const std::string merges = read_tokenizer_file(merges_path);
  size_t line_no = 0;
  for (size_t pos = 0; pos < merges.size();) {
    size_t end = merges.find('\n', pos);
    if (end == std::string::npos) end = merges.size();
    std::string_view line(merges.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    const size_t space = line.find(' ', 1);
    if (space == std::string_view::npos) fail("{}: line {}: expected two tokens separated by a space", merges_path, line_no);
    options.merges.emplace_back(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
  }
  HfConfig c = config;
  const size_t n_regular = j.size();
  if (n_regular == 128000 && vocab.tokens.size() == 128000) add_llama3_specials(c);
  apply_hf_config(vocab, c);
  // vocab.json does not say how text is pre-tokenized: the tokenizer class or the vocabulary size
  // (Llama 3: 128000, Qwen2: 151643) tells.
  options.pre_given = true;
  if (config.tokenizer_class == "Qwen2Tokenizer" || n_regular == 151643) {
    options.pre.add_fast(FastPattern::qwen2);
    options.nfc = true;
  } else if (n_regular == 128000) {
    options.pre.add_fast(FastPattern::llama3);
    options.ignore_merges = true;
    if (vocab.tokens.size() > 128009 && vocab.tokens[128009] == "<|eot_id|>") vocab.eot = 128009;
  } else {
    options.pre.add_fast(FastPattern::gpt2);
  }
  auto tok = std::make_unique<BpeTokenizer>(std::move(vocab), std::move(options));
  register_added_tokens(*tok, c);
  return tok;
}

std::unique_ptr<Tokenizer> Tokenizer::from_hf_dir(const std::string& dir) {
  const fs::path d(dir);
  const HfConfig config = HfConfig::from_dir(dir);
  if (fs::exists(d / "tokenizer.json")) return load_tokenizer_json((d / "tokenizer.json").string(), config);
  if (fs::exists(d / "tokenizer.model")) {
    const std::string path = (d / "tokenizer.model").string();
    const std::string head = read_tokenizer_file(path).substr(0, 256);
    return looks_like_tiktoken(head) ? load_tiktoken(path, config) : load_sentencepiece(path, config);
  }
  for (const auto& [v, m] : {std::pair{"vocab.json", "merges.txt"}, std::pair{"encoder.json", "vocab.bpe"}}) {
    if (fs::exists(d / v) && fs::exists(d / m)) return load_vocab_merges((d / v).string(), (d / m).string(), config);
  }
  fail("{}: no tokenizer found (looked for tokenizer.json, tokenizer.model, vocab.json + merges.txt)", dir);
}

std::unique_ptr<Tokenizer> Tokenizer::from_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return from_hf_dir(path);
  if (!fs::exists(path, ec)) fail("{}: no such file", path);
  std::string head;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open the tokenizer file", path);
    head.resize(256);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
  }
  if (head.starts_with("GGUF")) {
    const auto file = gguf::File::open(path);
    return from_gguf(*file);
  }
  const std::string dir = fs::path(path).parent_path().string();
  const HfConfig config = HfConfig::from_dir(dir.empty() ? "." : dir);
  const std::string name = fs::path(path).filename().string();
  const size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && head[first] == '{') {
    if (name == "vocab.json" || name == "encoder.json" || name.ends_with(".vocab")) {
      const std::string merges = sibling(path, {"merges.txt", "vocab.bpe", "gpt2.merges.txt"});
      if (merges.empty()) fail("{}: a vocab.json needs merges.txt (or vocab.bpe) beside it", path);
      return load_vocab_merges(path, merges, config);
    }
    return load_tokenizer_json(path, config);
  }
  if (looks_like_tiktoken(head)) return load_tiktoken(path, config);
  // A SentencePiece ModelProto opens with its first piece (field 1, length-delimited: byte 0x0A).
  if (!name.ends_with(".model") && (head.empty() || head[0] != '\x0a')) {
    fail("{}: neither a model (GGUF) nor a tokenizer file owl reads (tokenizer.json, tokenizer.model, vocab.json "
         "with merges.txt, tiktoken ranks)", path);
  }
  return load_sentencepiece(path, config);
}

}  // namespace owl
