// GGUF output of any model view: every tensor is dequantised to float32 rows and re-quantised
// (tools/tensor_convert.h: the reference's bytes) on the thread pool while the output is written
// (atomically), or passed through untouched when it keeps its type.
#include "tools/quantize.h"

#include <filesystem>

#include "base/error.h"
#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "models/hf_import.h"
#include "models/model_source.h"
#include "tensor/quant.h"
#include "tools/tensor_convert.h"

namespace owl {

namespace fs = std::filesystem;

void refuse_overwriting_input(const std::string& in_path, const std::string& out_path) {
  std::error_code ec;
  const fs::path in = fs::weakly_canonical(in_path, ec), out = fs::weakly_canonical(out_path, ec);
  if (in == out) fail("{}: the output would overwrite the input", out_path);
  if (fs::is_directory(in, ec)) {
    for (fs::path p = out; !p.empty() && p != p.parent_path(); p = p.parent_path()) {
      if (p == in) fail("{}: the output would be written inside the input directory {}", out_path, in_path);
    }
  }
  if (fs::is_directory(out_path, ec)) fail("{}: is a directory (give a file name for the GGUF output)", out_path);
}

QuantizeReport write_gguf(const ModelFile& in, const std::string& out_path, const QuantizeOptions& o) {
  const auto* source_gguf = dynamic_cast<const gguf::File*>(&in);
  gguf::Writer w(source_gguf != nullptr ? source_gguf->version() : 3);
  for (const auto& [key, value] : in.metadata()) w.set(key, value);
  std::optional<TensorTypes> preset;
  if (o.preset) preset.emplace(in, *o.preset);
  // Each tensor's type, and whether it fell back from the one asked for; decided before any work.
  std::vector<std::pair<DType, bool>> types;
  std::vector<std::vector<float>> importance(in.tensors().size());
  size_t n_importance = 0;
  for (const TensorInfo& t : in.tensors()) {
    if (preset) {
      const TensorTypes::Choice c = preset->choose(t);
      types.emplace_back(c.type, c.fallback);
    } else {
      const DType type = o.type ? storage_type(*o.type, t.shape) : t.type;
      types.emplace_back(type, o.type && t.shape.size() >= 2 && type != *o.type);
    }
    const DType to = types.back().first;
    if (!o.allow_requantize && is_quantized(t.type) && to != t.type) {
      fail("{}: {} is already {}; quantizing it to {} loses precision twice (--allow-requantize to do it anyway)",
           in.path(), t.name, dtype_name(t.type), dtype_name(to));
    }
    if (o.imatrix != nullptr && to != t.type && has_importance_search(to)) {
      std::vector<float> v = o.imatrix->importance(t.name);
      if (!v.empty() && static_cast<int64_t>(v.size()) != t.cols()) {
        fail("{}: its entry for {} has {} values, the tensor has {} columns (an importance matrix of another model?)",
             o.imatrix_file, t.name, v.size(), t.cols());
      }
      n_importance += v.empty() ? 0 : 1;
      importance[types.size() - 1] = std::move(v);
    }
  }
  if (o.imatrix != nullptr) {
    if (n_importance == 0) {
      fail("{}: none of its {} entries names a tensor of {} quantized to a type that uses one", o.imatrix_file,
           o.imatrix->entries.size(), in.path());
    }
    w.set("quantize.imatrix.file", {o.imatrix_file});
    if (!o.imatrix->datasets.empty()) w.set("quantize.imatrix.dataset", {o.imatrix->datasets.front()});
    w.set("quantize.imatrix.entries_count", {static_cast<int32_t>(o.imatrix->entries.size())});
    if (o.imatrix->chunk_count > 0) w.set("quantize.imatrix.chunks_count", {static_cast<int32_t>(o.imatrix->chunk_count)});
  }
  if (o.type || o.preset) {
    const int32_t ft = o.preset ? o.preset->preset.file_type : gguf_file_type(*o.type);
    if (ft >= 0) {
      w.set("general.file_type", {static_cast<uint32_t>(ft)});
    } else {
      w.remove("general.file_type");
    }
    w.set("general.quantized_by", {std::string("owl")});
  }

  ThreadPool pool(o.n_threads);
  QuantizeReport report;
  const size_t total = in.tensors().size();
  uint64_t total_bytes = 0;
  for (const TensorInfo& t : in.tensors()) total_bytes += t.n_bytes;
  size_t done = 0;
  uint64_t read = 0;
  for (size_t i = 0; i < in.tensors().size(); ++i) {
    const TensorInfo& t = in.tensors()[i];
    const DType type = types[i].first;
    const bool fell_back = types[i].second;
    if (fell_back) ++report.n_fallback;
    const float* weights = importance[i].empty() ? nullptr : importance[i].data();
    report.n_importance += weights != nullptr ? 1 : 0;
    // Converted while the file is written, straight from the input's mapping (rows HF ordered
    // differently go through one reordered copy) into the writer's buffer.
    w.add_tensor(t.name, t.shape, type, gguf::Writer::Filler([&, type, weights](uint8_t* out) {
      if (t.rope_halves_heads > 0) {
        const std::vector<uint8_t> reordered = gguf_row_order(t);
        convert_rows_into(reordered.data(), t.type, type, t.rows(), t.cols(), out, pool, weights);
      } else {
        convert_rows_into(t.data, t.type, type, t.rows(), t.cols(), out, pool, weights);
      }
      read += t.n_bytes;
      if (o.progress) o.progress(++done, total, t.name, type, read, total_bytes);
    }));
    report.bytes_in += t.n_bytes;
    report.bytes_out += row_bytes(type, t.cols()) * static_cast<uint64_t>(t.rows());
    ++report.n_tensors;
  }
  w.write(out_path);
  return report;
}

QuantizeReport quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& o) {
  refuse_overwriting_input(in_path, out_path);
  return write_gguf(*open_model_file(in_path), out_path, o);
}

}  // namespace owl
