// GGUF metadata values: type names and checked conversions (owl::gguf::Value).
// Type numbers and names follow the GGUF specification (ggml docs/gguf.md, gguf_metadata_value_type).
#include <array>
#include <limits>

#include "base/error.h"
#include "formats/gguf.h"

namespace owl::gguf {

std::string_view value_type_name(ValueType t) {
  static constexpr std::array<std::string_view, 13> kNames{
      "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

namespace {

// The type of a value for messages: "string", "array of u32".
std::string describe(const Value& value) {
  if (const auto* a = std::get_if<Array>(&value.v)) return fmt::format("array of {}", value_type_name(a->elem));
  return std::string(value_type_name(value.type()));
}

}  // namespace

bool Value::is_integer() const {
  switch (type()) {
    case ValueType::u8: case ValueType::i8: case ValueType::u16: case ValueType::i16:
    case ValueType::u32: case ValueType::i32: case ValueType::u64: case ValueType::i64:
      return true;
    default:
      return false;
  }
}

bool Value::is_float() const { return type() == ValueType::f32 || type() == ValueType::f64; }

int64_t Value::to_int(std::string_view what) const {
  if (!is_integer()) fail("{}: expected an integer, got {}", what, describe(*this));
  if (const auto* u = std::get_if<uint64_t>(&v)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail("{}: value {} does not fit in a signed 64-bit integer", what, *u);
    }
    return static_cast<int64_t>(*u);
  }
  return std::visit(
      [](const auto& x) -> int64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return static_cast<int64_t>(x);
        return 0;  // unreachable: checked by is_integer()
      },
      v);
}

uint64_t Value::to_uint(std::string_view what) const {
  if (!is_integer()) fail("{}: expected an unsigned integer, got {}", what, describe(*this));
  return std::visit(
      [&](const auto& x) -> uint64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          if constexpr (std::is_signed_v<T>) {
            if (x < 0) fail("{}: expected an unsigned integer, got {}", what, static_cast<int64_t>(x));
          }
          return static_cast<uint64_t>(x);
        }
        return 0;  // unreachable: checked by is_integer()
      },
      v);
}

double Value::to_double(std::string_view what) const {
  if (const auto* f = std::get_if<float>(&v)) return *f;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (!is_integer()) fail("{}: expected a number, got {}", what, describe(*this));
  if (const auto* u = std::get_if<uint64_t>(&v)) return static_cast<double>(*u);
  return static_cast<double>(to_int(what));
}

const std::string& Value::to_string(std::string_view what) const {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  fail("{}: expected a string, got {}", what, describe(*this));
}

const Array& Value::to_array(std::string_view what) const {
  if (const auto* a = std::get_if<Array>(&v)) return *a;
  fail("{}: expected an array, got {}", what, describe(*this));
}

bool Value::to_bool(std::string_view what) const {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  fail("{}: expected a bool, got {}", what, describe(*this));
}

namespace {

template <typename T>
Value make_array(ValueType elem, const std::vector<T>& items) {
  Array a;
  a.elem = elem;
  a.items.reserve(items.size());
  for (const T& x : items) a.items.push_back(Value{x});
  return Value{std::move(a)};
}

}  // namespace

Value Value::string_array(const std::vector<std::string>& items) { return make_array(ValueType::string, items); }
Value Value::f32_array(const std::vector<float>& items) { return make_array(ValueType::f32, items); }
Value Value::i32_array(const std::vector<int32_t>& items) { return make_array(ValueType::i32, items); }


}  // namespace owl::gguf
