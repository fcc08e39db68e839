// owl quantize: every tensor is dequantised to float32 rows and re-quantised with the reference
// quantizer (tensor/quant.h) on the thread pool, while the output is written (atomically).
#include "tools/quantize.h"

#include "base/error.h"
#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "tools/tensor_convert.h"

namespace owl {

QuantizeReport quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& o) {
  const auto in = gguf::File::open(in_path);
  gguf::Writer w(in->version());
  for (const auto& [key, value] : in->metadata()) w.set(key, value);
  const int32_t ft = gguf_file_type(o.type);
  if (ft >= 0) {
    w.set("general.file_type", {static_cast<uint32_t>(ft)});
  } else {
    w.remove("general.file_type");
  }
  w.set("general.quantized_by", {std::string("owl")});

  ThreadPool pool(o.n_threads);
  QuantizeReport report;
  const size_t total = in->tensors().size();
  size_t done = 0;
  for (const gguf::TensorInfo& t : in->tensors()) {
    const DType type = storage_type(o.type, t.shape);
    if (t.shape.size() >= 2 && type != o.type) ++report.n_fallback;
    // Converted while the file is written: one tensor in memory at a time.
    w.add_tensor(t.name, t.shape, type, [&, type] {
      std::vector<uint8_t> bytes = convert_rows(t.data, t.type, type, t.rows(), t.cols(), pool);
      if (o.progress) o.progress(++done, total, t.name, type);
      return bytes;
    });
    report.bytes_in += t.n_bytes;
    report.bytes_out += row_bytes(type, t.cols()) * static_cast<uint64_t>(t.rows());
    ++report.n_tensors;
  }
  w.write(out_path);
  return report;
}

}  // namespace owl
