// GGUF metadata values (owl::gguf::Value): the value types of the GGUF specification (ggml
// docs/gguf.md, gguf_metadata_value_type). Every model-file view speaks them, whatever its format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

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

}  // namespace owl::gguf
