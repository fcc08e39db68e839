// LoRA merge (tools/merge.h): the base rows dequantized to float32, B·A added with its products
// summed in double, and the result stored in the view.
#include "tools/merge.h"

#include <cstring>
#include <map>

#include "base/error.h"
#include "base/thread_pool.h"
#include "models/lora_files.h"
#include "tensor/quant.h"
#include "tools/tensor_convert.h"

namespace owl {

std::unique_ptr<ModelFile> merged_view(const Model& model, const std::vector<ScaledAdapter>& adapters, bool keep_types) {
  const ModelFile& in = model.file();
  auto out = std::make_unique<AssembledModelFile>(in.path(), std::string(in.format()));
  out->set_file_size(in.file_size());
  for (const auto& [key, value] : in.metadata()) out->set(key, value);
  // The merged float32 rows of every adapted tensor, by name.
  std::map<std::string, std::vector<float>> merged;
  ThreadPool pool(0);
  for (const ScaledAdapter& s : adapters) {
    for (const LoraModule& m : s.adapter.modules) {
      const std::string name = lora_files::gguf_weight_name(m.layer, m.target);
      const TensorInfo* t = in.find_tensor(name);
      if (t == nullptr) fail("{}: no tensor {} to merge into (fused projections are not supported yet)", in.path(), name);
      if (t->rows() != m.out || t->cols() != m.in) fail("{}: the adapter's {} is {} x {}, the tensor {} x {}", in.path(), name, m.out, m.in, t->rows(), t->cols());
      std::vector<float>& w = merged[name];
      if (w.empty()) {
        w.resize(static_cast<size_t>(m.out * m.in));
        const std::vector<uint8_t> f = convert_rows(t->data, t->type, DType::f32, t->rows(), t->cols(), pool);
        std::memcpy(w.data(), f.data(), f.size());
      }
      const double scale = static_cast<double>(s.adapter.scale(m.rank)) * s.scale;
      pool.parallel_for(m.out, [&](int64_t o0, int64_t o1, int) {
        for (int64_t o = o0; o < o1; ++o) {
          for (int64_t i = 0; i < m.in; ++i) {
            double sum = 0.0;
            for (int64_t j = 0; j < m.rank; ++j) sum += static_cast<double>(m.b[o * m.rank + j]) * m.a[j * m.in + i];
            w[static_cast<size_t>(o * m.in + i)] += static_cast<float>(scale * sum);
          }
        }
      });
    }
  }
  for (const TensorInfo& t : in.tensors()) {
    const auto it = merged.find(t.name);
    if (it == merged.end()) {
      out->add(t);
      continue;
    }
    TensorInfo m = t;
    const DType type = keep_types ? t.type : DType::f32;
    std::vector<uint8_t> bytes = convert_rows(it->second.data(), DType::f32, type, t.rows(), t.cols(), pool);
    m.type = type;
    m.n_bytes = bytes.size();
    m.offset = 0;
    m.float_activations = false;
    m.data = out->own(std::move(bytes));
    out->add(std::move(m));
  }
  return out;
}

}  // namespace owl
