// Safetensors reader and writer. The checks follow the reference Rust parser (huggingface/safetensors
// `SafeTensors::read_metadata` / `Metadata::validate`), plus stricter ones: unknown keys in an entry and
// duplicate names anywhere in the header are errors rather than silently ignored or overwritten.
#include "formats/safetensors.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
#include <set>
#include <utility>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/fp16.h"

namespace owl::safetensors {

// Tensor data is used in place, so the host must share the file's byte order.
static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference parser's limit (header bombs)

struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};

constexpr std::array<DTypeInfo, 15> kDTypes{{
    {DType::boolean, "BOOL", 1},
    {DType::u8, "U8", 1},
    {DType::i8, "I8", 1},
    {DType::f8_e4m3, "F8_E4M3", 1},
    {DType::f8_e5m2, "F8_E5M2", 1},
    {DType::i16, "I16", 2},
    {DType::u16, "U16", 2},
    {DType::f16, "F16", 2},
    {DType::bf16, "BF16", 2},
    {DType::i32, "I32", 4},
    {DType::u32, "U32", 4},
    {DType::f32, "F32", 4},
    {DType::f64, "F64", 8},
    {DType::i64, "I64", 8},
    {DType::u64, "U64", 8},
}};

const DTypeInfo& info(DType t) {
  for (const DTypeInfo& d : kDTypes)
    if (d.type == t) return d;
  fail("safetensors: invalid DType value {}", static_cast<int>(t));
}

std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  if (b != 0 && a > std::numeric_limits<uint64_t>::max() / b) return std::nullopt;
  return a * b;
}

// Bytes a tensor of this dtype and shape takes; nullopt for a negative dimension or on overflow.
std::optional<uint64_t> tensor_bytes(DType t, const std::vector<int64_t>& shape, uint64_t* n_elements = nullptr) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    const auto next = checked_mul(n, static_cast<uint64_t>(d));
    if (!next) return std::nullopt;
    n = *next;
  }
  if (n_elements != nullptr) *n_elements = n;
  return checked_mul(n, dtype_size(t));
}

std::string shape_string(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// Parses the header text. The callback rejects duplicate keys in any object (nlohmann would keep the last
// one silently) and nesting deeper than a valid header has (root > entry > shape element), so a header bomb
// of nested brackets stops early instead of building a huge DOM.
json parse_header(const std::string& path, std::string_view text) {
  constexpr int kMaxDepth = 3;
  std::array<std::set<std::string>, kMaxDepth + 1> keys_at_depth;  // keys of the object open at each depth
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) fail("{}: header nests deeper than {} levels", path, kMaxDepth);
    const auto d = static_cast<size_t>(depth);
    if (event == json::parse_event_t::object_start && d < kMaxDepth) {
      keys_at_depth[d + 1].clear();  // this object's keys arrive at depth + 1
    } else if (event == json::parse_event_t::key) {
      auto key = parsed.get<std::string>();
      if (!keys_at_depth[d].insert(key).second) fail("{}: header: duplicate key '{}'", path, key);
    }
    return true;
  };
  // nlohmann's lexer takes a NUL byte as the end of input, which would accept "{}\0<anything>".
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos)
    fail("{}: header is not valid UTF-8 JSON: NUL byte at offset {}", path, nul);
  json root;
  try {
    root = json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {
    fail("{}: header is not valid UTF-8 JSON: {}", path, e.what());
  }
  if (!root.is_object()) fail("{}: header is not a JSON object (it is {})", path, root.type_name());
  return root;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& value) {
  if (!value.is_object()) fail("{}: __metadata__ is not an object (it is {})", path, value.type_name());
  std::map<std::string, std::string> out;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) fail("{}: __metadata__ key '{}': value is not a string (it is {})", path, key, v.type_name());
    out.emplace(key, v.get<std::string>());
  }
  return out;
}

// Reads a non-negative integer that fits int64 (JSON floats such as 2.0 are refused, like serde's u64).
bool as_index(const json& v, uint64_t& out) {
  if (!v.is_number_unsigned()) return false;
  out = v.get<uint64_t>();
  return out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

[[noreturn]] void bad_tensor(const std::string& path, const std::string& name, std::string_view what) {
  fail("{}: tensor '{}': {}", path, name, what);
}

struct Entry {
  Tensor tensor;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& path, const std::string& name, const json& value) {
  const auto bad = [&](std::string_view what) { bad_tensor(path, name, what); };
  if (!value.is_object()) bad(fmt::format("entry is not an object (it is {})", value.type_name()));
  for (const auto& [key, v] : value.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets") bad(fmt::format("unknown key '{}'", key));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!value.contains(key)) bad(fmt::format("missing \"{}\"", key));

  Entry e;
  e.tensor.name = name;
  const json& dtype = value["dtype"];
  const auto t = dtype.is_string() ? dtype_from_name(dtype.get<std::string>()) : std::nullopt;
  if (!t) bad(fmt::format("unknown dtype {}", dtype.dump()));
  e.tensor.dtype = *t;

  const json& shape = value["shape"];
  if (!shape.is_array()) bad("shape is not an array");
  for (const json& d : shape) {
    uint64_t x = 0;
    if (!as_index(d, x)) bad(fmt::format("shape {} is not an array of non-negative integers", shape.dump()));
    e.tensor.shape.push_back(static_cast<int64_t>(x));
  }

  const json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !as_index(offsets[0], e.begin) || !as_index(offsets[1], e.end))
    bad(fmt::format("data_offsets {} is not [begin, end] of non-negative integers", offsets.dump()));
  if (e.begin > e.end) bad(fmt::format("data_offsets [{}, {}] end before they begin", e.begin, e.end));

  const auto n_bytes = tensor_bytes(e.tensor.dtype, e.tensor.shape, &e.tensor.n_elements);
  if (!n_bytes) bad(fmt::format("shape {} of {} overflows 64 bits", shape_string(e.tensor.shape), dtype.dump()));
  e.tensor.n_bytes = *n_bytes;
  if (e.end - e.begin != *n_bytes)
    bad(fmt::format("data_offsets [{}, {}] hold {} bytes, but shape {} of {} needs {}", e.begin, e.end, e.end - e.begin,
                    shape_string(e.tensor.shape), dtype_name(e.tensor.dtype), *n_bytes));
  return e;
}

}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const DTypeInfo& d : kDTypes)
    if (d.name == name) return d.type;
  return std::nullopt;
}

size_t dtype_size(DType t) { return info(t).size; }

// ---------------------------------------------------------------------------------------------------
// Reader

std::unique_ptr<File> File::open(const std::string& path) {
  std::unique_ptr<File> file(new File());
  file->map_ = MappedFile(path);
  const uint8_t* bytes = file->map_.data();
  const uint64_t size = file->map_.size();
  if (size < 8) fail("{}: {} bytes is too short for a safetensors file (needs an 8-byte header length)", path, size);

  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | bytes[i];
  if (n == 0) fail("{}: header length is 0", path);
  if (n > kMaxHeaderBytes) fail("{}: header length {} is over the {}-byte limit", path, n, kMaxHeaderBytes);
  if (n > size - 8) fail("{}: header length {} runs past the end of the file ({} bytes)", path, n, size);

  const json root = parse_header(path, std::string_view(reinterpret_cast<const char*>(bytes + 8), n));
  std::vector<Entry> entries;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__")
      file->metadata_ = parse_metadata(path, value);
    else
      entries.push_back(parse_entry(path, key, value));
  }

  // The buffer must be tiled exactly: offsets sorted by begin are contiguous from 0 to its end.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::pair(a.begin, a.end) < std::pair(b.begin, b.end); });
  const uint64_t buffer_size = size - 8 - n;
  const uint8_t* buffer = bytes + 8 + n;
  uint64_t expected = 0;
  for (Entry& e : entries) {
    const std::string& name = e.tensor.name;
    if (e.begin < expected)
      fail("{}: tensor '{}': data_offsets [{}, {}] overlap the previous tensor (ends at {})", path, name, e.begin,
           e.end, expected);
    if (e.begin > expected)
      fail("{}: tensor '{}': data_offsets [{}, {}] leave a gap of {} bytes after the previous tensor", path, name,
           e.begin, e.end, e.begin - expected);
    if (e.end > buffer_size)
      fail("{}: tensor '{}': data_offsets [{}, {}] run past the data buffer ({} bytes)", path, name, e.begin, e.end,
           buffer_size);
    e.tensor.data = buffer + e.begin;
    expected = e.end;
    file->index_.emplace(name, file->tensors_.size());
    file->tensors_.push_back(std::move(e.tensor));
  }
  if (expected != buffer_size)
    fail("{}: the data buffer is {} bytes but the tensors cover {} (trailing bytes)", path, buffer_size, expected);
  return file;
}

const Tensor* File::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

// ---------------------------------------------------------------------------------------------------
// Writer

void Writer::set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

void Writer::add(std::string name, DType dtype, std::vector<int64_t> shape, const void* data, size_t n_bytes) {
  entries_.push_back({std::move(name), dtype, std::move(shape), static_cast<const uint8_t*>(data), {}, {}, n_bytes});
}

void Writer::add(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> owned) {
  const uint64_t n = owned.size();
  entries_.push_back({std::move(name), dtype, std::move(shape), nullptr, std::move(owned), {}, n});
}

void Writer::add(std::string name, DType dtype, std::vector<int64_t> shape, Producer produce) {
  const uint64_t n = tensor_bytes(dtype, shape).value_or(0);
  entries_.push_back({std::move(name), dtype, std::move(shape), nullptr, {}, std::move(produce), n});
}

uint64_t Writer::data_bytes() const {
  uint64_t total = 0;
  for (const Entry& e : entries_) total += e.n_bytes;
  return total;
}

void Writer::write(const std::string& path) const {
  std::vector<const Entry*> order;
  for (const Entry& e : entries_) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) { return a->name < b->name; });

  json header = json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const Entry& e = *order[i];
    if (e.name == "__metadata__") fail("{}: '__metadata__' cannot be a tensor name", path);
    if (i > 0 && order[i - 1]->name == e.name) fail("{}: tensor '{}' is added twice", path, e.name);
    const auto need = tensor_bytes(e.dtype, e.shape);
    if (!need)
      fail("{}: tensor '{}': shape {} has a negative dimension or overflows", path, e.name, shape_string(e.shape));
    if (!e.produce && e.data == nullptr && e.n_bytes != e.owned.size())
      fail("{}: tensor '{}': {} bytes from a null pointer", path, e.name, e.n_bytes);
    if (!e.produce && e.n_bytes != *need)
      fail("{}: tensor '{}': {} bytes given, but shape {} of {} needs {}", path, e.name, e.n_bytes,
           shape_string(e.shape), dtype_name(e.dtype), *need);
    header[e.name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + *need}}};
    offset += *need;
  }

  std::string text;
  try {
    text = header.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    fail("{}: a tensor name or metadata string is not valid UTF-8: {}", path, e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data buffer starts 8-aligned

  atomic_write(path, [&](std::ostream& out) {
    char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<char>(static_cast<uint64_t>(text.size()) >> (8 * i));
    out.write(length, 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const Entry* e : order) {
      if (e->produce) {
        const std::vector<uint8_t> bytes = e->produce();
        if (bytes.size() != e->n_bytes)
          fail("{}: tensor '{}': producer gave {} bytes, but shape {} of {} needs {}", path, e->name, bytes.size(),
               shape_string(e->shape), dtype_name(e->dtype), e->n_bytes);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      } else {
        const uint8_t* data = e->data != nullptr ? e->data : e->owned.data();
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(e->n_bytes));
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Conversions

float f8_e4m3_to_f32(uint8_t v) {
  const int exp = (v >> 3) & 0xf;
  const int mant = v & 0x7;
  float mag;
  if (exp == 0xf && mant == 0x7)
    mag = std::numeric_limits<float>::quiet_NaN();  // E4M3FN spends the top code on NaN, so no infinity
  else if (exp == 0)
    mag = std::ldexp(static_cast<float>(mant), -9);  // subnormal: mant/8 * 2^(1-7)
  else
    mag = std::ldexp(static_cast<float>(8 + mant), exp - 10);  // (1 + mant/8) * 2^(exp-7)
  return (v & 0x80) != 0 ? -mag : mag;
}

// E5M2 has binary16's exponent field, so it is exactly the high byte of a half.
float f8_e5m2_to_f32(uint8_t v) { return fp16_to_fp32(static_cast<uint16_t>(v << 8)); }

void to_f32(DType t, const uint8_t* src, float* dst, size_t n) {
  const auto load = [src]<typename T>(size_t i, T) {
    T x;
    std::memcpy(&x, src + i * sizeof(T), sizeof(T));  // no alignment assumed
    return x;
  };
  switch (t) {
    case DType::f64:
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(load(i, 0.0));
      return;
    case DType::f32:
      if (n > 0) std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::f16:
      for (size_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(load(i, uint16_t{}));
      return;
    case DType::bf16:
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(load(i, uint16_t{}));
      return;
    case DType::f8_e4m3:
    case DType::f8_e5m2: {
      const auto table = [](float (*convert)(uint8_t)) {
        std::array<float, 256> out{};
        for (size_t i = 0; i < out.size(); ++i) out[i] = convert(static_cast<uint8_t>(i));
        return out;
      };
      static const std::array<float, 256> e4m3 = table(f8_e4m3_to_f32);
      static const std::array<float, 256> e5m2 = table(f8_e5m2_to_f32);
      const std::array<float, 256>& lut = t == DType::f8_e4m3 ? e4m3 : e5m2;
      for (size_t i = 0; i < n; ++i) dst[i] = lut[src[i]];
      return;
    }
    default:
      fail("to_f32: {} is not a floating-point dtype", dtype_name(t));
  }
}

}  // namespace owl::safetensors
