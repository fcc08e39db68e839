// A Hugging Face directory's tokenizer settings read as gguf-py does: SpecialVocab's
// _try_load_from_tokenizer_json / _try_load_from_config_json (gguf-py/gguf/vocab.py), the added-token
// sources of convert_hf_to_gguf.py and its does_token_look_special. Python truthiness is kept where
// SpecialVocab relies on it (an AddedToken object never equals a token string, for one).
#include "tokenizer/gguf_export_hf.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "base/error.h"
#include "tokenizer/hf_loaders.h"

namespace owl {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json read_json(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return json();
  try {
    return json::parse(read_tokenizer_file(path.string()));
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", path.string(), e.what());
  }
}

const json& member(const json& j, const std::string& key) {
  static const json null;
  if (!j.is_object()) return null;
  const auto it = j.find(key);
  return it == j.end() ? null : *it;
}

// Python's bool() of a JSON value.
bool truthy(const json& j) {
  if (j.is_null()) return false;
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_string()) return !j.get_ref<const std::string&>().empty();
  if (j.is_array() || j.is_object()) return !j.empty();
  return j.get<double>() != 0;
}

// A tokenizer_config.json special-token entry: a string, or an AddedToken object's content.
std::optional<std::string> content_of(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (member(j, "content").is_string()) return member(j, "content").get<std::string>();
  return std::nullopt;
}

// The same as a JSON string, or null. gguf-py compares the raw entry with the template's token, so an
// AddedToken object never matches and BOS is dropped; owl compares the content (a deliberate difference).
json content_json(const json& j) {
  const auto c = content_of(j);
  return c ? json(*c) : json();
}

struct Found {
  std::map<std::string, int32_t> ids;  // by SpecialVocab type name; the first one found wins
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;

  void set(const std::string& type, const json& id, int32_t n_vocab) {
    if (!id.is_number_integer()) return;
    const int64_t i = id.get<int64_t>();
    if (i < 0 || i >= n_vocab) return;  // gguf-py raises on negative ids and skips those past the vocabulary
    ids.emplace(type, static_cast<int32_t>(i));
  }
  int32_t get(const std::string& type, int32_t fallback) const {
    const auto it = ids.find(type);
    return it == ids.end() ? fallback : it->second;
  }
};

// What the post-processor of tokenizer.json says (SpecialVocab's crude TemplateProcessing parse).
void read_post_processor(const json& pp, json& tc, bool have_tc, json& bos, json& eos, json& cls, json& sep,
                         std::vector<std::string>& types, Found& f) {
  std::vector<json> procs;
  if (member(pp, "processors").is_array())
    procs = member(pp, "processors").get<std::vector<json>>();
  else
    procs.push_back(pp);
  for (const json& p : procs) {
    const json& type = member(p, "type");
    if (type == "RobertaProcessing") {
      f.add_bos = true;
      f.add_eos = true;
      if (!truthy(cls) && have_tc) tc["cls_token"] = cls = member(p, "cls").is_array() ? member(p, "cls")[0] : bos;
      if (!truthy(sep) && have_tc) tc["sep_token"] = sep = member(p, "sep").is_array() ? member(p, "sep")[0] : eos;
      continue;
    }
    const json& single = member(p, "single");
    if (type != "TemplateProcessing" || !single.is_array() || single.size() <= 1) continue;
    const json first = member(member(single.front(), "SpecialToken"), "id");
    if (truthy(first)) {
      if (!have_tc) bos = first;
      f.add_bos = first == bos || first == cls;
    }
    const json last = member(member(single.back(), "SpecialToken"), "id");
    if (truthy(last)) {
      if (!have_tc) {
        eos = last;
      } else if (last != eos) {  // the old EOS becomes EOT (or EOM)
        for (const char* extra : {"eot", "eom"}) {
          if (std::find(types.begin(), types.end(), extra) == types.end()) {
            types.push_back(extra);
            tc[std::string(extra) + "_token"] = eos;
            break;
          }
        }
        tc["eos_token"] = last;
        eos = last;
      }
      f.add_eos = last == eos;
    }
  }
}

Found special_vocab(const HfFiles& files, int32_t n_vocab) {
  Found f;
  std::vector<std::string> types = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
  json tc = files.tokenizer_config;  // SpecialVocab edits its copy
  const bool have_tc = truthy(tc);
  const json& added = member(files.tokenizer_json, "added_tokens");
  if (truthy(files.tokenizer_json)) {
    json bos = content_json(member(tc, "bos_token"));
    json eos = content_json(member(tc, "eos_token"));
    json cls = content_json(member(tc, "cls_token"));
    json sep = content_json(member(tc, "sep_token"));
    if (!truthy(bos) && truthy(cls) && have_tc) tc["bos_token"] = bos = cls;
    if (!truthy(eos) && truthy(sep) && have_tc) tc["eos_token"] = eos = sep;
    const json& pp = member(files.tokenizer_json, "post_processor");
    if (truthy(pp)) read_post_processor(pp, tc, have_tc, bos, eos, cls, sep, types, f);
  }
  if (have_tc) {
    for (const std::string& type : types) {
      const json& add = member(tc, "add_" + type + "_token");
      if (add.is_boolean() && type == "bos") f.add_bos = add.get<bool>();
      if (add.is_boolean() && type == "eos") f.add_eos = add.get<bool>();
      const auto content = content_of(member(tc, type + "_token"));
      if (!content || !added.is_array()) continue;
      for (const json& a : added) {
        if (member(a, "content") == *content) {
          f.set(type, member(a, "id"), n_vocab);
          break;
        }
      }
    }
  }
  for (const std::string& type : types) {
    const json& id = member(files.config, type + "_token_id");
    f.set(type, id.is_null() ? member(member(files.config, "text_config"), type + "_token_id") : id, n_vocab);
  }
  return f;
}

}  // namespace

HfFiles HfFiles::read(const fs::path& dir) {
  HfFiles f;
  f.dir = dir;
  f.tokenizer_json = read_json(dir / "tokenizer.json");
  f.tokenizer_config = read_json(dir / "tokenizer_config.json");
  f.config = read_json(dir / "config.json");
  f.added_tokens_json = read_json(dir / "added_tokens.json");
  return f;
}

std::optional<size_t> HfFiles::vocab_size() const {
  for (const json* c : {&member(config, "text_config"), &config}) {
    const json& n = member(*c, "vocab_size");
    if (n.is_number_integer() && n.get<int64_t>() > 0 && n.get<int64_t>() <= 16 * 1024 * 1024) {
      return static_cast<size_t>(n.get<int64_t>());
    }
  }
  return std::nullopt;
}

std::vector<HfAddedToken> HfFiles::added_tokens(bool with_tokenizer_json) const {
  std::map<int32_t, HfAddedToken> by_id;
  auto add = [&](const json& id, const json& content, bool special) {
    if (!id.is_number_integer() || !content.is_string()) return;
    const auto i = id.get<int32_t>();
    by_id[i] = HfAddedToken{i, content.get<std::string>(), special};
  };
  if (added_tokens_json.is_object()) {
    for (const auto& [text, id] : added_tokens_json.items()) add(id, json(text), false);
  }
  if (with_tokenizer_json && member(tokenizer_json, "added_tokens").is_array()) {
    for (const json& a : member(tokenizer_json, "added_tokens"))
      add(member(a, "id"), member(a, "content"), truthy(member(a, "special")));
  }
  if (member(tokenizer_config, "added_tokens_decoder").is_object()) {
    for (const auto& [key, entry] : member(tokenizer_config, "added_tokens_decoder").items()) {
      char* end = nullptr;
      const long id = std::strtol(key.c_str(), &end, 10);
      if (end != key.c_str() && *end == '\0') add(json(id), member(entry, "content"), truthy(member(entry, "special")));
    }
  }
  std::vector<HfAddedToken> out;
  out.reserve(by_id.size());
  for (auto& [id, token] : by_id) out.push_back(std::move(token));
  return out;
}

bool looks_special(std::string_view token) {
  if (token == "<pad>" || token == "<mask>" || token == "<2mass>" || token == "[@BOS@]") return true;
  auto wrapped = [&](std::string_view open, std::string_view close) {
    return token.starts_with(open) && token.ends_with(close);
  };
  // "<｜...｜>" (U+FF5C): DeepSeek; "<unused...>": Gemma.
  return wrapped("<|", "|>") || wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") || wrapped("<unused", ">");
}

void apply_special_tokens(Vocab& v, const Vocab& loaded, const HfFiles& files) {
  const Found f = special_vocab(files, v.size());
  auto keep = [&](int32_t id) { return id < v.size() ? id : -1; };
  v.bos = f.get("bos", keep(loaded.bos));
  v.eos = f.get("eos", keep(loaded.eos));
  v.unk = f.get("unk", keep(loaded.unk));
  v.sep = f.get("sep", -1);
  v.pad = f.get("pad", -1);
  v.cls = f.get("cls", -1);
  v.mask = f.get("mask", -1);
  v.eot = f.get("eot", -1);
  v.eom = f.get("eom", -1);
  v.add_bos = f.add_bos ? f.add_bos : loaded.add_bos;
  v.add_eos = f.add_eos ? f.add_eos : loaded.add_eos;
}

}  // namespace owl
