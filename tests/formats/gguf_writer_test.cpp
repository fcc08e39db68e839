// GGUF writer -> reader round trips built in memory: every metadata value type, nested arrays,
// several tensor types and shapes; write -> read -> write is byte-identical. Also Value conversions.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "test_files.h"
#include "base/atomic_write.h"
#include "base/error.h"
#include "formats/gguf.h"

namespace owl::gguf {
namespace {

// Deep equality; floats compared bit for bit (so NaN payloads and -0.0 count).
bool same(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  if (const auto* x = std::get_if<float>(&a.v)) return std::bit_cast<uint32_t>(*x) == std::bit_cast<uint32_t>(std::get<float>(b.v));
  if (const auto* x = std::get_if<double>(&a.v)) return std::bit_cast<uint64_t>(*x) == std::bit_cast<uint64_t>(std::get<double>(b.v));
  if (const auto* x = std::get_if<Array>(&a.v)) {
    const Array& y = std::get<Array>(b.v);
    if (x->elem != y.elem || x->items.size() != y.items.size()) return false;
    for (size_t i = 0; i < x->items.size(); ++i) {
      if (!same(x->items[i], y.items[i])) return false;
    }
    return true;
  }
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Array>) {
          return false;  // handled above
        } else {
          return x == std::get<T>(b.v);
        }
      },
      a.v);
}

Value array_of(ValueType elem, std::vector<Value> items) { return Value{Array{elem, std::move(items)}}; }

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

// Every scalar type at its edges, strings with odd bytes, arrays of every element type, nested arrays.
std::vector<std::pair<std::string, Value>> all_values() {
  std::vector<std::pair<std::string, Value>> m;
  m.emplace_back("general.architecture", Value{std::string("llama")});
  m.emplace_back("t.u8", Value{uint8_t{255}});
  m.emplace_back("t.i8", Value{int8_t{-128}});
  m.emplace_back("t.u16", Value{uint16_t{65535}});
  m.emplace_back("t.i16", Value{int16_t{-32768}});
  m.emplace_back("t.u32", Value{uint32_t{4000000000u}});
  m.emplace_back("t.i32", Value{int32_t{-2000000000}});
  m.emplace_back("t.f32", Value{-1.5e-30f});
  m.emplace_back("t.bool_true", Value{true});
  m.emplace_back("t.bool_false", Value{false});
  m.emplace_back("t.string", Value{std::string("h\xc3\xa9llo\n\0world", 13)});
  m.emplace_back("t.empty_string", Value{std::string()});
  m.emplace_back("t.u64", Value{std::numeric_limits<uint64_t>::max()});
  m.emplace_back("t.i64", Value{std::numeric_limits<int64_t>::min()});
  m.emplace_back("t.f64", Value{3.141592653589793});
  m.emplace_back("t.f32_nan", Value{std::bit_cast<float>(0x7fc01234u)});
  m.emplace_back("a.u8", array_of(ValueType::u8, {Value{uint8_t{0}}, Value{uint8_t{200}}}));
  m.emplace_back("a.i8", array_of(ValueType::i8, {Value{int8_t{-1}}}));
  m.emplace_back("a.u16", array_of(ValueType::u16, {Value{uint16_t{1}}, Value{uint16_t{2}}, Value{uint16_t{3}}}));
  m.emplace_back("a.i16", array_of(ValueType::i16, {Value{int16_t{-300}}}));
  m.emplace_back("a.u32", array_of(ValueType::u32, {Value{uint32_t{7}}}));
  m.emplace_back("a.i32", Value::i32_array({-1, 0, 1, 2147483647}));
  m.emplace_back("a.f32", Value::f32_array({0.5f, -0.0f, 1e30f}));
  m.emplace_back("a.bool", array_of(ValueType::boolean, {Value{true}, Value{false}, Value{true}}));
  m.emplace_back("a.string", Value::string_array({"<unk>", "", "\xe2\x96\x81the", std::string(300, 'x')}));
  m.emplace_back("a.u64", array_of(ValueType::u64, {Value{uint64_t{1} << 63}}));
  m.emplace_back("a.i64", array_of(ValueType::i64, {Value{int64_t{-5}}, Value{int64_t{5}}}));
  m.emplace_back("a.f64", array_of(ValueType::f64, {Value{1e300}, Value{-2.5}}));
  m.emplace_back("a.empty_f64", array_of(ValueType::f64, {}));  // element type kept when empty
  m.emplace_back("a.empty_string", array_of(ValueType::string, {}));
  m.emplace_back("n.strings", array_of(ValueType::array, {Value::string_array({"a", "b"}), Value::string_array({}),
                                                          Value::string_array({"c"})}));
  m.emplace_back("n.deep", array_of(ValueType::array,
                                    {array_of(ValueType::array, {Value::i32_array({1, 2}), Value::i32_array({3})}),
                                     array_of(ValueType::array, {})}));
  m.emplace_back("n.mixed_levels", array_of(ValueType::array, {array_of(ValueType::u8, {Value{uint8_t{9}}}),
                                                               array_of(ValueType::boolean, {})}));
  return m;
}

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  DType type;
};

const std::vector<TensorSpec>& tensor_specs() {
  static const std::vector<TensorSpec> specs{
      {"token_embd.weight", {3, 64}, DType::f32},        // 768 bytes
      {"norm.weight", {5}, DType::f16},                  // 10 bytes: padded to the alignment
      {"q4.weight", {2, 32}, DType::q4_0},               // 36 bytes
      {"q8.weight", {1, 2, 64}, DType::q8_0},            // 3-D
      {"k.weight", {2, 1, 1, 256}, DType::q4_k},         // 4-D, K-quant
      {"bf.weight", {7}, DType::bf16},
      {"q6.weight", {1, 256}, DType::q6_k},
  };
  return specs;
}

size_t bytes_of(const TensorSpec& t) {
  int64_t n = 1;
  for (int64_t d : t.shape) n *= d;
  return row_bytes(t.type, t.shape.back()) * static_cast<size_t>(n / t.shape.back());
}

Writer build(uint32_t version, std::optional<uint32_t> alignment) {
  Writer w(version);
  for (auto& [k, v] : all_values()) w.set(k, v);
  if (alignment) w.set("general.alignment", Value{*alignment});
  uint8_t seed = 1;
  for (const TensorSpec& t : tensor_specs()) w.add_tensor(t.name, t.shape, t.type, pattern(bytes_of(t), seed++));
  return w;
}

void check_file(const File& f, uint32_t version, uint64_t alignment) {
  EXPECT_EQ(f.version(), version);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  auto expected = all_values();
  size_t extra = f.find("general.alignment") != nullptr ? 1 : 0;
  ASSERT_EQ(f.metadata().size(), expected.size() + extra);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, expected[i].first);  // insertion order kept
    EXPECT_TRUE(same(f.metadata()[i].second, expected[i].second)) << expected[i].first;
    ASSERT_NE(f.find(expected[i].first), nullptr);
  }
  ASSERT_EQ(f.tensors().size(), tensor_specs().size());
  uint8_t seed = 1;
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < tensor_specs().size(); ++i) {
    const TensorSpec& s = tensor_specs()[i];
    const TensorInfo& t = f.tensors()[i];
    EXPECT_EQ(t.name, s.name);
    EXPECT_EQ(t.shape, s.shape);
    EXPECT_EQ(t.type, s.type);
    EXPECT_EQ(t.n_bytes, bytes_of(s));
    EXPECT_EQ(t.offset, expected_offset) << s.name;
    expected_offset += (t.n_bytes + alignment - 1) / alignment * alignment;
    EXPECT_EQ(t.data, reinterpret_cast<const uint8_t*>(f.tensors()[0].data) + t.offset);
    const auto want = pattern(bytes_of(s), seed++);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), t.data)) << s.name;
    EXPECT_EQ(&f.tensor(s.name), &t);
  }
  // ggml pads after every tensor, including the last.
  EXPECT_EQ(f.file_size(), f.data_offset() + expected_offset);
}

class GgufWriter : public ::testing::TestWithParam<std::pair<uint32_t, std::optional<uint32_t>>> {};

TEST_P(GgufWriter, EveryValueTypeRoundTrips) {
  const auto [version, alignment] = GetParam();
  const auto p1 = scratch_path("a.gguf");
  const auto p2 = scratch_path("b.gguf");
  build(version, alignment).write(p1.string());
  EXPECT_FALSE(std::filesystem::exists(p1.string() + ".tmp"));
  const auto f = File::open(p1.string());
  check_file(*f, version, alignment.value_or(32));

  Writer::from(*f).write(p2.string());
  EXPECT_TRUE(read_file(p1) == read_file(p2)) << "write -> read -> write differs";
  const auto g = File::open(p2.string());
  check_file(*g, version, alignment.value_or(32));
  std::filesystem::remove(p1);
  std::filesystem::remove(p2);
}

INSTANTIATE_TEST_SUITE_P(Gguf, GgufWriter,
                         ::testing::Values(std::make_pair(3u, std::optional<uint32_t>()),
                                           std::make_pair(2u, std::optional<uint32_t>()),
                                           std::make_pair(3u, std::optional<uint32_t>(64)),
                                           std::make_pair(3u, std::optional<uint32_t>(1)),
                                           std::make_pair(3u, std::optional<uint32_t>(4096))));

TEST(GgufWriterApi, SetReplacesInPlaceAndRemove) {
  Writer w;
  w.set("a", Value{uint32_t{1}});
  w.set("b", Value{std::string("x")});
  w.set("a", Value{int64_t{-2}});
  w.remove("b");
  w.remove("missing");
  w.set("c", Value{true});
  const auto p = scratch_path("set.gguf");
  w.write(p.string());
  const auto f = File::open(p.string());
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].first, "a");
  EXPECT_EQ(f->get_int("a"), -2);
  EXPECT_EQ(f->metadata()[1].first, "c");
  EXPECT_TRUE(f->get_bool("c"));
  EXPECT_TRUE(f->tensors().empty());
  std::filesystem::remove(p);
}

TEST(GgufWriterApi, RejectsBadInput) {
  Writer w;
  EXPECT_THROW(w.add_tensor("x", {2, 32}, DType::q4_0, std::vector<uint8_t>(35)), Error);  // wrong byte size
  EXPECT_THROW(w.add_tensor("x", {2, 31}, DType::q4_0, std::vector<uint8_t>(36)), Error);  // not whole blocks
  EXPECT_THROW(w.add_tensor("x", {0, 4}, DType::f32, std::vector<uint8_t>(0)), Error);
  EXPECT_THROW(w.add_tensor("x", {1, 1, 1, 1, 1}, DType::f32, std::vector<uint8_t>(4)), Error);
  w.add_tensor("x", {4}, DType::f32, std::vector<uint8_t>(16));
  EXPECT_THROW(w.add_tensor("x", {4}, DType::f32, std::vector<uint8_t>(16)), Error);  // duplicate

  const auto p = scratch_path("bad.gguf");
  Writer mixed;
  mixed.set("m", array_of(ValueType::u8, {Value{uint8_t{1}}, Value{int8_t{1}}}));
  EXPECT_THROW(mixed.write(p.string()), Error);
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_FALSE(std::filesystem::exists(p.string() + ".tmp"));
  Writer align;
  align.set("general.alignment", Value{uint32_t{48}});
  EXPECT_THROW(align.write(p.string()), Error);
  align.set("general.alignment", Value{uint64_t{32}});
  EXPECT_THROW(align.write(p.string()), Error);
  EXPECT_THROW(Writer(1).write(p.string()), Error);
  EXPECT_THROW(Writer().write("/nonexistent-dir/x.gguf"), Error);
}

TEST(GgufValue, Conversions) {
  EXPECT_EQ(Value{uint8_t{200}}.to_int("k"), 200);
  EXPECT_EQ(Value{int16_t{-3}}.to_int("k"), -3);
  EXPECT_EQ(Value{uint64_t{5}}.to_uint("k"), 5u);
  EXPECT_THROW((void)Value{int32_t{-1}}.to_uint("k"), Error);
  EXPECT_THROW((void)Value{std::numeric_limits<uint64_t>::max()}.to_int("k"), Error);
  EXPECT_DOUBLE_EQ(Value{int32_t{-7}}.to_double("k"), -7.0);
  EXPECT_DOUBLE_EQ(Value{2.5f}.to_double("k"), 2.5);
  EXPECT_THROW((void)Value{std::string("1")}.to_double("k"), Error);
  EXPECT_THROW((void)Value{true}.to_int("k"), Error);
  EXPECT_THROW((void)Value{uint8_t{1}}.to_bool("k"), Error);
  EXPECT_THROW((void)Value{1.0}.to_string("k"), Error);
  EXPECT_THROW((void)Value{1.0}.to_array("k"), Error);
  EXPECT_TRUE(Value{1.0}.is_float());
  EXPECT_FALSE(Value{true}.is_integer());
  EXPECT_EQ(value_type_name(ValueType::boolean), "bool");
  EXPECT_EQ(value_type_name(ValueType::f64), "f64");
  EXPECT_EQ(value_type_name(static_cast<ValueType>(99)), "unknown");
  try {
    (void)Value{std::string("x")}.to_uint("m.gguf: metadata 'llama.block_count'");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("m.gguf: metadata 'llama.block_count'"), std::string::npos) << e.what();
  }
}

TEST(GgufValue, FileGettersNameFileAndKey) {
  Writer w;
  w.set("s", Value{std::string("text")});
  w.set("u", Value{uint32_t{3}});
  w.set("f", Value{0.25f});
  const auto p = scratch_path("getters.gguf");
  w.write(p.string());
  const auto f = File::open(p.string());
  EXPECT_EQ(f->find_string("s"), "text");
  EXPECT_EQ(f->find_uint("u"), 3u);
  EXPECT_EQ(f->find_float("f"), 0.25);
  EXPECT_EQ(f->find_float("u"), 3.0);
  EXPECT_EQ(f->find_bool("absent"), std::nullopt);
  EXPECT_EQ(f->find_string("absent"), std::nullopt);
  try {
    (void)f->get_uint("s");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(p.string()), std::string::npos) << m;
    EXPECT_NE(m.find("'s'"), std::string::npos) << m;
  }
  try {
    (void)f->get("absent.key");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.key"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)f->find_bool("s"), Error);
  std::filesystem::remove(p);
}

TEST(GgufAtomicWrite, ReplacesAndCleansUp) {
  const auto p = scratch_path("atomic.bin");
  atomic_write(p, std::string_view("first"));
  atomic_write(p, std::string_view("second"));
  EXPECT_EQ(read_file(p), "second");
  EXPECT_THROW(atomic_write(p, [](std::ostream&) { throw Error("boom"); }), Error);
  EXPECT_EQ(read_file(p), "second");  // untouched
  EXPECT_FALSE(std::filesystem::exists(p.string() + ".tmp"));
  std::filesystem::remove(p);
}

}  // namespace
}  // namespace owl::gguf
