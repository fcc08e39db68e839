// Safetensors files: a memory-mapped, fully validated reader and a writer (temporary name + rename).
// Mirrors the huggingface/safetensors format: 8-byte little-endian header length N, N bytes of UTF-8 JSON
// ({name: {dtype, shape, data_offsets}}, optional "__metadata__"), then the byte buffer the offsets index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"

namespace owl::safetensors {

enum class DType { boolean, u8, i8, f8_e4m3, f8_e5m2, i16, u16, f16, bf16, i32, u32, f32, f64, i64, u64 };

std::string_view dtype_name(DType t);  // the header spelling: "BOOL", "U8", ..., "F8_E4M3", "BF16", ...
std::optional<DType> dtype_from_name(std::string_view name);
size_t dtype_size(DType t);  // bytes per element

struct Tensor {
  std::string name;
  DType dtype = DType::u8;
  std::vector<int64_t> shape;  // as stored (PyTorch order)
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping (zero-copy); valid while the File lives
};

class File {
 public:
  // Maps path and checks everything the reference parser checks; throws owl::Error "<path>: ..."
  // naming the tensor or key at fault.
  static std::unique_ptr<File> open(const std::string& path);

  const std::string& path() const { return map_.path(); }
  const std::vector<Tensor>& tensors() const { return tensors_; }                   // sorted by data offset
  const Tensor* find(std::string_view name) const;                                  // nullptr when absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }  // "__metadata__"
  void drop_pages(const void* p, size_t n) const { map_.drop_pages(p, n); }
  size_t file_size() const { return map_.size(); }

 private:
  File() = default;
  MappedFile map_;
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// Builds a file: tensors written in the order of their sorted names, contiguous, no gaps; the header
// JSON is padded with spaces so the data buffer starts at a multiple of 8; written atomically.
class Writer {
 public:
  void set_metadata(std::string key, std::string value);
  // data must outlive write().
  void add(std::string name, DType dtype, std::vector<int64_t> shape, const void* data, size_t n_bytes);
  void add(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> owned);
  using Producer = std::function<std::vector<uint8_t>()>;  // called at write(), one tensor at a time
  void add(std::string name, DType dtype, std::vector<int64_t> shape, Producer produce);

  uint64_t data_bytes() const;  // total tensor bytes
  // Refuses duplicate names, bad shapes and size mismatches (a producer's included) with owl::Error.
  void write(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;  // borrowed, or owned.data()
    std::vector<uint8_t> owned;
    Producer produce;
    uint64_t n_bytes = 0;  // as given; for a producer, shape x dtype size (0 when that is invalid)
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// F8 conversions (exact: every F8 value is representable in float32).
float f8_e4m3_to_f32(uint8_t v);  // E4M3FN: bias 7, no infinities, 0x7F/0xFF are NaN
float f8_e5m2_to_f32(uint8_t v);  // E5M2: bias 15, IEEE-like with inf/NaN

// Converts n elements of a floating dtype (F64, F32, F16, BF16, F8_*) to float32; src needs no
// alignment. Throws owl::Error for integer and bool dtypes.
void to_f32(DType t, const uint8_t* src, float* dst, size_t n);

}  // namespace owl::safetensors
