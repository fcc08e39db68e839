// Seed inputs for the fuzz targets (run by scripts/fuzz.sh, never by the fuzzer): shrinks fixture
// files to a few KB with their structure kept (so mutations are cheap and still meaningful), and
// writes synthetic seeds for every target, so a machine without the fixtures still has a corpus.
//
//   seed_tool gguf IN OUT                 metadata arrays cut to 512 items (a vocabulary consistently),
//                                         big tensors cut to one block of their type
//   seed_tool safetensors IN OUT          every dimension cut to at most 2
//   seed_tool tokenizer-json IN OUT       vocabulary cut to 512 entries, merges and added tokens to match
//   seed_tool synthetic TARGET DIR        hand-made seeds for gguf_reader, safetensors, hf_config or
//                                         tokenizer_json
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace gguf = owl::gguf;
namespace st = owl::safetensors;

constexpr size_t kMaxItems = 512;
constexpr uint64_t kMaxTensorBytes = 1024;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) owl::fail("{}: cannot open", path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) owl::fail("{}: cannot write", path.string());
}

// ---- GGUF -------------------------------------------------------------------------------------------

void shrink_gguf(const std::string& in, const std::string& out) {
  const auto f = gguf::File::open(in);
  gguf::Writer w(f->version());
  // The vocabulary arrays are cut together; merges are kept only when both parts and the result
  // are among the kept tokens, and special ids past the cut are dropped.
  std::set<std::string> kept_tokens;
  if (const gguf::Value* tokens = f->find("tokenizer.ggml.tokens")) {
    if (const auto* a = std::get_if<gguf::Array>(&tokens->v)) {
      for (size_t i = 0; i < a->items.size() && i < kMaxItems; ++i) {
        if (const auto* s = std::get_if<std::string>(&a->items[i].v)) kept_tokens.insert(*s);
      }
    }
  }
  for (const auto& [key, value] : f->metadata()) {
    gguf::Value v = value;
    if (auto* a = std::get_if<gguf::Array>(&v.v)) {
      if (key == "tokenizer.ggml.merges") {
        std::vector<gguf::Value> merges;
        for (const gguf::Value& m : a->items) {
          const auto* s = std::get_if<std::string>(&m.v);
          const size_t space = s != nullptr ? s->find(' ') : std::string::npos;
          if (space == std::string::npos) continue;
          const std::string left = s->substr(0, space), right = s->substr(space + 1);
          if (kept_tokens.contains(left) && kept_tokens.contains(right) && kept_tokens.contains(left + right)) {
            merges.push_back(m);
          }
          if (merges.size() == kMaxItems) break;
        }
        a->items = std::move(merges);
      } else if (a->items.size() > kMaxItems) {
        a->items.resize(kMaxItems);
      }
    } else if (key.starts_with("tokenizer.ggml.") && key.ends_with("_token_id") && v.is_integer() &&
               v.to_uint(key) >= kMaxItems) {
      continue;
    }
    w.set(key, std::move(v));
  }
  for (const owl::TensorInfo& t : f->tensors()) {
    if (t.n_bytes <= kMaxTensorBytes) {
      w.add_tensor(t.name, t.shape, t.type, t.data, static_cast<size_t>(t.n_bytes));
    } else {
      const owl::DTypeTraits& traits = owl::dtype_traits(t.type);
      w.add_tensor(t.name, {traits.block_size}, t.type, t.data, traits.block_bytes);
    }
  }
  w.write(out);
  gguf::File::open(out);  // still a valid file
}

gguf::Value nested_array(int depth) {
  gguf::Array a;
  if (depth == 0) {
    a.elem = gguf::ValueType::i16;
    a.items = {gguf::Value{int16_t{-7}}, gguf::Value{int16_t{300}}};
  } else {
    a.elem = gguf::ValueType::array;
    a.items = {nested_array(depth - 1), nested_array(depth - 1)};
  }
  return gguf::Value{a};
}

void synthetic_gguf(const fs::path& dir) {
  // Every value type, nested and empty arrays, and a tensor of every type.
  gguf::Writer all(3);
  all.set("general.architecture", gguf::Value{std::string("llama")});
  all.set("u8", gguf::Value{uint8_t{200}});
  all.set("i8", gguf::Value{int8_t{-100}});
  all.set("u16", gguf::Value{uint16_t{60000}});
  all.set("i16", gguf::Value{int16_t{-30000}});
  all.set("u32", gguf::Value{uint32_t{4000000000u}});
  all.set("i32", gguf::Value{int32_t{-2000000000}});
  all.set("f32", gguf::Value{1.5f});
  all.set("bool", gguf::Value{true});
  all.set("string", gguf::Value{std::string("h\xc3\xa9llo")});
  all.set("u64", gguf::Value{uint64_t{1} << 63});
  all.set("i64", gguf::Value{int64_t{-1} << 62});
  all.set("f64", gguf::Value{-0.25});
  all.set("strings", gguf::Value::string_array({"a", "", "\xe2\x96\x81x"}));
  all.set("floats", gguf::Value::f32_array({0.5f, -1.0f}));
  all.set("ints", gguf::Value::i32_array({1, -2, 3}));
  all.set("bools", gguf::Value{gguf::Array{gguf::ValueType::boolean, {gguf::Value{true}, gguf::Value{false}}}});
  all.set("empty", gguf::Value{gguf::Array{gguf::ValueType::u64, {}}});
  all.set("nested", nested_array(3));
  for (owl::DType t : {owl::DType::f32, owl::DType::f16, owl::DType::bf16, owl::DType::q4_0, owl::DType::q4_1,
                       owl::DType::q5_0, owl::DType::q5_1, owl::DType::q8_0, owl::DType::q2_k, owl::DType::q3_k,
                       owl::DType::q4_k, owl::DType::q5_k, owl::DType::q6_k, owl::DType::q8_k}) {
    const owl::DTypeTraits& traits = owl::dtype_traits(t);
    std::vector<uint8_t> bytes(traits.block_bytes * 2);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 5);
    all.add_tensor(std::string("t.") + std::string(traits.name), {2, traits.block_size}, t, std::move(bytes));
  }
  all.write((dir / "synthetic-all-types.gguf").string());

  // A small model header that spec_from_gguf accepts (llama keys), version 2, alignment 64.
  gguf::Writer model(2);
  model.set("general.architecture", gguf::Value{std::string("gemma2")});
  model.set("general.alignment", gguf::Value{uint32_t{64}});
  model.set("general.name", gguf::Value{std::string("tiny")});
  model.set("gemma2.context_length", gguf::Value{uint32_t{256}});
  model.set("gemma2.embedding_length", gguf::Value{uint32_t{64}});
  model.set("gemma2.block_count", gguf::Value{uint32_t{2}});
  model.set("gemma2.feed_forward_length", gguf::Value{uint32_t{128}});
  model.set("gemma2.attention.head_count", gguf::Value{uint32_t{4}});
  model.set("gemma2.attention.head_count_kv", gguf::Value{uint32_t{2}});
  model.set("gemma2.attention.key_length", gguf::Value{uint32_t{16}});
  model.set("gemma2.attention.value_length", gguf::Value{uint32_t{16}});
  model.set("gemma2.attention.layer_norm_rms_epsilon", gguf::Value{1e-6f});
  model.set("gemma2.rope.freq_base", gguf::Value{10000.0f});
  model.set("gemma2.attention.sliding_window", gguf::Value{uint32_t{8}});
  model.set("gemma2.attn_logit_softcapping", gguf::Value{50.0f});
  model.set("gemma2.final_logit_softcapping", gguf::Value{30.0f});
  model.set("gemma2.attention.query_pre_attn_scalar", gguf::Value{16.0f});
  model.add_tensor("token_embd.weight", {8, 64}, owl::DType::q8_0, std::vector<uint8_t>(8 * 2 * 34, 1));
  model.add_tensor("output_norm.weight", {64}, owl::DType::f32, std::vector<uint8_t>(64 * 4, 0));
  model.write((dir / "synthetic-model-v2.gguf").string());

  // A vocabulary-only file (no tensors: ends right after the metadata).
  gguf::Writer vocab(3);
  vocab.set("general.architecture", gguf::Value{std::string("llama")});
  vocab.set("tokenizer.ggml.model", gguf::Value{std::string("gpt2")});
  vocab.set("tokenizer.ggml.pre", gguf::Value{std::string("qwen2")});
  vocab.set("tokenizer.ggml.tokens",
            gguf::Value::string_array({"a", "b", "ab", "\u0120", "\u0120ab", "<|endoftext|>"}));
  vocab.set("tokenizer.ggml.token_type", gguf::Value::i32_array({1, 1, 1, 1, 1, 3}));
  vocab.set("tokenizer.ggml.merges", gguf::Value::string_array({"a b", "\u0120 ab"}));
  vocab.set("tokenizer.ggml.eos_token_id", gguf::Value{uint32_t{5}});
  vocab.write((dir / "synthetic-vocab.gguf").string());
  for (const char* name : {"synthetic-all-types.gguf", "synthetic-model-v2.gguf", "synthetic-vocab.gguf"}) {
    gguf::File::open((dir / name).string());
  }
}

// ---- safetensors ------------------------------------------------------------------------------------

void shrink_safetensors(const std::string& in, const std::string& out) {
  const auto f = st::File::open(in);
  st::Writer w;
  for (const auto& [key, value] : f->metadata()) w.set_metadata(key, value);
  for (const st::Tensor& t : f->tensors()) {
    std::vector<int64_t> shape = t.shape;
    uint64_t n = st::dtype_size(t.dtype);
    for (int64_t& d : shape) {
      d = std::min<int64_t>(d, 2);
      n *= static_cast<uint64_t>(d);
    }
    std::vector<uint8_t> bytes(n, 0);
    std::memcpy(bytes.data(), t.data, std::min<uint64_t>(n, t.n_bytes));
    w.add(t.name, t.dtype, shape, std::move(bytes));
  }
  w.write(out);
  st::File::open(out);
}

void synthetic_safetensors(const fs::path& dir) {
  st::Writer w;
  w.set_metadata("format", "pt");
  w.set_metadata("note", "every dtype");
  const st::DType all[] = {st::DType::boolean, st::DType::u8,  st::DType::i8,  st::DType::f8_e4m3, st::DType::f8_e5m2,
                           st::DType::i16,     st::DType::u16, st::DType::f16, st::DType::bf16,    st::DType::i32,
                           st::DType::u32,     st::DType::f32, st::DType::f64, st::DType::i64,     st::DType::u64};
  for (st::DType t : all) {
    std::vector<uint8_t> bytes(st::dtype_size(t) * 3);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 29 + 3);
    if (t == st::DType::boolean) bytes = {0, 1, 1};
    w.add(std::string("x.") + std::string(st::dtype_name(t)), t, {3}, std::move(bytes));
  }
  w.add("scalar", st::DType::f32, {}, std::vector<uint8_t>{0, 0, 0x80, 0x3f});
  w.add("empty", st::DType::f16, {0, 4}, std::vector<uint8_t>{});
  w.add("matrix", st::DType::bf16, {2, 2, 1, 2}, std::vector<uint8_t>(16, 0x3c));
  w.write((dir / "synthetic-all-dtypes.safetensors").string());

  st::Writer empty;
  empty.write((dir / "synthetic-empty.safetensors").string());
  for (const char* name : {"synthetic-all-dtypes.safetensors", "synthetic-empty.safetensors"}) {
    st::File::open((dir / name).string());
  }
}

// ---- tokenizer.json ---------------------------------------------------------------------------------

// Replaces every id in the post-processor's "ids" lists (and "id" numbers) through the map.
void remap_ids(json& j, const std::map<int64_t, int64_t>& map) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if (key == "ids" && value.is_array()) {
        for (json& id : value) {
          if (id.is_number_integer()) {
            const auto it = map.find(id.get<int64_t>());
            if (it != map.end()) id = it->second;
          }
        }
      } else {
        remap_ids(value, map);
      }
    }
  } else if (j.is_array()) {
    for (json& v : j) remap_ids(v, map);
  }
}

void shrink_tokenizer_json(const std::string& in, const std::string& out) {
  json root = json::parse(read_file(in));
  json& model = root.at("model");
  std::set<std::string> kept;
  int64_t next_id = static_cast<int64_t>(kMaxItems);
  if (model.contains("vocab") && model["vocab"].is_object()) {  // BPE, WordPiece, WordLevel
    json vocab = json::object();
    for (const auto& [piece, id] : model["vocab"].items()) {
      if (id.is_number_integer() && id.get<int64_t>() < next_id) {
        vocab[piece] = id;
        kept.insert(piece);
      }
    }
    model["vocab"] = vocab;
  } else if (model.contains("vocab") && model["vocab"].is_array()) {  // Unigram: [piece, score] pairs
    json vocab = json::array();
    for (const json& entry : model["vocab"]) {
      if (vocab.size() == kMaxItems) break;
      vocab.push_back(entry);
      if (entry.is_array() && !entry.empty() && entry[0].is_string()) kept.insert(entry[0].get<std::string>());
    }
    model["vocab"] = vocab;
    if (model.contains("unk_id") && model["unk_id"].is_number_integer() && model["unk_id"].get<int64_t>() >= next_id) {
      model["unk_id"] = 0;
    }
  }
  if (model.contains("merges") && model["merges"].is_array()) {
    json merges = json::array();
    for (const json& m : model["merges"]) {
      std::string left, right;
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t space = s.find(' ');
        if (space == std::string::npos) continue;
        left = s.substr(0, space);
        right = s.substr(space + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        left = m[0].get<std::string>();
        right = m[1].get<std::string>();
      } else {
        continue;
      }
      if (kept.contains(left) && kept.contains(right) && kept.contains(left + right)) merges.push_back(m);
    }
    model["merges"] = merges;
  }
  // Added tokens past the cut get the next free ids (so the vocabulary stays small), the
  // post-processor's references with them.
  std::map<int64_t, int64_t> moved;
  if (root.contains("added_tokens") && root["added_tokens"].is_array()) {
    for (json& a : root["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer()) continue;
      const int64_t id = a["id"].get<int64_t>();
      if (id < static_cast<int64_t>(kMaxItems)) continue;
      moved[id] = next_id;
      a["id"] = next_id++;
    }
  }
  if (root.contains("post_processor")) remap_ids(root["post_processor"], moved);
  write_text(out, root.dump(1));
}

void synthetic_tokenizer_json(const fs::path& dir) {
  // Byte-level BPE with a Split pre-tokenizer (GPT-2 style regex) and a template post-processor.
  write_text(dir / "synthetic-bpe-bytelevel.json", R"({
 "version": "1.0",
 "added_tokens": [{"id": 8, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                  {"id": 9, "content": "<|im_start|>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true}],
 "normalizer": {"type": "NFC"},
 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
   {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
   {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
   "pair": [], "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [8], "tokens": ["<|endoftext|>"]}}},
 "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
 "model": {"type": "BPE", "dropout": null, "unk_token": null, "byte_fallback": false, "ignore_merges": false,
   "vocab": {"H": 0, "e": 1, "l": 2, "o": 3, "\u0120": 4, "He": 5, "ll": 6, "\u0120w": 7, "w": 10, "ello": 11, "llo": 12},
   "merges": ["H e", "l l", "\u0120 w", "ll o", "e llo"]}
})");
  // SentencePiece-style BPE (Llama 2 / Mistral as transformers converts them): byte fallback.
  std::string spm = R"({
 "version": "1.0",
 "added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true},
                  {"id": 2, "content": "</s>", "special": true}],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
 "pre_tokenizer": null,
 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
   "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
 "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
             {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
 "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true,
   "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2)";
  for (int b = 0; b < 256; ++b) spm += fmt::format(", \"<0x{:02X}>\": {}", b, 3 + b);
  spm += R"(, "\u2581": 259, "h": 260, "i": 261, "\u2581h": 262, "\u2581hi": 263},
   "merges": ["\u2581 h", "\u2581h i"]}
})";
  write_text(dir / "synthetic-bpe-spm.json", spm);
  // WordPiece with the BERT normalizer and pre-tokenizer.
  write_text(dir / "synthetic-wordpiece.json", R"({
 "version": "1.0",
 "added_tokens": [{"id": 0, "content": "[PAD]", "special": true}, {"id": 1, "content": "[UNK]", "special": true},
                  {"id": 2, "content": "[CLS]", "special": true}, {"id": 3, "content": "[SEP]", "special": true}],
 "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
 "pre_tokenizer": {"type": "BertPreTokenizer"},
 "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
 "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
 "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
   "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "##ing": 6, "play": 7, "!": 8, "\u65e5": 9}}
})");
  // Unigram with Metaspace (T5 / XLNet style) and a precompiled charsmap normalizer.
  write_text(dir / "synthetic-unigram.json", R"({
 "version": "1.0",
 "added_tokens": [{"id": 0, "content": "<pad>", "special": true}, {"id": 1, "content": "</s>", "special": true},
                  {"id": 2, "content": "<unk>", "special": true}],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Precompiled", "precompiled_charsmap": null},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
 "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
 "post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
   "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
 "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
 "model": {"type": "Unigram", "unk_id": 2, "byte_fallback": false,
   "vocab": [["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["\u2581", -2.0], ["\u2581hello", -5.5], ["hel", -7.0],
             ["lo", -6.0], ["\u2581wor", -8.0], ["ld", -6.5], ["h", -9.0], ["e", -9.0], ["l", -9.0], ["o", -9.0]]}
})");
}

// ---- config.json ------------------------------------------------------------------------------------

void synthetic_hf_config(const fs::path& dir) {
  write_text(dir / "synthetic-llama3.json", R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
 "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2,
 "max_position_embeddings": 1024, "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "vocab_size": 8,
 "bos_token_id": 0, "eos_token_id": [1, 0], "tie_word_embeddings": true,
 "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 256, "rope_type": "llama3"}})");
  write_text(dir / "synthetic-gemma3-multimodal.json", R"({"architectures": ["Gemma3ForConditionalGeneration"],
 "text_config": {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2,
   "head_dim": 16, "num_hidden_layers": 6, "sliding_window": 8, "query_pre_attn_scalar": 16,
   "layer_types": ["sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention",
                   "sliding_attention", "full_attention"],
   "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
                       "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}},
 "vision_config": {"hidden_size": 32}})");
  write_text(dir / "synthetic-phi3-longrope.json", R"({"architectures": ["Phi3ForCausalLM"], "hidden_size": 64,
 "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 2, "max_position_embeddings": 4096,
 "original_max_position_embeddings": 256, "partial_rotary_factor": 0.5, "rope_theta": 10000.0,
 "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.1, 1.2, 1.3], "long_factor": [2.0, 2.5, 3.0, 4.0]}})");
  write_text(dir / "synthetic-qwen2.json", R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64,
 "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 1, "num_hidden_layers": 2,
 "max_position_embeddings": 32768.0, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "sliding_window": 4096,
 "use_sliding_window": false, "rope_scaling": {"type": "linear", "factor": 2}})");
}

int usage() {
  std::fprintf(stderr,
               "usage: seed_tool gguf|safetensors|tokenizer-json IN OUT\n"
               "       seed_tool synthetic gguf_reader|safetensors|hf_config|tokenizer_json DIR\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return usage();
  const std::string cmd = argv[1], a = argv[2], b = argv[3];
  try {
    if (cmd == "gguf") {
      shrink_gguf(a, b);
    } else if (cmd == "safetensors") {
      shrink_safetensors(a, b);
    } else if (cmd == "tokenizer-json") {
      shrink_tokenizer_json(a, b);
    } else if (cmd == "synthetic") {
      fs::create_directories(b);
      if (a == "gguf_reader") {
        synthetic_gguf(b);
      } else if (a == "safetensors") {
        synthetic_safetensors(b);
      } else if (a == "hf_config") {
        synthetic_hf_config(b);
      } else if (a == "tokenizer_json") {
        synthetic_tokenizer_json(b);
        synthetic_gguf(b);  // GGUF vocabularies load through the same entry point
        fs::remove(fs::path(b) / "synthetic-all-types.gguf");
        fs::remove(fs::path(b) / "synthetic-model-v2.gguf");
      } else {
        return usage();
      }
    } else {
      return usage();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seed_tool: %s\n", e.what());
    return 1;
  }
  return 0;
}
