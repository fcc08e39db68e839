// The one model-file view: metadata by GGUF key and tensors by GGUF name, dtype, shape and bytes,
// with no architecture knowledge. A GGUF file, a Hugging Face directory and an MLX directory are
// implementations of it (formats/gguf.h, models/model_source.h assembles the other two).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/gguf_value.h"
#include "tensor/dtype.h"

namespace owl {

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order: shape.back() is GGUF ne[0], the contiguous dimension
  DType type = DType::f32;
  uint64_t offset = 0;         // GGUF: from the start of the data section; other views: 0
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into a mapping, or into memory the view owns
  // Multiply with float32 activations, never quantized ones: MLX's affine modules, whose format
  // promises scale·q + bias times the activations as they are.
  bool float_activations = false;
  // > 0: the rows (a q or k projection, or its bias) are in Hugging Face's rotate-half order per
  // head, this many heads, where GGUF has adjacent RoPE pairs. Kept so, the weights stay in the
  // mapping: the decoder rotates halves instead, writers put the rows in GGUF order.
  int64_t rope_halves_heads = 0;

  int64_t rows() const;  // product of all dimensions but the last (1 for a vector)
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
};

class ModelFile {
 public:
  virtual ~ModelFile() = default;
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;

  // The file or directory the view was read from (named in every error message).
  const std::string& path() const { return path_; }
  // "gguf", "hf" (Hugging Face safetensors directory) or "mlx" (MLX quantized directory).
  virtual std::string_view format() const = 0;
  // For people: "GGUF v3", "Hugging Face directory", "MLX directory".
  virtual std::string format_description() const;
  // Bytes on disk: the file, or the weight files of a directory.
  virtual uint64_t file_size() const = 0;
  // Bytes of that before the tensor data (a GGUF header); 0 where headers are not mapped with the weights.
  virtual uint64_t header_bytes() const { return 0; }
  // See MappedFile::drop_pages: for tensor data the process has copied and will not read again.
  virtual void drop_pages(const void* p, size_t n) const { (void)p, (void)n; }

  const std::vector<std::pair<std::string, gguf::Value>>& metadata() const { return metadata_; }
  const gguf::Value* find(std::string_view key) const;
  // Typed getters: throw owl::Error "<path>: metadata '<key>': ..." when missing or of the wrong type.
  const gguf::Value& get(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  uint64_t get_uint(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const gguf::Array& get_array(std::string_view key) const;
  // Optional forms: nullopt when absent, owl::Error when present with the wrong type.
  std::optional<std::string> find_string(std::string_view key) const;
  std::optional<uint64_t> find_uint(std::string_view key) const;
  std::optional<double> find_float(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // Every tensor's element count, summed: the model's parameters.
  uint64_t parameter_count() const {
    uint64_t n = 0;
    for (const TensorInfo& t : tensors_) n += t.n_elements;
    return n;
  }
  const TensorInfo* find_tensor(std::string_view name) const;
  const TensorInfo& tensor(std::string_view name) const;  // throws naming the path and tensor

 protected:
  ModelFile() = default;
  // Both return false (and change nothing) when the key or name is already present.
  bool add_metadata(std::string key, gguf::Value value);
  bool replace_metadata(std::string_view key, gguf::Value value);
  bool add_tensor(TensorInfo t);
  void set_path(std::string path) { path_ = std::move(path); }

 protected:  // the GGUF parser fills these directly
  std::string path_;
  std::vector<std::pair<std::string, gguf::Value>> metadata_;
  std::map<std::string, size_t, std::less<>> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// A view assembled in memory from other sources (a Hugging Face or MLX directory): tensors point
// into mappings or buffers that the view keeps alive.
class AssembledModelFile : public ModelFile {
 public:
  AssembledModelFile(std::string path, std::string format) : format_(std::move(format)) { set_path(std::move(path)); }
  std::string_view format() const override { return format_; }
  uint64_t file_size() const override { return file_size_; }
  void set_file_size(uint64_t bytes) { file_size_ = bytes; }

  // Adds or replaces a metadata value.
  void set(std::string key, gguf::Value value);
  // Adds a tensor; owl::Error when the name is taken or the byte count does not match.
  void add(TensorInfo t);
  // Keeps an object (a mapping, a buffer) alive as long as the view.
  void keep(std::shared_ptr<const void> owner) { owners_.push_back(std::move(owner)); }
  // Takes a buffer and returns where its bytes now live.
  const uint8_t* own(std::vector<uint8_t> bytes);

 private:
  std::string format_;
  uint64_t file_size_ = 0;
  std::vector<std::shared_ptr<const void>> owners_;
};

}  // namespace owl
