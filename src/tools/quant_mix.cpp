// Per-tensor types of llama-quantize's presets (tools/quant_mix.h), following llama.cpp's
// llama_tensor_get_type for dense Llama-family models: the layer a tensor belongs to comes from its
// "blk.N." name, the share of query heads per KV head from the file's metadata.
#include "tools/quant_mix.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "tools/check/fit.h"
#include "tools/tensor_convert.h"

namespace owl {

namespace {

struct Named {
  const char* name;
  DType base;
  QuantMix mix;
  int32_t file_type;
};

// llama-quantize's table (tools/quantize/quantize.cpp), plus owl's q8_K and llama.cpp's aliases last.
constexpr std::array kPresets = {
    Named{"Q4_0", DType::q4_0, QuantMix::legacy, 2},     Named{"Q4_1", DType::q4_1, QuantMix::legacy, 3},
    Named{"Q5_0", DType::q5_0, QuantMix::legacy, 8},     Named{"Q5_1", DType::q5_1, QuantMix::legacy, 9},
    Named{"Q2_K", DType::q2_k, QuantMix::q2_k, 10},      Named{"Q2_K_S", DType::q2_k, QuantMix::q2_k_s, 21},
    Named{"Q3_K_S", DType::q3_k, QuantMix::q3_k_s, 11},  Named{"Q3_K_M", DType::q3_k, QuantMix::q3_k_m, 12},
    Named{"Q3_K_L", DType::q3_k, QuantMix::q3_k_l, 13},  Named{"Q4_K_S", DType::q4_k, QuantMix::q4_k_s, 14},
    Named{"Q4_K_M", DType::q4_k, QuantMix::q4_k_m, 15},  Named{"Q5_K_S", DType::q5_k, QuantMix::q5_k_s, 16},
    Named{"Q5_K_M", DType::q5_k, QuantMix::q5_k_m, 17},  Named{"Q6_K", DType::q6_k, QuantMix::legacy, 18},
    Named{"Q8_0", DType::q8_0, QuantMix::legacy, 7},     Named{"F16", DType::f16, QuantMix::uniform, 1},
    Named{"BF16", DType::bf16, QuantMix::uniform, 32},   Named{"F32", DType::f32, QuantMix::uniform, 0},
    Named{"Q8_K", DType::q8_k, QuantMix::uniform, -1},   Named{"Q3_K", DType::q3_k, QuantMix::q3_k_m, 12},
    Named{"Q4_K", DType::q4_k, QuantMix::q4_k_m, 15},    Named{"Q5_K", DType::q5_k, QuantMix::q5_k_m, 17},
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// The N of "blk.N.", -1 outside the blocks.
int64_t layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  int64_t n = 0;
  size_t i = 4;
  for (; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i) n = n * 10 + (name[i] - '0');
  return i > 4 ? n : -1;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third one between.
bool more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// A type whose blocks fit rows of `cols` values (llama.cpp's fallbacks; then f16, which always fits).
DType fitting(DType t, int64_t cols) {
  if (cols % dtype_traits(t).block_size == 0) return t;
  switch (t) {
    case DType::q2_k:
    case DType::q3_k:
      t = DType::q4_0;
      break;
    case DType::q4_k:
      t = DType::q5_0;
      break;
    case DType::q5_k:
      t = DType::q5_1;
      break;
    case DType::q6_k:
      t = DType::q8_0;
      break;
    default:
      return DType::f16;
  }
  return cols % dtype_traits(t).block_size == 0 ? t : DType::f16;
}

}  // namespace

std::optional<QuantPreset> quant_preset(std::string_view name) {
  const std::string want = upper(name);
  for (const Named& p : kPresets) {
    if (want == p.name) return QuantPreset{p.name, p.base, p.mix, p.file_type};
  }
  return std::nullopt;
}

std::string quant_preset_names() {
  std::string out;
  for (const Named& p : kPresets) out += (out.empty() ? "" : ", ") + std::string(p.name);
  return out;
}

TensorTypes::TensorTypes(const ModelFile& in, const TensorTypeOptions& options) : o_(options) {
  has_output_ = in.find_tensor("output.weight") != nullptr;
  const check::Hyper h = check::hyper_from_gguf(in);
  n_layer_ = h.n_layer;
  if (!h.n_head.empty() && !h.n_head_kv.empty() && h.n_head_kv[0] > 0) gqa_ = h.n_head[0] / h.n_head_kv[0];
  big_gqa_70b_ = h.arch == "llama" && h.n_layer == 80 && gqa_ > 1;
}

DType TensorTypes::mixed(const TensorInfo& t) const {
  const DType base = o_.preset.base;
  const QuantMix mix = o_.preset.mix;
  const std::string& name = t.name;
  const bool is_output = name == "output.weight" || (name == "token_embd.weight" && !has_output_);
  if (is_output) {
    if (t.cols() % dtype_traits(base).block_size != 0) return DType::q8_0;
    return base != DType::q8_0 ? DType::q6_k : DType::q8_0;
  }
  const int64_t i = layer_of(name);
  const int64_t n = n_layer_;
  if (contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight")) {
    DType v = base;
    switch (mix) {
      case QuantMix::q2_k: v = gqa_ >= 4 ? DType::q4_k : DType::q3_k; break;
      case QuantMix::q2_k_s: v = gqa_ >= 4 ? DType::q4_k : DType::q2_k; break;
      case QuantMix::q3_k_m: v = i < 2 ? DType::q5_k : DType::q4_k; break;
      case QuantMix::q3_k_l: v = DType::q5_k; break;
      case QuantMix::q4_k_m:
      case QuantMix::q5_k_m: v = more_bits(i, n) ? DType::q6_k : base; break;
      case QuantMix::q4_k_s: v = i < 4 ? DType::q5_k : DType::q4_k; break;
      default: break;
    }
    if (big_gqa_70b_ && (v == DType::q3_k || v == DType::q4_k)) v = DType::q5_k;
    return v;
  }
  if (contains(name, "ffn_down")) {
    switch (mix) {
      case QuantMix::q2_k: return DType::q3_k;
      case QuantMix::q2_k_s: return i < n / 8 ? DType::q4_k : DType::q2_k;
      case QuantMix::q3_k_m: return i < n / 16 ? DType::q5_k : DType::q4_k;
      case QuantMix::q3_k_l: return DType::q5_k;
      case QuantMix::q4_k_s: return i < n / 8 ? DType::q5_k : DType::q4_k;
      case QuantMix::q4_k_m: return more_bits(i, n) ? DType::q6_k : DType::q4_k;
      case QuantMix::q5_k_m: return more_bits(i, n) ? DType::q6_k : DType::q5_k;
      default: return base;
    }
  }
  if (contains(name, "attn_output.weight")) {
    switch (mix) {
      case QuantMix::q2_k: return DType::q3_k;
      case QuantMix::q3_k_m: return DType::q4_k;
      case QuantMix::q3_k_l: return DType::q5_k;
      default: return base;
    }
  }
  return base;
}

TensorTypes::Choice TensorTypes::choose(const TensorInfo& t) const {
  if (t.shape.size() < 2) return {DType::f32, false};  // norms and biases stay float32
  const bool tied_output = t.name == "token_embd.weight" && !has_output_;
  DType want = o_.preset.base;
  if (t.name == "token_embd.weight" && o_.token_embd_type) {
    want = *o_.token_embd_type;
  } else if ((t.name == "output.weight" || (tied_output && !o_.token_embd_type)) && o_.output_type) {
    want = *o_.output_type;
  } else if (is_quantized(o_.preset.base) && !o_.pure && o_.preset.mix != QuantMix::uniform) {
    want = mixed(t);
  }
  const DType type = fitting(want, t.cols());
  return {type, type != want};
}

}  // namespace owl
