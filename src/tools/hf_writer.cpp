// Hugging Face / MLX directory output. Each tensor is made (dequantized, un-rewritten, cast or
// quantized) only when its shard is written, so memory holds one tensor at a time.
#include "tools/hf_writer.h"

#include <filesystem>
#include <map>
#include <memory>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/fp16.h"
#include "base/thread_pool.h"
#include "formats/model_file.h"
#include "formats/safetensors.h"
#include "models/hf_export.h"
#include "models/hf_import.h"
#include "tensor/mlx_affine.h"
#include "tokenizer/hf_export.h"
#include "tokenizer/vocab.h"
#include "tools/tensor_convert.h"

namespace owl {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

safetensors::DType st_dtype(DType t) {
  switch (t) {
    case DType::f32: return safetensors::DType::f32;
    case DType::f16: return safetensors::DType::f16;
    case DType::bf16: return safetensors::DType::bf16;
    default: fail("--type {}: a Hugging Face directory holds f32, f16 or bf16 tensors", dtype_name(t));
  }
}

// The source tensor as float32 rows in Hugging Face conventions.
std::vector<float> hf_rows(const HfTensorPlan& p, ThreadPool& pool) {
  const TensorInfo& t = *p.source;
  const std::vector<uint8_t> raw = convert_rows(t.data, t.type, DType::f32, t.rows(), t.cols(), pool);
  std::vector<float> v(t.n_elements);
  if (p.unpermute_heads > 0) {
    const std::vector<uint8_t> back = permute_rope_rows(raw.data(), t.shape[0], raw.size() / static_cast<size_t>(t.shape[0]),
                                                        p.unpermute_heads, false);
    std::memcpy(v.data(), back.data(), back.size());
  } else {
    std::memcpy(v.data(), raw.data(), raw.size());
  }
  if (p.norm_minus_one) {
    for (float& x : v) x -= 1.0f;
  }
  return v;
}

// One MLX module quantized once and handed out as its three tensors in whatever order they are asked for.
struct QuantizedModule {
  std::vector<uint8_t> weight, scales, biases;
};

DType default_dtype(const ModelFile& in, bool mlx) {
  if (mlx) return DType::bf16;
  std::optional<DType> common;
  for (const TensorInfo& t : in.tensors()) {
    if (t.shape.size() < 2) continue;
    if (common && *common != t.type) return DType::f32;
    common = t.type;
  }
  return common && (*common == DType::f16 || *common == DType::bf16) ? *common : DType::f32;
}

void write_json(const fs::path& p, const json& j) { atomic_write(p, j.dump(2) + "\n"); }

}  // namespace

HfWriteReport write_hf_directory(const ModelFile& in, const std::string& out_dir, const HfWriteOptions& o) {
  const bool mlx = o.mlx_bits > 0;
  if (mlx && (!mlx::valid_bits(o.mlx_bits) || (o.mlx_group_size != 32 && o.mlx_group_size != 64 && o.mlx_group_size != 128))) {
    fail("MLX quantization: bits must be 2, 3, 4, 5, 6 or 8 and the group size 32, 64 or 128 (got {} and {})",
         o.mlx_bits, o.mlx_group_size);
  }
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !fs::is_directory(out_dir, ec)) fail("{}: exists and is not a directory", out_dir);
  HfLayout layout = hf_layout(in);
  const DType dtype = o.dtype.value_or(default_dtype(in, mlx));
  const safetensors::DType sdt = st_dtype(dtype);
  if (mlx && dtype == DType::f32) fail("MLX output needs bf16 or f16 scales (--type bf16 or f16)");
  const mlx::ScaleType scale_type = dtype == DType::f16 ? mlx::ScaleType::f16 : mlx::ScaleType::bf16;

  ThreadPool pool(o.n_threads);
  HfWriteReport report;
  uint64_t total = 0, done = 0;
  for (const HfTensorPlan& p : layout.tensors) total += p.source->n_bytes;

  // Shards by size, in the order of the source tensors (each whole tensor in one shard).
  struct Planned {
    std::string name;
    safetensors::DType dtype;
    std::vector<int64_t> shape;
    safetensors::Writer::Producer produce;
    uint64_t bytes;
  };
  std::vector<Planned> planned;
  json quantization = json::object();
  for (const HfTensorPlan& p : layout.tensors) {
    const TensorInfo& t = *p.source;
    const bool quantize = mlx && t.shape.size() == 2 && t.cols() % o.mlx_group_size == 0;
    auto count = [&, &src = t] {
      done += src.n_bytes;
      if (o.progress) o.progress(done, total);
    };
    if (!quantize) {
      // 1-D tensors (norms, biases) stay float32 when the source has them so, as GGUF keeps them
      // (converting back gives the same bytes); mlx-lm writes them in the model dtype.
      const DType type = !mlx && t.shape.size() == 1 && t.type == DType::f32 ? DType::f32 : dtype;
      const bool same = t.type == type && p.unpermute_heads == 0 && !p.norm_minus_one;
      planned.push_back({p.hf_name, st_dtype(type), t.shape, [&, plan = p, same, type, count] {
                           count();
                           if (same) return std::vector<uint8_t>(plan.source->data, plan.source->data + plan.source->n_bytes);
                           const std::vector<float> v = hf_rows(plan, pool);
                           return convert_rows(v.data(), DType::f32, type, plan.source->rows(), plan.source->cols(), pool);
                         },
                         row_bytes(type, static_cast<int64_t>(t.n_elements))});
      continue;
    }
    const int64_t rows = t.shape[0], cols = t.shape[1], groups = cols / o.mlx_group_size;
    auto module = std::make_shared<std::shared_ptr<QuantizedModule>>();
    auto remaining = std::make_shared<int>(3);
    auto part = [&, plan = p, module, remaining, rows, cols, groups, count](int which) {
      if (!*module) {
        std::vector<float> v = hf_rows(plan, pool);
        auto m = std::make_shared<QuantizedModule>();
        m->weight.resize(static_cast<size_t>(rows * cols * o.mlx_bits / 8));
        m->scales.resize(static_cast<size_t>(rows * groups * 2));
        m->biases.resize(m->scales.size());
        pool.parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
          std::vector<float> row(static_cast<size_t>(cols));
          std::vector<uint8_t> codes(static_cast<size_t>(cols));
          std::vector<uint16_t> sc(static_cast<size_t>(groups)), bi(static_cast<size_t>(groups));
          for (int64_t r = r0; r < r1; ++r) {
            for (int64_t k = 0; k < cols; ++k) {  // the weight as the model dtype first, as mlx-lm casts before quantizing
              const float x = v[static_cast<size_t>(r * cols + k)];
              row[static_cast<size_t>(k)] = dtype == DType::f16 ? fp16_to_fp32(fp32_to_fp16(x)) : bf16_to_fp32(fp32_to_bf16(x));
            }
            mlx::quantize_row(row.data(), cols, o.mlx_bits, o.mlx_group_size, scale_type, codes.data(), sc.data(), bi.data());
            mlx::pack_row(codes.data(), cols, o.mlx_bits, m->weight.data() + r * cols * o.mlx_bits / 8);
            std::memcpy(m->scales.data() + r * groups * 2, sc.data(), sc.size() * 2);
            std::memcpy(m->biases.data() + r * groups * 2, bi.data(), bi.size() * 2);
          }
        });
        *module = m;
        count();
      }
      std::vector<uint8_t> out = std::move(which == 0 ? (*module)->weight : which == 1 ? (*module)->scales : (*module)->biases);
      if (--*remaining == 0) module->reset();
      return out;
    };
    const std::string base = p.hf_name.substr(0, p.hf_name.size() - std::string(".weight").size());
    planned.push_back({base + ".weight", safetensors::DType::u32, {rows, cols * o.mlx_bits / 32}, [part] { return part(0); },
                       static_cast<uint64_t>(rows * cols * o.mlx_bits / 8)});
    planned.push_back({base + ".scales", sdt, {rows, groups}, [part] { return part(1); }, static_cast<uint64_t>(rows * groups * 2)});
    planned.push_back({base + ".biases", sdt, {rows, groups}, [part] { return part(2); }, static_cast<uint64_t>(rows * groups * 2)});
    ++report.n_quantized;
  }

  atomic_write_directory(out_dir, [&](const fs::path& tmp) {
    std::vector<std::vector<const Planned*>> shards(1);
    uint64_t shard_bytes = 0;
    for (const Planned& p : planned) {
      if (shard_bytes > 0 && shard_bytes + p.bytes > o.max_shard_bytes) {
        shards.emplace_back();
        shard_bytes = 0;
      }
      shards.back().push_back(&p);
      shard_bytes += p.bytes;
    }
    json weight_map = json::object();
    uint64_t total_size = 0;
    for (size_t i = 0; i < shards.size(); ++i) {
      const std::string file = shards.size() == 1
                                   ? "model.safetensors"
                                   : fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, shards.size());
      safetensors::Writer w;
      w.set_metadata("format", mlx ? "mlx" : "pt");
      for (const Planned* p : shards[i]) {
        w.add(p->name, p->dtype, p->shape, p->produce);
        weight_map[p->name] = file;
        total_size += p->bytes;
        ++report.n_tensors;
      }
      w.write((tmp / file).string());
    }
    report.n_shards = shards.size();
    report.bytes_out = total_size;
    if (shards.size() > 1 || mlx) {
      write_json(tmp / "model.safetensors.index.json",
                 {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}});
    }

    layout.config["torch_dtype"] = dtype == DType::f32 ? "float32" : dtype == DType::f16 ? "float16" : "bfloat16";
    if (mlx) {
      const json q = {{"group_size", o.mlx_group_size}, {"bits", o.mlx_bits}, {"mode", "affine"}};
      layout.config["quantization"] = q;
      layout.config["quantization_config"] = q;
    }
    write_json(tmp / "config.json", layout.config);
    write_json(tmp / "generation_config.json", layout.generation);
    std::optional<std::string> chat_template = in.find_string("tokenizer.chat_template");
    if (in.find("tokenizer.ggml.model") != nullptr) {
      const HfTokenizerFiles files = hf_tokenizer_files(Vocab::from_gguf(in), chat_template);
      atomic_write(tmp / "tokenizer.json", files.tokenizer_json);
      atomic_write(tmp / "tokenizer_config.json", files.tokenizer_config_json);
      report.tokenizer = true;
    } else if (chat_template) {
      write_json(tmp / "tokenizer_config.json", {{"chat_template", *chat_template}});
    }
    if (auto license = in.find_string("general.license")) {
      atomic_write(tmp / "README.md", "---\nlicense: " + *license + "\n---\n");
    }
  });
  return report;
}

}  // namespace owl
