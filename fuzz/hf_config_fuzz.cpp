// libFuzzer harness for config.json -> model metadata: the input is written as config.json into a
// private Hugging Face directory (or an MLX one when it mentions "quantization"; tiny weights and a
// tokenizer.json written once at start), opened with owl::open_hf_directory, and its spec built.
#include <cstring>
#include <vector>

#include "base/error.h"
#include "formats/model_file.h"
#include "formats/safetensors.h"
#include "fuzz_common.h"
#include "models/hf_import.h"
#include "models/registry.h"
#include "models/spec.h"

namespace {

namespace st = owl::safetensors;

// A byte-level BPE tokenizer small enough to load in microseconds, so that config.json's special
// token ids (bos_token_id, eos_token_id, vocab_size, text_config) reach the tokenizer export too.
constexpr std::string_view kTokenizerJson = R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
  "post_processor": null,
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
            "vocab": {"<s>": 0, "</s>": 1, "a": 2, "b": 3, "ab": 4, "\u0120": 5, "\u0120ab": 6, "c": 7},
            "merges": ["a b", "\u0120 ab"]}
})";

struct TensorSpec {
  const char* name;
  st::DType dtype;
  std::vector<int64_t> shape;
};

// One tensor of each kind the importer treats differently: kept in place (F32, F16, BF16 matrices),
// converted (vectors, F64, F8), q/k rows permuted per head (8 rows: any head count of 1, 2 or 4),
// and skipped (vision tower, rotary inv_freq).
const std::vector<TensorSpec> kCommonTensors = {
    {"model.embed_tokens.weight", st::DType::bf16, {8, 8}},
    {"model.norm.weight", st::DType::f32, {8}},
    {"model.layers.0.input_layernorm.weight", st::DType::bf16, {8}},
    {"model.layers.0.self_attn.q_proj.weight", st::DType::f16, {8, 8}},
    {"model.layers.0.self_attn.k_proj.weight", st::DType::f8_e4m3, {8, 8}},
    {"model.layers.0.self_attn.q_proj.bias", st::DType::f64, {8}},
    {"model.layers.0.self_attn.v_proj.weight", st::DType::f8_e5m2, {8, 8}},
    {"vision_tower.patch_embed.weight", st::DType::u8, {4}},
    {"model.layers.0.self_attn.rotary_emb.inv_freq", st::DType::f32, {4}},
};
// The HF directory adds a tensor renamed from a multimodal wrapper.
const std::vector<TensorSpec> kHfTensors = {
    {"language_model.model.layers.0.mlp.up_proj.weight", st::DType::f32, {16, 8}},
};
// The MLX directory adds two affine-quantized modules (packed U32 codes, F16 or BF16 scales and
// biases, one group per row): 8 words per row hold 4-bit g64, 8-bit g32 or 2-bit g128 codes.
const std::vector<TensorSpec> kMlxTensors = {
    {"model.layers.0.mlp.up_proj.weight", st::DType::u32, {8, 8}},
    {"model.layers.0.mlp.up_proj.scales", st::DType::f16, {8, 1}},
    {"model.layers.0.mlp.up_proj.biases", st::DType::f16, {8, 1}},
    {"model.layers.0.mlp.down_proj.weight", st::DType::u32, {8, 8}},
    {"model.layers.0.mlp.down_proj.scales", st::DType::bf16, {8, 1}},
    {"model.layers.0.mlp.down_proj.biases", st::DType::bf16, {8, 1}},
};

void write_model(const std::string& path, const std::vector<TensorSpec>& extra) {
  st::Writer w;
  uint8_t next = 0x31;
  std::vector<TensorSpec> specs = kCommonTensors;
  specs.insert(specs.end(), extra.begin(), extra.end());
  for (const TensorSpec& s : specs) {
    uint64_t n = st::dtype_size(s.dtype);
    for (int64_t d : s.shape) n *= static_cast<uint64_t>(d);
    std::vector<uint8_t> bytes(n);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>((next = static_cast<uint8_t>(next * 73 + 11)) & 0x3f);
    w.add(s.name, s.dtype, s.shape, std::move(bytes));
  }
  w.write(path);
}

std::string make_dir(const std::string& name, const std::vector<TensorSpec>& extra) {
  const std::string d = owl::fuzz::scratch_path(name);
  std::filesystem::create_directory(d);
  write_model(d + "/model.safetensors", extra);
  owl::fuzz::write_file(d + "/tokenizer.json", kTokenizerJson);
  return d;
}

void visit(const owl::gguf::Value& v) {
  owl::fuzz::keep(v.type());
  if (const auto* a = std::get_if<owl::gguf::Array>(&v.v)) {
    for (const owl::gguf::Value& item : a->items) {
      OWL_FUZZ_CHECK(item.type() == a->elem);
      visit(item);
    }
  } else if (const auto* s = std::get_if<std::string>(&v.v)) {
    owl::fuzz::keep(s->size());
  }
}

void exercise(const owl::ModelFile& view) {
  for (const auto& [key, value] : view.metadata()) {
    OWL_FUZZ_CHECK(view.find(key) == &value);
    visit(value);
  }
  for (const owl::TensorInfo& t : view.tensors()) {
    OWL_FUZZ_CHECK(view.find_tensor(t.name) == &t);
    OWL_FUZZ_CHECK(t.n_bytes == owl::row_bytes(t.type, static_cast<int64_t>(t.n_elements)));
    owl::fuzz::keep(owl::fuzz::touch(t.data, t.n_bytes));
  }
  try {
    const owl::ModelSpec spec = owl::spec_from_gguf(view);
    OWL_FUZZ_CHECK(spec.layers.size() == static_cast<size_t>(spec.n_layer));
    OWL_FUZZ_CHECK(spec.n_head % spec.n_head_kv == 0);
  } catch (const owl::Error& e) {
    owl::fuzz::refused(e);  // metadata the importer wrote but the family's spec refuses
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string hf_dir = make_dir("hf", kHfTensors);
  static const std::string mlx_dir = make_dir("mlx", kMlxTensors);
  const bool mlx =
      std::string_view(reinterpret_cast<const char*>(data), size).find("\"quantization\"") != std::string_view::npos;
  const std::string& dir = mlx ? mlx_dir : hf_dir;
  owl::fuzz::write_file(dir + "/config.json", data, size);
  std::unique_ptr<owl::ModelFile> view;
  try {
    view = owl::open_hf_directory(dir);
  } catch (const owl::Error& e) {
    owl::fuzz::refused(e);
    return 0;  // the expected answer to most inputs
  }
  exercise(*view);
  return 0;
}
