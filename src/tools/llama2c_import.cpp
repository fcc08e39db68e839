// llama2.c import. Layout from karpathy/llama2.c run.c (memory_map_weights) and export.py:
// header {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len}; a negative
// vocab_size means an unshared classifier stored after the RoPE tables. Matrices are (out, in)
// row-major, which is GGUF's layout, and Meta's interleaved RoPE pairs need no permutation.
#include "tools/llama2c_import.h"

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/error.h"
#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "tools/tensor_convert.h"

namespace owl {

namespace {

struct Header {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

struct TokenizerData {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<int32_t> types;
};

class Reader {
 public:
  Reader(const MappedFile& f) : f_(f) {}
  template <typename T>
  T read(const char* field) {
    T v;
    need(sizeof(T), field);
    std::memcpy(&v, f_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string bytes(size_t n, const char* field) {
    need(n, field);
    std::string s(reinterpret_cast<const char*>(f_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  size_t pos() const { return pos_; }

 private:
  void need(size_t n, const char* field) const {
    if (f_.size() - pos_ < n) fail("{}: truncated at byte {} while reading {}", f_.path(), pos_, field);
  }
  const MappedFile& f_;
  size_t pos_ = 0;
};

bool is_byte_piece(const std::string& s) {
  return s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>' && std::isxdigit(static_cast<unsigned char>(s[3])) &&
         std::isxdigit(static_cast<unsigned char>(s[4]));
}

TokenizerData read_tokenizer(const std::string& path, int32_t vocab_size) {
  MappedFile f(path);
  Reader r(f);
  const int32_t max_len = r.read<int32_t>("max_token_length");
  if (max_len <= 0 || max_len > 1 << 16) fail("{}: max_token_length {} is out of range", path, max_len);
  TokenizerData t;
  for (int32_t i = 0; i < vocab_size; ++i) {
    if (r.pos() == f.size()) {
      fail("{}: has {} tokens, the model's vocabulary {}: this tokenizer belongs to another model", path, i, vocab_size);
    }
    const float score = r.read<float>("token score");
    const int32_t len = r.read<int32_t>("token length");
    if (len < 0 || len > max_len) fail("{}: token {} has length {} (max_token_length {})", path, i, len, max_len);
    std::string piece = r.bytes(static_cast<size_t>(len), "token bytes");
    int32_t type = 1;  // normal
    if (piece == "\n<s>\n") {
      piece = "<s>";
      type = 3;  // control
    } else if (piece == "\n</s>\n") {
      piece = "</s>";
      type = 3;
    } else if (piece == "<unk>") {
      type = 2;  // unknown
    } else if (is_byte_piece(piece)) {
      type = 6;  // byte
    } else {
      // export.py turned SentencePiece's U+2581 into spaces; GGUF vocabularies keep U+2581.
      std::string restored;
      for (char c : piece) restored += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
      piece = std::move(restored);
    }
    t.pieces.push_back(std::move(piece));
    t.scores.push_back(score);
    t.types.push_back(type);
  }
  if (r.pos() != f.size()) {
    fail("{}: has more tokens than the model's vocabulary of {}: this tokenizer belongs to another model", path,
         vocab_size);
  }
  return t;
}

void check_header(const std::string& path, const Header& h) {
  auto in_range = [&](const char* field, int64_t v, int64_t hi) {
    if (v <= 0 || v > hi) fail("{}: header field {} = {} is out of range", path, field, v);
  };
  in_range("dim", h.dim, 1 << 16);
  in_range("hidden_dim", h.hidden_dim, 1 << 18);
  in_range("n_layers", h.n_layers, 1024);
  in_range("n_heads", h.n_heads, 1024);
  in_range("n_kv_heads", h.n_kv_heads, 1024);
  in_range("vocab_size", h.vocab_size == INT32_MIN ? 0 : std::abs(h.vocab_size), 1 << 20);
  in_range("seq_len", h.seq_len, 1 << 20);
  if (h.dim % h.n_heads != 0) fail("{}: dim {} is not a multiple of n_heads {}", path, h.dim, h.n_heads);
  if (h.n_heads % h.n_kv_heads != 0) fail("{}: n_heads {} is not a multiple of n_kv_heads {}", path, h.n_heads, h.n_kv_heads);
  if ((h.dim / h.n_heads) % 2 != 0) fail("{}: head size {} must be even for RoPE", path, h.dim / h.n_heads);
}

}  // namespace

void import_llama2c(const Llama2cImport& o) {
  if (o.type != DType::f32 && o.type != DType::f16 && o.type != DType::q8_0) {
    fail("llama2.c import: type {} is not offered (use f32, f16 or q8_0, or owl quantize afterwards)", dtype_name(o.type));
  }
  MappedFile f(o.model_path);
  Reader r(f);
  Header h{};
  h.dim = r.read<int32_t>("dim");
  h.hidden_dim = r.read<int32_t>("hidden_dim");
  h.n_layers = r.read<int32_t>("n_layers");
  h.n_heads = r.read<int32_t>("n_heads");
  h.n_kv_heads = r.read<int32_t>("n_kv_heads");
  h.vocab_size = r.read<int32_t>("vocab_size");
  h.seq_len = r.read<int32_t>("seq_len");
  check_header(o.model_path, h);
  const bool shared_classifier = h.vocab_size > 0;
  const int64_t vocab = std::abs(h.vocab_size);
  const int64_t dim = h.dim, hidden = h.hidden_dim, layers = h.n_layers;
  const int64_t head = dim / h.n_heads;
  const int64_t kv_dim = head * h.n_kv_heads;

  // Expected float count, computed in 64 bits before touching any weight.
  const int64_t per_layer = 2 * dim + dim * dim * 2 + 2 * dim * kv_dim + 3 * dim * hidden;
  const int64_t rope_tables = static_cast<int64_t>(h.seq_len) * head;  // real + imaginary halves
  const int64_t n_floats = vocab * dim + layers * per_layer + dim + rope_tables + (shared_classifier ? 0 : vocab * dim);
  const uint64_t expected = 28 + 4 * static_cast<uint64_t>(n_floats);
  if (f.size() != expected) {
    fail("{}: size {} bytes does not match the header (expected {} bytes for dim={} layers={} vocab={})", o.model_path,
         f.size(), expected, dim, layers, vocab);
  }
  const TokenizerData tok = read_tokenizer(o.tokenizer_path, static_cast<int32_t>(vocab));

  gguf::Writer w;
  const std::string name = std::filesystem::path(o.model_path).stem().string();
  w.set("general.architecture", {std::string("llama")});
  w.set("general.name", {name});
  if (const int32_t ft = gguf_file_type(o.type); ft >= 0) w.set("general.file_type", {static_cast<uint32_t>(ft)});
  w.set("llama.context_length", {static_cast<uint32_t>(h.seq_len)});
  w.set("llama.embedding_length", {static_cast<uint32_t>(dim)});
  w.set("llama.block_count", {static_cast<uint32_t>(layers)});
  w.set("llama.feed_forward_length", {static_cast<uint32_t>(hidden)});
  w.set("llama.attention.head_count", {static_cast<uint32_t>(h.n_heads)});
  w.set("llama.attention.head_count_kv", {static_cast<uint32_t>(h.n_kv_heads)});
  w.set("llama.attention.layer_norm_rms_epsilon", {1e-5f});
  w.set("llama.rope.dimension_count", {static_cast<uint32_t>(head)});
  w.set("llama.rope.freq_base", {10000.0f});
  w.set("tokenizer.ggml.model", {std::string("llama")});
  w.set("tokenizer.ggml.tokens", gguf::Value::string_array(tok.pieces));
  w.set("tokenizer.ggml.scores", gguf::Value::f32_array(tok.scores));
  w.set("tokenizer.ggml.token_type", gguf::Value::i32_array(tok.types));
  w.set("tokenizer.ggml.unknown_token_id", {uint32_t{0}});
  w.set("tokenizer.ggml.bos_token_id", {uint32_t{1}});
  w.set("tokenizer.ggml.eos_token_id", {uint32_t{2}});
  w.set("tokenizer.ggml.add_bos_token", {true});
  w.set("tokenizer.ggml.add_eos_token", {false});
  w.set("tokenizer.ggml.add_space_prefix", {true});

  ThreadPool pool(o.n_threads);
  const auto* base = reinterpret_cast<const float*>(f.data() + 28);  // 28 is a multiple of 4
  int64_t at = 0;
  auto take = [&](int64_t n) {
    const float* p = base + at;
    at += n;
    return p;
  };
  auto add = [&](const std::string& tname, std::vector<int64_t> shape, const float* data) {
    const DType type = storage_type(o.type, shape);
    const int64_t cols = shape.back();
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
    w.add_tensor(tname, std::move(shape), type, [=, &pool] { return convert_rows(data, DType::f32, type, rows, cols, pool); });
  };
  // Per-kind arrays over all layers, in the checkpoint's order.
  const float* embd = take(vocab * dim);
  const float* rms_att = take(layers * dim);
  const float* wq = take(layers * dim * dim);
  const float* wk = take(layers * kv_dim * dim);
  const float* wv = take(layers * kv_dim * dim);
  const float* wo = take(layers * dim * dim);
  const float* rms_ffn = take(layers * dim);
  const float* w1 = take(layers * hidden * dim);
  const float* w2 = take(layers * dim * hidden);
  const float* w3 = take(layers * hidden * dim);
  const float* rms_final = take(dim);
  take(rope_tables);  // freq_cis_real / freq_cis_imag: recomputed at run time
  const float* wcls = shared_classifier ? nullptr : take(vocab * dim);

  add("token_embd.weight", {vocab, dim}, embd);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    add(p + "attn_norm.weight", {dim}, rms_att + l * dim);
    add(p + "attn_q.weight", {dim, dim}, wq + l * dim * dim);
    add(p + "attn_k.weight", {kv_dim, dim}, wk + l * kv_dim * dim);
    add(p + "attn_v.weight", {kv_dim, dim}, wv + l * kv_dim * dim);
    add(p + "attn_output.weight", {dim, dim}, wo + l * dim * dim);
    add(p + "ffn_norm.weight", {dim}, rms_ffn + l * dim);
    add(p + "ffn_gate.weight", {hidden, dim}, w1 + l * hidden * dim);
    add(p + "ffn_down.weight", {dim, hidden}, w2 + l * dim * hidden);
    add(p + "ffn_up.weight", {hidden, dim}, w3 + l * hidden * dim);
  }
  add("output_norm.weight", {dim}, rms_final);
  if (wcls != nullptr) add("output.weight", {vocab, dim}, wcls);
  w.write(o.output_path);
}

}  // namespace owl
