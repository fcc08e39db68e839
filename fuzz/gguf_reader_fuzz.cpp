// libFuzzer harness for the GGUF reader (owl::gguf::File::open): the input is written as a .gguf file
// and parsed; an accepted file has its metadata read through every getter, each tensor's bytes read
// and first row dequantized, the family spec built (owl::spec_from_gguf), and a write + re-read round trip.
#include <cmath>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "formats/gguf.h"
#include "fuzz_common.h"
#include "models/registry.h"
#include "models/spec.h"
#include "tensor/quant.h"

namespace {

using owl::gguf::Value;
using owl::gguf::ValueType;

// Every conversion of a value; owl::Error is the expected answer of the ones that do not fit.
// Exceptions are slow, so array items beyond the first two and the last get the type check only.
void visit(const Value& v, int depth) {
  OWL_FUZZ_CHECK(depth <= 9);  // the reader refuses arrays nested deeper than 8 levels
  owl::fuzz::keep(owl::gguf::value_type_name(v.type()));
  owl::fuzz::keep(v.is_integer() != v.is_float());
  const auto attempt = [](auto&& f) {
    try {
      f();
    } catch (const owl::Error&) {
    }
  };
  attempt([&] { owl::fuzz::keep(v.to_int("fuzz")); });
  attempt([&] { owl::fuzz::keep(v.to_uint("fuzz")); });
  attempt([&] { owl::fuzz::keep(v.to_double("fuzz")); });
  attempt([&] { owl::fuzz::keep(v.to_string("fuzz").size()); });
  attempt([&] { owl::fuzz::keep(v.to_bool("fuzz")); });
  if (const auto* a = std::get_if<owl::gguf::Array>(&v.v)) {
    OWL_FUZZ_CHECK(&v.to_array("fuzz") == a);
    for (size_t i = 0; i < a->items.size(); ++i) {
      OWL_FUZZ_CHECK(a->items[i].type() == a->elem);
      if (i < 2 || i + 1 == a->items.size()) visit(a->items[i], depth + 1);
    }
  } else {
    attempt([&] { owl::fuzz::keep(v.to_array("fuzz").items.size()); });
  }
}

// Bitwise equality of two values (NaN payloads included), for the round trip.
bool same(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b.v);
        if constexpr (std::is_same_v<T, owl::gguf::Array>) {
          if (x.elem != y.elem || x.items.size() != y.items.size()) return false;
          for (size_t i = 0; i < x.items.size(); ++i)
            if (!same(x.items[i], y.items[i])) return false;
          return true;
        } else if constexpr (std::is_floating_point_v<T>) {
          return std::memcmp(&x, &y, sizeof(T)) == 0;
        } else {
          return x == y;
        }
      },
      a.v);
}

void exercise(const owl::gguf::File& f) {
  OWL_FUZZ_CHECK(f.version() == 2 || f.version() == 3);
  OWL_FUZZ_CHECK(f.alignment() > 0 && (f.alignment() & (f.alignment() - 1)) == 0);
  OWL_FUZZ_CHECK(f.data_offset() % f.alignment() == 0);
  for (const auto& [key, value] : f.metadata()) {
    OWL_FUZZ_CHECK(f.find(key) == &value);  // keys are unique
    visit(value, 0);
  }
  // The lookups a model load starts with.
  try {
    owl::fuzz::keep(f.find_string("general.architecture"));
    owl::fuzz::keep(f.find_uint("general.alignment"));
    owl::fuzz::keep(f.find_float("general.file_type"));
    owl::fuzz::keep(f.find_bool("tokenizer.ggml.add_bos_token"));
  } catch (const owl::Error&) {
  }

  std::vector<float> row;
  for (const owl::TensorInfo& t : f.tensors()) {
    OWL_FUZZ_CHECK(f.find_tensor(t.name) == &t);
    OWL_FUZZ_CHECK(t.shape.size() <= 4);
    uint64_t n = 1;
    for (int64_t d : t.shape) {
      OWL_FUZZ_CHECK(d > 0);
      n *= static_cast<uint64_t>(d);
    }
    OWL_FUZZ_CHECK(n == t.n_elements);
    const owl::DTypeTraits& traits = owl::dtype_traits(t.type);
    OWL_FUZZ_CHECK(t.cols() % traits.block_size == 0);
    OWL_FUZZ_CHECK(t.n_bytes == n / static_cast<uint64_t>(traits.block_size) * traits.block_bytes);
    OWL_FUZZ_CHECK(t.offset % f.alignment() == 0);
    OWL_FUZZ_CHECK(f.data_offset() + t.offset + t.n_bytes <= f.file_size());
    owl::fuzz::keep(owl::fuzz::touch(t.data, t.n_bytes));
    // The first row, as the weight binder converts it (bounded: at most 64 Ki values).
    const int64_t cols = t.cols();
    if (cols <= (int64_t{1} << 16)) {
      row.resize(static_cast<size_t>(cols));
      owl::dequantize_row(t.type, t.data, row.data(), cols);
      owl::fuzz::keep(row.data());
    }
  }
  // What loading it as a model does next: the family's spec from the metadata.
  try {
    const owl::ModelSpec spec = owl::spec_from_gguf(f);
    OWL_FUZZ_CHECK(spec.layers.size() == static_cast<size_t>(spec.n_layer));
  } catch (const owl::Error& e) {
    owl::fuzz::refused(e);
  }
}

// What the reader accepted, the writer must write and the reader read back identically.
void round_trip(const owl::gguf::File& f, const std::string& path) {
  owl::gguf::Writer::from(f).write(path);
  const auto g = owl::gguf::File::open(path);
  OWL_FUZZ_CHECK(g->version() == f.version());
  OWL_FUZZ_CHECK(g->metadata().size() == f.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    OWL_FUZZ_CHECK(g->metadata()[i].first == f.metadata()[i].first);
    OWL_FUZZ_CHECK(same(g->metadata()[i].second, f.metadata()[i].second));
  }
  OWL_FUZZ_CHECK(g->tensors().size() == f.tensors().size());
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const owl::TensorInfo &a = f.tensors()[i], &b = g->tensors()[i];
    OWL_FUZZ_CHECK(a.name == b.name && a.shape == b.shape && a.type == b.type && a.n_bytes == b.n_bytes);
    OWL_FUZZ_CHECK(a.n_bytes == 0 || std::memcmp(a.data, b.data, a.n_bytes) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string input = owl::fuzz::scratch_path("input.gguf");
  static const std::string copy = owl::fuzz::scratch_path("copy.gguf");
  return owl::fuzz::check_reader(
      data, size, input, copy, [](const std::string& path) { return owl::gguf::File::open(path); },
      [](const auto& file) { exercise(file); }, [](const auto& file, const std::string& out) { round_trip(file, out); });
}
