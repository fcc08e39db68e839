// libFuzzer harness for the safetensors reader (owl::safetensors::File::open): the input is written
// as a .safetensors file and parsed; accepted files have every tensor's bytes read, floating ones
// converted to float32 as the HF loader does, and go through a write + re-read round trip.
#include <cstring>
#include <vector>

#include "base/error.h"
#include "formats/safetensors.h"
#include "fuzz_common.h"

namespace {

namespace st = owl::safetensors;

bool is_float(st::DType t) {
  switch (t) {
    case st::DType::f64:
    case st::DType::f32:
    case st::DType::f16:
    case st::DType::bf16:
    case st::DType::f8_e4m3:
    case st::DType::f8_e5m2:
      return true;
    default:
      return false;
  }
}

void exercise(const st::File& f) {
  const uint8_t* prev_end = nullptr;
  std::vector<float> values;
  for (const st::Tensor& t : f.tensors()) {
    OWL_FUZZ_CHECK(f.find(t.name) == &t);
    OWL_FUZZ_CHECK(t.name != "__metadata__");
    uint64_t n = 1;
    for (int64_t d : t.shape) {
      OWL_FUZZ_CHECK(d >= 0);
      n *= static_cast<uint64_t>(d);
    }
    OWL_FUZZ_CHECK(n == t.n_elements);
    OWL_FUZZ_CHECK(t.n_bytes == n * st::dtype_size(t.dtype));
    OWL_FUZZ_CHECK(st::dtype_from_name(st::dtype_name(t.dtype)) == t.dtype);
    // Sorted by offset and tiling the buffer: each tensor starts where the previous one ended.
    OWL_FUZZ_CHECK(prev_end == nullptr || t.data == prev_end);
    prev_end = t.data + t.n_bytes;
    owl::fuzz::keep(owl::fuzz::touch(t.data, t.n_bytes));
    if (is_float(t.dtype)) {
      values.resize(static_cast<size_t>(t.n_elements));
      st::to_f32(t.dtype, t.data, values.data(), values.size());
      owl::fuzz::keep(values.data());
    } else {
      try {
        st::to_f32(t.dtype, t.data, nullptr, 0);
        owl::fuzz::violated("to_f32 accepted an integer dtype");
      } catch (const owl::Error&) {
      }
    }
  }
  for (const auto& [key, value] : f.metadata()) owl::fuzz::keep(key.size() + value.size());
}

// What the reader accepted, the writer must write and the reader read back to the same tensors.
void round_trip(const st::File& f, const std::string& path) {
  st::Writer w;
  for (const auto& [key, value] : f.metadata()) w.set_metadata(key, value);
  for (const st::Tensor& t : f.tensors()) w.add(t.name, t.dtype, t.shape, t.data, t.n_bytes);
  w.write(path);
  const auto g = st::File::open(path);
  OWL_FUZZ_CHECK(g->metadata() == f.metadata());
  OWL_FUZZ_CHECK(g->tensors().size() == f.tensors().size());
  for (const st::Tensor& a : f.tensors()) {
    const st::Tensor* b = g->find(a.name);
    OWL_FUZZ_CHECK(b != nullptr);
    OWL_FUZZ_CHECK(b->dtype == a.dtype && b->shape == a.shape && b->n_bytes == a.n_bytes);
    OWL_FUZZ_CHECK(a.n_bytes == 0 || std::memcmp(a.data, b->data, a.n_bytes) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string input = owl::fuzz::scratch_path("input.safetensors");
  static const std::string copy = owl::fuzz::scratch_path("copy.safetensors");
  return owl::fuzz::check_reader(
      data, size, input, copy, [](const std::string& path) { return st::File::open(path); },
      [](const auto& file) { exercise(file); }, [](const auto& file, const std::string& out) { round_trip(file, out); });
}
