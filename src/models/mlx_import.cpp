// MLX affine modules -> Q4_1 / Q5_1 / F32 (see mlx_import.h); codes unpacked by tensor/mlx_affine.
#include "models/mlx_import.h"

#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "base/thread_pool.h"
#include "tensor/blocks.h"
#include "tensor/mlx_affine.h"

namespace owl {

namespace {

std::string module_of(std::string_view name, std::string_view suffix) {
  return std::string(name.substr(0, name.size() - suffix.size()));
}

const safetensors::Tensor* find(const hf::Directory& d, const std::string& name) {
  const auto it = d.tensors().find(name);
  return it == d.tensors().end() ? nullptr : it->second;
}

struct Settings {
  int bits = 0;
  int64_t group = 0;
};

// config.json "quantization": defaults, overridden by an entry keyed by the module path.
Settings settings_for(const hf::Directory& d, const std::string& module) {
  const std::string where = d.path() + "/config.json: 'quantization'";
  const nlohmann::json& q = d.config()["quantization"];
  if (!q.is_object()) fail("{}: expected an object", where);
  auto read = [&](const nlohmann::json& o, Settings s, const std::string& what) {
    if (const auto m = o.find("mode"); m != o.end() && !(m->is_string() && m->get<std::string>() == "affine")) {
      fail("{}{}: mode {} is not supported (owl reads mode 'affine')", where, what, m->dump());
    }
    if (const auto b = o.find("bits"); b != o.end()) {
      if (!b->is_number_integer()) fail("{}{}: 'bits' must be an integer", where, what);
      s.bits = b->get<int>();
    }
    if (const auto g = o.find("group_size"); g != o.end()) {
      if (!g->is_number_integer()) fail("{}{}: 'group_size' must be an integer", where, what);
      s.group = g->get<int64_t>();
    }
    return s;
  };
  Settings s = read(q, Settings{4, 64}, "");
  if (const auto it = q.find(module); it != q.end()) {
    if (it->is_boolean() && !it->get<bool>()) fail("{}['{}'] is false but the module has scales", where, module);
    if (!it->is_object()) fail("{}['{}']: expected an object", where, module);
    s = read(*it, s, "['" + module + "']");
  }
  if (!mlx::valid_bits(s.bits)) fail("{} for '{}': bits {} (MLX uses 2, 3, 4, 5, 6 or 8)", where, module, s.bits);
  if (s.group != 32 && s.group != 64 && s.group != 128) {
    fail("{} for '{}': group size {} (MLX uses 32, 64 or 128)", where, module, s.group);
  }
  return s;
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// The raw scale / bias as float16 when that is exact (always for F16 models; BF16 values inside
// float16's range).
bool as_exact_f16(uint16_t raw, mlx::ScaleType type, uint16_t& out) {
  if (type == mlx::ScaleType::f16) {
    out = raw;
    return true;
  }
  const float f = bf16_to_fp32(raw);
  out = fp32_to_fp16(f);
  return fp16_to_fp32(out) == f || (f != f && fp16_to_fp32(out) != fp16_to_fp32(out));
}

// One 32-value block of codes as Q4_1 / Q5_1 (d·q + m with MLX's scale and bias).
void write_block(const uint8_t* q, int bits, uint16_t d, uint16_t m, uint8_t* dst) {
  if (bits == 4) {
    BlockQ4_1 blk{d, m, {}};
    for (int j = 0; j < kQk / 2; ++j) blk.qs[j] = static_cast<uint8_t>(q[j] | (q[j + kQk / 2] << 4));
    std::memcpy(dst, &blk, sizeof blk);
    return;
  }
  BlockQ5_1 blk{d, m, {}, {}};
  uint32_t qh = 0;
  for (int j = 0; j < kQk / 2; ++j) {
    blk.qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + kQk / 2] & 0x0f) << 4));
    qh |= static_cast<uint32_t>(q[j] >> 4) << j | static_cast<uint32_t>(q[j + kQk / 2] >> 4) << (j + kQk / 2);
  }
  std::memcpy(blk.qh, &qh, 4);
  std::memcpy(dst, &blk, sizeof blk);
}

// Repacking a large model's modules is worth both cores; one pool for the whole load.
ThreadPool& pool() {
  static ThreadPool p(0);
  return p;
}

}  // namespace

bool mlx_quantized(const hf::Directory& d, std::string_view hf_name) {
  if (!hf_name.ends_with(".weight") || !d.config().contains("quantization")) return false;
  const safetensors::Tensor* w = find(d, std::string(hf_name));
  return w != nullptr && w->dtype == safetensors::DType::u32 && find(d, module_of(hf_name, ".weight") + ".scales") != nullptr;
}

bool mlx_side_tensor(const hf::Directory& d, std::string_view hf_name) {
  for (std::string_view suffix : {".scales", ".biases"}) {
    if (hf_name.ends_with(suffix) && mlx_quantized(d, module_of(hf_name, suffix) + ".weight")) return true;
  }
  return false;
}

TensorInfo mlx_tensor(AssembledModelFile& view, const hf::Directory& d, const std::string& hf_name,
                      const std::string& gguf_name) {
  const std::string module = module_of(hf_name, ".weight");
  const Settings s = settings_for(d, module);
  const safetensors::Tensor& w = *find(d, hf_name);
  const safetensors::Tensor& sc = *find(d, module + ".scales");
  const safetensors::Tensor* bi = find(d, module + ".biases");
  const std::string where = d.path() + ": module '" + module + "'";
  if (bi == nullptr) fail("{}: has scales but no biases (owl reads MLX's affine mode)", where);
  if (w.shape.size() != 2 || sc.shape.size() != 2 || sc.shape != bi->shape || sc.shape[0] != w.shape[0]) {
    fail("{}: weight, scales and biases shapes disagree", where);
  }
  if (sc.dtype != bi->dtype || (sc.dtype != safetensors::DType::bf16 && sc.dtype != safetensors::DType::f16)) {
    fail("{}: scales and biases must both be BF16 or F16", where);
  }
  const int64_t rows = w.shape[0], cols = sc.shape[1] * s.group, groups = sc.shape[1];
  if (cols <= 0 || w.shape[1] * 32 != cols * s.bits) {
    fail("{}: {} packed words per row do not hold {} codes of {} bits", where, w.shape[1], cols, s.bits);
  }
  const mlx::ScaleType type = sc.dtype == safetensors::DType::f16 ? mlx::ScaleType::f16 : mlx::ScaleType::bf16;
  const size_t packed_row = static_cast<size_t>(w.shape[1]) * 4;

  // Q4_1 / Q5_1 when every scale and bias is exact in float16.
  bool blocks = s.bits == 4 || s.bits == 5;
  std::vector<uint16_t> d16(static_cast<size_t>(rows * groups)), m16(d16.size());
  for (size_t i = 0; blocks && i < d16.size(); ++i) {
    blocks = as_exact_f16(load_u16(sc.data + 2 * i), type, d16[i]) && as_exact_f16(load_u16(bi->data + 2 * i), type, m16[i]);
  }
  TensorInfo out{gguf_name, {rows, cols}, DType::f32, 0, 0, 0, nullptr};
  out.float_activations = true;
  if (blocks) {
    out.type = s.bits == 4 ? DType::q4_1 : DType::q5_1;
    out.n_bytes = row_bytes(out.type, cols) * static_cast<size_t>(rows);
    std::vector<uint8_t> bytes(out.n_bytes);
    const int64_t per_group = s.group / kQk;
    pool().parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
      std::vector<uint8_t> codes(static_cast<size_t>(cols));
      for (int64_t r = r0; r < r1; ++r) {
        mlx::unpack_row(w.data + static_cast<size_t>(r) * packed_row, cols, s.bits, codes.data());
        for (int64_t b = 0; b < cols / kQk; ++b) {
          write_block(codes.data() + b * kQk, s.bits, d16[static_cast<size_t>(r * groups + b / per_group)],
                      m16[static_cast<size_t>(r * groups + b / per_group)],
                      bytes.data() + static_cast<size_t>(r * (cols / kQk) + b) * dtype_traits(out.type).block_bytes);
        }
      }
    });
    out.data = view.own(std::move(bytes));
    return out;
  }
  out.n_bytes = static_cast<uint64_t>(rows * cols) * sizeof(float);
  std::vector<uint8_t> bytes(out.n_bytes);
  pool().parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      mlx::dequantize_packed_row(w.data + static_cast<size_t>(r) * packed_row, cols, s.bits, s.group, type,
                                 reinterpret_cast<const uint16_t*>(sc.data + static_cast<size_t>(r * groups) * 2),
                                 reinterpret_cast<const uint16_t*>(bi->data + static_cast<size_t>(r * groups) * 2),
                                 reinterpret_cast<float*>(bytes.data()) + r * cols);
    }
  });
  out.data = view.own(std::move(bytes));
  return out;
}

}  // namespace owl
