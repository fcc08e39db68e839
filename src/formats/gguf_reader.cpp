// GGUF v2/v3 reader: parses a memory-mapped file into metadata and tensor views, checking every
// count, length, type, dimension and offset before use. Mirrors the GGUF specification (ggml docs/gguf.md).
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "base/error.h"
#include "formats/gguf.h"

namespace owl::gguf {

namespace {

constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;        // arrays of arrays nested deeper than this are rejected
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;           // key length, value type, smallest value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

// Fewest bytes one value of type t occupies in the file.
uint64_t min_value_bytes(ValueType t) {
  switch (t) {
    case ValueType::u8: case ValueType::i8: case ValueType::boolean: return 1;
    case ValueType::u16: case ValueType::i16: return 2;
    case ValueType::u32: case ValueType::i32: case ValueType::f32: return 4;
    case ValueType::u64: case ValueType::i64: case ValueType::f64: case ValueType::string: return 8;  // (string: its length)
    case ValueType::array: return 4 + 8;   // element type and length
  }
  return 1;
}

// A name from the file, made safe to print: control and non-ASCII bytes escaped, long names cut.
std::string printable(std::string_view s) {
  std::string out;
  const size_t n = std::min<size_t>(s.size(), 80);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > n) out += "...";
  return out;
}

}  // namespace

class Parser {
 public:
  explicit Parser(File& file) : file_(file), base_(file.map_.data()), size_(file.map_.size()) {}

  void parse() {
    parse_header();
    file_.metadata_.reserve(static_cast<size_t>(kv_count_));
    for (uint64_t i = 0; i < kv_count_; ++i) parse_kv(i);
    parse_alignment();
    file_.tensors_.reserve(static_cast<size_t>(tensor_count_));
    for (uint64_t i = 0; i < tensor_count_; ++i) parse_tensor_info(i);
    place_tensors();
  }

 private:
  enum class Section { header, metadata, tensors };

  // ---- error reporting: "<path>: <where>: <message>" --------------------------------------------

  std::string where() const {
    switch (section_) {
      case Section::header:
        return "header";
      case Section::metadata: {
        std::string w = fmt::format("metadata key #{}", index_);
        if (have_name_) w += fmt::format(" '{}'", printable(name_));
        for (uint64_t e : element_path_) w += fmt::format(" [element {}]", e);
        return w;
      }
      case Section::tensors: {
        std::string w = fmt::format("tensor #{}", index_);
        if (have_name_) w += fmt::format(" '{}'", printable(name_));
        return w;
      }
    }
    return "";
  }

  template <typename... Args>
  [[noreturn]] void error(fmt::format_string<Args...> format, Args&&... args) const {
    fail("{}: {}: {}", file_.path(), where(), fmt::format(format, std::forward<Args>(args)...));
  }

  // ---- primitive reads ----------------------------------------------------------------------------

  uint64_t left() const { return size_ - pos_; }

  void need(uint64_t n, std::string_view field) const {
    if (n > left()) {
      error("file truncated reading {} at offset {} ({} bytes needed, {} left)", field, pos_, n, left());
    }
  }

  template <typename T>
  T read(std::string_view field) {
    need(sizeof(T), field);
    T x;
    std::memcpy(&x, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return x;
  }

  // A u64 length followed by that many bytes. field names the length ("string length", "key length").
  std::string read_string(std::string_view field) {
    const auto len = read<uint64_t>(field);
    if (len > left()) error("{} {} exceeds the {} bytes left", field, len, left());
    std::string s(reinterpret_cast<const char*>(base_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

  ValueType read_value_type(std::string_view field) {
    const auto raw = read<uint32_t>(field);
    if (raw > static_cast<uint32_t>(ValueType::f64)) error("unknown {} {}", field, raw);
    return static_cast<ValueType>(raw);
  }

  bool read_bool() {
    const auto b = read<uint8_t>("bool value");
    if (b > 1) error("invalid bool byte 0x{:02x} (must be 0 or 1)", b);
    return b == 1;
  }

  // ---- metadata -----------------------------------------------------------------------------------

  Value read_value(ValueType t, int depth) {
    switch (t) {
      case ValueType::u8: return Value{read<uint8_t>("u8 value")};
      case ValueType::i8: return Value{read<int8_t>("i8 value")};
      case ValueType::u16: return Value{read<uint16_t>("u16 value")};
      case ValueType::i16: return Value{read<int16_t>("i16 value")};
      case ValueType::u32: return Value{read<uint32_t>("u32 value")};
      case ValueType::i32: return Value{read<int32_t>("i32 value")};
      case ValueType::f32: return Value{read<float>("f32 value")};
      case ValueType::boolean: return Value{read_bool()};
      case ValueType::string: return Value{read_string("string length")};
      case ValueType::array: return Value{read_array(depth + 1)};
      case ValueType::u64: return Value{read<uint64_t>("u64 value")};
      case ValueType::i64: return Value{read<int64_t>("i64 value")};
      case ValueType::f64: return Value{read<double>("f64 value")};
    }
    error("unknown value type {}", static_cast<uint32_t>(t));
  }

  template <typename T>
  void read_fixed_items(Array& a, uint64_t count) {
    // The length was checked against the bytes left, so this cannot run past the mapping.
    for (uint64_t i = 0; i < count; ++i) {
      T x;
      std::memcpy(&x, base_ + pos_, sizeof(T));
      pos_ += sizeof(T);
      a.items.push_back(Value{x});
    }
  }

  Array read_array(int depth) {
    if (depth > kMaxArrayDepth) error("arrays nested deeper than {} levels", kMaxArrayDepth);
    Array a;
    a.elem = read_value_type("array element type");
    const auto count = read<uint64_t>("array length");
    const uint64_t each = min_value_bytes(a.elem);
    if (count > left() / each) {
      error("array length {} of {} (at least {} bytes each) exceeds the {} bytes left", count,
            value_type_name(a.elem), each, left());
    }
    a.items.reserve(static_cast<size_t>(count));
    switch (a.elem) {
      case ValueType::u8: read_fixed_items<uint8_t>(a, count); return a;
      case ValueType::i8: read_fixed_items<int8_t>(a, count); return a;
      case ValueType::u16: read_fixed_items<uint16_t>(a, count); return a;
      case ValueType::i16: read_fixed_items<int16_t>(a, count); return a;
      case ValueType::u32: read_fixed_items<uint32_t>(a, count); return a;
      case ValueType::i32: read_fixed_items<int32_t>(a, count); return a;
      case ValueType::f32: read_fixed_items<float>(a, count); return a;
      case ValueType::u64: read_fixed_items<uint64_t>(a, count); return a;
      case ValueType::i64: read_fixed_items<int64_t>(a, count); return a;
      case ValueType::f64: read_fixed_items<double>(a, count); return a;
      default: break;
    }
    // bool, string and nested arrays: element by element, with the element index in messages.
    element_path_.push_back(0);
    for (uint64_t i = 0; i < count; ++i) {
      element_path_.back() = i;
      a.items.push_back(read_value(a.elem, depth));
    }
    element_path_.pop_back();
    return a;
  }

  void parse_kv(uint64_t i) {
    section_ = Section::metadata;
    index_ = i;
    have_name_ = false;
    name_ = read_string("key length");
    have_name_ = true;
    if (auto it = file_.metadata_index_.find(name_); it != file_.metadata_index_.end()) {
      error("duplicate key (first defined as metadata key #{})", it->second);
    }
    const ValueType t = read_value_type("value type");
    Value v = read_value(t, 0);
    file_.metadata_index_.emplace(name_, file_.metadata_.size());
    file_.metadata_.emplace_back(name_, std::move(v));
  }

  void parse_alignment() {
    const auto it = file_.metadata_index_.find(std::string_view("general.alignment"));
    if (it == file_.metadata_index_.end()) return;
    section_ = Section::metadata;
    index_ = it->second;
    name_ = "general.alignment";
    have_name_ = true;
    const Value& v = file_.metadata_[it->second].second;
    const auto* a = std::get_if<uint32_t>(&v.v);
    if (a == nullptr) error("alignment must be a u32, got {}", value_type_name(v.type()));
    if (*a == 0 || (*a & (*a - 1)) != 0) error("alignment {} is not a nonzero power of two", *a);
    file_.alignment_ = *a;
  }

  // ---- tensor infos -------------------------------------------------------------------------------

  void parse_tensor_info(uint64_t i) {
    section_ = Section::tensors;
    index_ = i;
    have_name_ = false;
    TensorInfo t;
    t.name = read_string("name length");
    name_ = t.name;
    have_name_ = true;
    if (auto it = file_.tensor_index_.find(t.name); it != file_.tensor_index_.end()) {
      error("duplicate tensor name (first defined as tensor #{})", it->second);
    }
    const auto n_dims = read<uint32_t>("n_dims");
    if (n_dims > kMaxDims) error("n_dims {} exceeds {}", n_dims, kMaxDims);
    std::array<int64_t, kMaxDims> ne{};
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto raw = read<uint64_t>("dimension");
      if (raw == 0 || raw > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        error("dimension ne[{}] = {} must be positive", d, static_cast<int64_t>(raw));
      }
      if (__builtin_mul_overflow(n_elements, raw, &n_elements) ||
          n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        error("dimension ne[{}] = {}: element count overflows int64", d, raw);
      }
      ne[d] = static_cast<int64_t>(raw);
    }
    const auto raw_type = read<uint32_t>("type");
    const std::optional<DType> type = dtype_from_gguf(raw_type);
    if (!type) error("unknown tensor type {}", raw_type);
    t.type = *type;
    const DTypeTraits& traits = dtype_traits(t.type);
    const int64_t ne0 = n_dims > 0 ? ne[0] : 1;
    if (ne0 % traits.block_size != 0) {
      error("row size ne[0] = {} is not a multiple of the {} block size {}", ne0, traits.name, traits.block_size);
    }
    const uint64_t blocks = n_elements / static_cast<uint64_t>(traits.block_size);
    if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(traits.block_bytes), &t.n_bytes)) {
      error("byte size of {} {} values overflows", n_elements, traits.name);
    }
    t.offset = read<uint64_t>("offset");
    t.n_elements = n_elements;
    t.shape.assign(ne.rbegin() + (kMaxDims - n_dims), ne.rend());
    file_.tensor_index_.emplace(t.name, file_.tensors_.size());
    file_.tensors_.push_back(std::move(t));
  }

  // Data section: from the end of the header rounded up to the alignment. Checks each tensor's
  // offset and size against it and that no two tensors overlap.
  void place_tensors() {
    const uint64_t align = file_.alignment_;
    const uint64_t header_end = pos_;
    file_.data_offset_ = (header_end + align - 1) / align * align;  // header_end <= file size: no overflow
    auto& tensors = file_.tensors_;
    if (tensors.empty()) return;  // tensor-less files (vocab-only) may end right after the header
    section_ = Section::tensors;
    if (file_.data_offset_ > size_) {
      index_ = 0;
      name_ = tensors[0].name;
      have_name_ = true;
      error("data section would start at offset {}, past the end of the file ({} bytes)", file_.data_offset_, size_);
    }
    const uint64_t avail = size_ - file_.data_offset_;
    for (size_t i = 0; i < tensors.size(); ++i) {
      TensorInfo& t = tensors[i];
      index_ = i;
      name_ = t.name;
      have_name_ = true;
      if (t.offset % align != 0) error("offset {} is not a multiple of the alignment {}", t.offset, align);
      if (t.offset > avail || t.n_bytes > avail - t.offset) {
        error("data at offset {} + {} bytes runs past the end of the data section ({} bytes)", t.offset, t.n_bytes,
              avail);
      }
      t.data = base_ + file_.data_offset_ + t.offset;
    }
    std::vector<size_t> order(tensors.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
      const TensorInfo& prev = tensors[order[k - 1]];
      const TensorInfo& cur = tensors[order[k]];
      if (prev.offset + prev.n_bytes > cur.offset) {
        index_ = order[k];
        name_ = cur.name;
        error("data at offset {} overlaps tensor #{} '{}' (offset {}, {} bytes)", cur.offset, order[k - 1],
              printable(prev.name), prev.offset, prev.n_bytes);
      }
    }
  }

  // ---- header -------------------------------------------------------------------------------------

  void parse_header() {
    section_ = Section::header;
    if (size_ < 4) error("file too short for a GGUF magic ({} bytes)", size_);
    if (std::memcmp(base_, "GGUF", 4) != 0) {
      error("bad magic '{}' (expected 'GGUF'): not a GGUF file",
            printable(std::string_view(reinterpret_cast<const char*>(base_), 4)));
    }
    pos_ = 4;
    const auto version = read<uint32_t>("version");
    if (version == 1) error("GGUF version 1 is not supported (owl reads versions 2 and 3); re-convert the model");
    if (version == 0x02000000u || version == 0x03000000u) {
      error("version {:#x}: big-endian GGUF files are not supported", version);
    }
    if (version != 2 && version != 3) error("unsupported GGUF version {} (owl reads versions 2 and 3)", version);
    file_.version_ = version;
    tensor_count_ = read<uint64_t>("tensor_count");
    kv_count_ = read<uint64_t>("kv_count");
    if (kv_count_ > left() / kMinKvBytes) {
      error("kv_count {} is impossible: at least {} bytes each, {} bytes left", kv_count_, kMinKvBytes, left());
    }
    const uint64_t after_kv = left() - kv_count_ * kMinKvBytes;
    if (tensor_count_ > after_kv / kMinTensorInfoBytes) {
      error("tensor_count {} is impossible: at least {} bytes each, {} bytes left", tensor_count_,
            kMinTensorInfoBytes, after_kv);
    }
  }

  File& file_;
  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  // Where the parser is, for messages.
  Section section_ = Section::header;
  uint64_t index_ = 0;
  bool have_name_ = false;
  std::string name_;
  std::vector<uint64_t> element_path_;
};

// ---- File -----------------------------------------------------------------------------------------

std::unique_ptr<File> File::open(const std::string& path) {
  std::unique_ptr<File> file(new File());
  file->map_ = MappedFile(path);
  file->set_path(path);
  Parser(*file).parse();
  return file;
}

}  // namespace owl::gguf
