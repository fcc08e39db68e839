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
#include "tensor/dtype.h"

namespace owl::gguf {

// Metadata value types, numbered as in the file (gguf_metadata_value_type).
enum class ValueType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6,
  boolean = 7, string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
std::string_view value_type_name(ValueType t);

struct Value;
struct Array {
  ValueType elem = ValueType::u8;  // kept even when empty, for byte-identical round trips
  std::vector<Value> items;
};

// One metadata value. The variant index equals the ValueType number.
struct Value {
  std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string, Array,
               uint64_t, int64_t, double>
      v;

  ValueType type() const { return static_cast<ValueType>(v.index()); }
  bool is_integer() const;  // any of the 8 integer types
  bool is_float() const;    // f32 or f64
  // Conversions that throw owl::Error(what + reason) when the value does not fit.
  int64_t to_int(std::string_view what) const;
  uint64_t to_uint(std::string_view what) const;
  double to_double(std::string_view what) const;  // integers and floats
  const std::string& to_string(std::string_view what) const;
  const Array& to_array(std::string_view what) const;
  bool to_bool(std::string_view what) const;

  static Value string_array(const std::vector<std::string>& items);
  static Value f32_array(const std::vector<float>& items);
  static Value i32_array(const std::vector<int32_t>& items);
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order: shape.back() is GGUF ne[0], the contiguous dimension
  DType type = DType::f32;
  uint64_t offset = 0;         // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping

  int64_t rows() const;  // product of all dimensions but the last (1 for a vector)
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
};

class File {
 public:
  // Maps and parses path; throws owl::Error on any malformed content.
  static std::unique_ptr<File> open(const std::string& path);

  const std::string& path() const { return map_.path(); }
  // See MappedFile::drop_pages: for tensor data the process has copied and will not read again.
  void drop_pages(const void* p, size_t n) const { map_.drop_pages(p, n); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  // End of the header rounded up to the alignment. A file without tensors (vocab-only) may end before it.
  uint64_t data_offset() const { return data_offset_; }
  size_t file_size() const { return map_.size(); }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;
  // Typed getters: throw owl::Error "<file>: metadata '<key>': ..." when missing or of the wrong type.
  const Value& get(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  uint64_t get_uint(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const Array& get_array(std::string_view key) const;
  // Optional forms: nullopt when absent, owl::Error when present with the wrong type.
  std::optional<std::string> find_string(std::string_view key) const;
  std::optional<uint64_t> find_uint(std::string_view key) const;
  std::optional<double> find_float(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;
  const TensorInfo& tensor(std::string_view name) const;  // throws naming the file and tensor

 private:
  File() = default;
  MappedFile map_;
  uint32_t version_ = 3;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, size_t, std::less<>> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
  friend class Parser;
};

// Builds a GGUF file in memory order: metadata in insertion order, tensors in insertion order,
// each tensor's data aligned to general.alignment (default 32) and padded, as ggml writes them.
// A file without tensors ends right after its metadata (as gguf-py writes vocab-only files), so
// Writer::from(File::open(p)).write(q) reproduces standard-layout files of both kinds byte for byte.
class Writer {
 public:
  explicit Writer(uint32_t version = 3) : version_(version) {}
  // Copies version, metadata and tensors (by reference to the mapped data) from a file.
  static Writer from(const File& file);

  void set(std::string key, Value value);  // replaces an existing key in place
  void remove(std::string_view key);
  // data must stay valid until write(); its size must equal the tensor's byte size.
  void add_tensor(std::string name, std::vector<int64_t> shape, DType type, const void* data, size_t n_bytes);
  void add_tensor(std::string name, std::vector<int64_t> shape, DType type, std::vector<uint8_t> owned);
  // Data made at write() time, one tensor at a time, so converting a model never holds more than
  // one converted tensor in memory. produce() must return exactly the tensor's byte size.
  using Producer = std::function<std::vector<uint8_t>()>;
  void add_tensor(std::string name, std::vector<int64_t> shape, DType type, Producer produce);

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
    Producer produce;
  };
  uint32_t version_;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace owl::gguf
