// GGUF v2/v3 files: a memory-mapped reader and a writer (temporary name + rename).
// Mirrors the GGUF specification (ggml docs/gguf.md). Every size and offset read from a file is
// checked before use; errors are owl::Error naming the file and the field.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/mapped_file.h"
#include "formats/gguf_value.h"
#include "formats/model_file.h"
#include "tensor/dtype.h"

namespace owl::gguf {

using TensorInfo = owl::TensorInfo;

// A GGUF file as a model-file view, plus what only GGUF has (version, alignment, data offset).
class File : public ModelFile {
 public:
  // Maps and parses path; throws owl::Error on any malformed content.
  static std::unique_ptr<File> open(const std::string& path);

  std::string_view format() const override { return "gguf"; }
  std::string format_description() const override { return "GGUF v" + std::to_string(version_); }
  void drop_pages(const void* p, size_t n) const override { map_.drop_pages(p, n); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  // End of the header rounded up to the alignment. A file without tensors (vocab-only) may end before it.
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const override { return map_.size(); }
  uint64_t header_bytes() const override { return data_offset_; }

 private:
  File() = default;
  MappedFile map_;
  uint32_t version_ = 3;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  friend class Parser;
};

// Builds a GGUF file in memory order: metadata in insertion order, tensors in insertion order,
// each tensor's data aligned to general.alignment (default 32) and padded, as ggml writes them.
// A file without tensors ends right after its metadata (as gguf-py writes vocab-only files), so
// Writer::from(File::open(p)).write(q) reproduces standard-layout files of both kinds byte for byte.
class Writer {
 public:
  explicit Writer(uint32_t version = 3) : version_(version) {}
  // Copies metadata and tensors (by reference to the view's data) from any model-file view, and
  // the version from a GGUF file (3 otherwise).
  static Writer from(const ModelFile& file);

  void set(std::string key, Value value);  // replaces an existing key in place
  void remove(std::string_view key);
  // data must stay valid until write(); its size must equal the tensor's byte size.
  void add_tensor(std::string name, std::vector<int64_t> shape, DType type, const void* data, size_t n_bytes);
  void add_tensor(std::string name, std::vector<int64_t> shape, DType type, std::vector<uint8_t> owned);
  // Data made at write() time, one tensor at a time, so converting a model never holds more than
  // one converted tensor in memory. produce() must return exactly the tensor's byte size.
  using Producer = std::function<std::vector<uint8_t>()>;
  void add_tensor(std::string name, std::vector<int64_t> shape, DType type, Producer produce);
  // The same, written into a buffer of the tensor's byte size that the writer reuses from tensor to
  // tensor (no fresh memory per tensor: what a large conversion needs).
  using Filler = std::function<void(uint8_t* out)>;
  void add_tensor(std::string name, std::vector<int64_t> shape, DType type, Filler fill);

  // Writes to "<path>.tmp" and renames it over path; throws owl::Error on I/O failure.
  void write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    std::vector<int64_t> shape;
    DType type;
    const void* data;
    size_t n_bytes;
    std::shared_ptr<std::vector<uint8_t>> owned;
    Filler fill;  // set for the tensors made at write() time
  };
  uint32_t version_;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace owl::gguf
