// Safetensors reader and writer: the swift-transformers sample files, write -> read round trips, F8
// conversions against hand-computed values, and hostile files that must fail with owl::Error naming the file.
#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "base/error.h"
#include "fixtures.h"
#include "test_files.h"

namespace owl::safetensors {
namespace {

constexpr DType kAll[] = {DType::boolean, DType::u8,  DType::i8,  DType::f8_e4m3, DType::f8_e5m2,
                          DType::i16,     DType::u16, DType::f16, DType::bf16,    DType::i32,
                          DType::u32,     DType::f32, DType::f64, DType::i64,     DType::u64};

// An 8-byte little-endian length, the header text, then the data buffer.
std::string st_bytes(const std::string& header, const std::string& data = "") {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i)));
  return out + header + data;
}

std::vector<float> read_f32(const Tensor& t) {
  std::vector<float> out(t.n_elements);
  to_f32(t.dtype, t.data, out.data(), out.size());
  return out;
}

// Writes bytes to a scratch file and expects File::open to throw owl::Error naming it and `why`.
void expect_rejected(const std::string& name, const std::string& bytes, const std::string& why) {
  SCOPED_TRACE(name);
  const std::string path = scratch_path("hostile-" + name + ".safetensors").string();
  write_file(path, bytes);
  try {
    File::open(path);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(why), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(SafetensorsDType, NamesAndSizes) {
  const size_t sizes[] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};
  for (size_t i = 0; i < std::size(kAll); ++i) {
    EXPECT_EQ(dtype_from_name(dtype_name(kAll[i])), kAll[i]);
    EXPECT_EQ(dtype_size(kAll[i]), sizes[i]) << dtype_name(kAll[i]);
  }
  EXPECT_EQ(dtype_name(DType::boolean), "BOOL");
  EXPECT_EQ(dtype_name(DType::f8_e4m3), "F8_E4M3");
  EXPECT_EQ(dtype_from_name("bf16"), std::nullopt);  // names are case-sensitive
  EXPECT_EQ(dtype_from_name("F4"), std::nullopt);
}

TEST(SafetensorsFixtures, SwiftTransformersSamples) {
  OWL_REQUIRE_FIXTURE(dir, "safetensors-format-samples");
  struct Case {
    const char* file;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<float> values;
    size_t file_size;  // 8 + the space-padded header + the data
  };
  const Case cases[] = {
      {"tensor-1d-int32.safetensors", DType::i32, {3}, {1, 2, 3}, 84},
      {"tensor-2d-float64.safetensors", DType::f64, {2, 3}, {1, 2, 3, 24, 25, 26}, 128},
      {"tensor-3d-float32.safetensors", DType::f32, {2, 2, 3}, {22, 23, 24, 11, 12, 13, 2, 3, 4, 1, 2, 3}, 128},
      {"tensor-4d-float32.safetensors",
       DType::f32,
       {2, 3, 1, 3},
       {11, 12, 13, 1, 2, 3, 4, 5, 6, 22, 23, 24, 15, 16, 17, 17, 18, 19},
       152},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const auto file = File::open((dir / c.file).string());
    ASSERT_EQ(file->tensors().size(), 1u);
    EXPECT_TRUE(file->metadata().empty());
    const Tensor* t = file->find("embedding");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(file->find("missing"), nullptr);
    EXPECT_EQ(t->dtype, c.dtype);
    EXPECT_EQ(t->shape, c.shape);
    EXPECT_EQ(t->n_elements, c.values.size());
    EXPECT_EQ(t->n_bytes, c.values.size() * dtype_size(c.dtype));
    EXPECT_EQ(file->file_size(), c.file_size);
    if (c.dtype == DType::i32) {
      std::vector<int32_t> v(3);
      std::memcpy(v.data(), t->data, 12);
      EXPECT_EQ(v, (std::vector<int32_t>{1, 2, 3}));
      EXPECT_THROW(read_f32(*t), Error);  // integers are not converted
    } else {
      EXPECT_EQ(read_f32(*t), c.values);
    }
  }
}

TEST(SafetensorsWriter, RoundTripEveryDtypeAndMetadata) {
  Writer w;
  std::vector<std::vector<uint8_t>> kept;  // the borrowed buffers outlive write()
  kept.reserve(std::size(kAll));
  for (size_t i = 0; i < std::size(kAll); ++i) {
    const DType t = kAll[i];
    std::vector<uint8_t> bytes(6 * dtype_size(t));
    for (size_t j = 0; j < bytes.size(); ++j) bytes[j] = static_cast<uint8_t>(j * 7 + i * 13 + 1);
    const std::string name = "t." + std::string(dtype_name(t));
    if (i % 2 == 0) {
      kept.push_back(bytes);
      w.add(name, t, {2, 3}, kept.back().data(), kept.back().size());
    } else {
      w.add(name, t, {2, 3}, std::move(bytes));
    }
  }
  w.add("empty", DType::f32, {0, 4}, std::vector<uint8_t>{});
  w.add("scalar", DType::i64, {}, std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
  w.set_metadata("format", "pt");
  w.set_metadata("note", "héllo, \"quoted\"\n");
  const std::string path = scratch_path("roundtrip.safetensors").string();
  w.write(path);

  const auto file = File::open(path);
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"note", "héllo, \"quoted\"\n"}}));
  ASSERT_EQ(file->tensors().size(), std::size(kAll) + 2);
  uint64_t total = 0;
  for (size_t i = 0; i < std::size(kAll); ++i) {
    const DType t = kAll[i];
    SCOPED_TRACE(dtype_name(t));
    const Tensor* x = file->find("t." + std::string(dtype_name(t)));
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->dtype, t);
    EXPECT_EQ(x->shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(x->n_elements, 6u);
    ASSERT_EQ(x->n_bytes, 6 * dtype_size(t));
    for (size_t j = 0; j < x->n_bytes; ++j) ASSERT_EQ(x->data[j], static_cast<uint8_t>(j * 7 + i * 13 + 1));
    total += x->n_bytes;
  }
  const Tensor* empty = file->find("empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->n_elements, 0u);
  EXPECT_EQ(empty->n_bytes, 0u);
  EXPECT_EQ(empty->shape, (std::vector<int64_t>{0, 4}));
  const Tensor* scalar = file->find("scalar");
  ASSERT_NE(scalar, nullptr);
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->n_elements, 1u);
  EXPECT_EQ(w.data_bytes(), total + 8);
}

TEST(SafetensorsWriter, HeaderPaddedAndNamesSorted) {
  const float a[3] = {1, 2, 3};
  const uint16_t b[1] = {0x3c00};
  for (const std::string meta : {"", "x", "xy", "xyz", "four", "fiver"}) {  // varies the padding needed
    SCOPED_TRACE(meta);
    Writer w;
    w.add("zeta", DType::f32, {3}, a, sizeof(a));
    w.add("alpha", DType::f16, {1}, b, sizeof(b));
    w.add("Mid", DType::u8, {1, 1}, std::vector<uint8_t>{9});
    if (!meta.empty()) w.set_metadata("k", meta);
    const std::string path = scratch_path("sorted.safetensors").string();
    w.write(path);

    const std::string raw = read_file(path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<uint8_t>(raw[i]);
    EXPECT_EQ(n % 8, 0u);
    EXPECT_EQ(raw.size(), 8 + n + sizeof(a) + sizeof(b) + 1);
    const std::string header = raw.substr(8, n);
    EXPECT_EQ(header.front(), '{');
    const size_t close = header.find_last_of('}');
    EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos);  // only spaces pad it

    // Data in sorted-name order ("Mid" < "alpha" < "zeta" bytewise), contiguous from the buffer start.
    const auto file = File::open(path);
    ASSERT_EQ(file->tensors().size(), 3u);
    EXPECT_EQ(file->tensors()[0].name, "Mid");
    EXPECT_EQ(file->tensors()[1].name, "alpha");
    EXPECT_EQ(file->tensors()[2].name, "zeta");
    EXPECT_EQ(file->tensors()[1].data, file->tensors()[0].data + 1);
    EXPECT_EQ(file->tensors()[2].data, file->tensors()[1].data + 2);
    EXPECT_EQ(read_f32(file->tensors()[2]), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(read_f32(file->tensors()[1]), (std::vector<float>{1}));
  }
}

TEST(SafetensorsWriter, ProducersRunAtWriteInNameOrder) {
  std::vector<std::string> calls;
  Writer w;
  w.add("b", DType::bf16, {2}, Writer::Producer([&] {
          calls.push_back("b");
          return std::vector<uint8_t>{0x80, 0x3f, 0x00, 0xc0};  // bf16 1.0, -2.0
        }));
  w.add("a", DType::f8_e4m3, {2, 1}, Writer::Producer([&] {
          calls.push_back("a");
          return std::vector<uint8_t>{0x38, 0x7e};  // 1.0, 448
        }));
  EXPECT_EQ(w.data_bytes(), 6u);
  EXPECT_TRUE(calls.empty());
  const std::string path = scratch_path("producer.safetensors").string();
  w.write(path);
  EXPECT_EQ(calls, (std::vector<std::string>{"a", "b"}));
  const auto file = File::open(path);
  EXPECT_EQ(read_f32(*file->find("a")), (std::vector<float>{1.0f, 448.0f}));
  EXPECT_EQ(read_f32(*file->find("b")), (std::vector<float>{1.0f, -2.0f}));
}

TEST(SafetensorsWriter, RefusesBadInputAndLeavesNoTemporaryFile) {
  const auto dir = scratch_path("writer-dir");
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "out.safetensors").string();
  const auto expect_refused = [&](const Writer& w, const std::string& why) {
    try {
      w.write(path);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
    EXPECT_TRUE(std::filesystem::is_empty(dir));
  };
  const uint8_t four[4] = {};
  Writer dup;
  dup.add("w", DType::f32, {1}, four, 4);
  dup.add("w", DType::u8, {4}, four, 4);
  expect_refused(dup, "twice");
  Writer mismatch;
  mismatch.add("w", DType::f16, {3}, four, 4);
  expect_refused(mismatch, "needs 6");
  Writer negative;
  negative.add("w", DType::u8, {-4}, four, 4);
  expect_refused(negative, "negative");
  Writer null_data;
  null_data.add("w", DType::u8, {4}, nullptr, 4);
  expect_refused(null_data, "null pointer");
  Writer short_producer;
  short_producer.add("w", DType::f32, {2}, Writer::Producer([] { return std::vector<uint8_t>(4); }));
  expect_refused(short_producer, "producer gave 4 bytes");
  Writer bad_utf8;
  bad_utf8.add("\xff", DType::u8, {1}, four, 1);
  expect_refused(bad_utf8, "UTF-8");

  Writer good;
  good.add("w", DType::f32, {1}, four, 4);
  good.write(path);
  good.write(path);  // replaces the file in place
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  EXPECT_EQ(names, (std::vector<std::string>{"out.safetensors"}));
}

TEST(SafetensorsF8, E4M3HandValues) {
  EXPECT_EQ(f8_e4m3_to_f32(0x00), 0.0f);
  EXPECT_TRUE(std::signbit(f8_e4m3_to_f32(0x80)));
  EXPECT_EQ(f8_e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(f8_e4m3_to_f32(0xb8), -1.0f);
  EXPECT_EQ(f8_e4m3_to_f32(0x3c), 1.5f);
  EXPECT_EQ(f8_e4m3_to_f32(0x40), 2.0f);
  EXPECT_EQ(f8_e4m3_to_f32(0x7e), 448.0f);                // largest finite
  EXPECT_EQ(f8_e4m3_to_f32(0x77), 240.0f);                // exponent 14 is an ordinary number in E4M3FN
  EXPECT_EQ(f8_e4m3_to_f32(0x78), 256.0f);                // exponent 15 too, except mantissa 7
  EXPECT_EQ(f8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(f8_e4m3_to_f32(0x07), 7 * std::ldexp(1.0f, -9));
  EXPECT_EQ(f8_e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_TRUE(std::isnan(f8_e4m3_to_f32(0x7f)));
  EXPECT_TRUE(std::isnan(f8_e4m3_to_f32(0xff)));
  for (int v = 0; v < 256; ++v)
    EXPECT_EQ(std::isfinite(f8_e4m3_to_f32(static_cast<uint8_t>(v))), (v & 0x7f) != 0x7f) << v;
}

TEST(SafetensorsF8, E5M2HandValues) {
  EXPECT_EQ(f8_e5m2_to_f32(0x00), 0.0f);
  EXPECT_EQ(f8_e5m2_to_f32(0x3c), 1.0f);
  EXPECT_EQ(f8_e5m2_to_f32(0xc0), -2.0f);
  EXPECT_EQ(f8_e5m2_to_f32(0x3e), 1.5f);
  EXPECT_EQ(f8_e5m2_to_f32(0x7b), 57344.0f);  // largest finite
  EXPECT_EQ(f8_e5m2_to_f32(0x7c), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f8_e5m2_to_f32(0xfc), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f8_e5m2_to_f32(0x7d)));
  EXPECT_TRUE(std::isnan(f8_e5m2_to_f32(0xff)));
  EXPECT_EQ(f8_e5m2_to_f32(0x01), std::ldexp(1.0f, -16));  // smallest subnormal
  EXPECT_EQ(f8_e5m2_to_f32(0x04), std::ldexp(1.0f, -14));  // smallest normal
}

TEST(SafetensorsConvert, EveryFloatDtype) {
  const double f64[3] = {0.5, -3.0, 1e10};
  const float f32[3] = {0.5f, -3.0f, 1e10f};
  const uint16_t f16[3] = {0x3800, 0xc200, 0x7c00};   // 0.5, -3, inf
  const uint16_t bf16[3] = {0x3f00, 0xc040, 0x5015};  // 0.5, -3, 1e10 (0x501502f9) truncated
  const uint8_t e4m3[3] = {0x30, 0xc4, 0x7e};         // 0.5, -3, 448
  const uint8_t e5m2[3] = {0x38, 0xc2, 0x7c};         // 0.5, -3, inf
  std::vector<float> out(3);
  const auto conv = [&](DType t, const void* src) {
    std::vector<uint8_t> unaligned(1 + 3 * dtype_size(t));  // to_f32 must not assume alignment
    std::memcpy(unaligned.data() + 1, src, 3 * dtype_size(t));
    to_f32(t, unaligned.data() + 1, out.data(), 3);
    return out;
  };
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(conv(DType::f64, f64), (std::vector<float>{0.5f, -3.0f, 1e10f}));
  EXPECT_EQ(conv(DType::f32, f32), (std::vector<float>{0.5f, -3.0f, 1e10f}));
  EXPECT_EQ(conv(DType::f16, f16), (std::vector<float>{0.5f, -3.0f, inf}));
  EXPECT_EQ(conv(DType::bf16, bf16), (std::vector<float>{0.5f, -3.0f, std::bit_cast<float>(0x50150000u)}));
  EXPECT_EQ(conv(DType::f8_e4m3, e4m3), (std::vector<float>{0.5f, -3.0f, 448.0f}));
  EXPECT_EQ(conv(DType::f8_e5m2, e5m2), (std::vector<float>{0.5f, -3.0f, inf}));
  for (DType t :
       {DType::boolean, DType::u8, DType::i8, DType::i16, DType::u16, DType::i32, DType::u32, DType::i64, DType::u64})
    EXPECT_THROW(to_f32(t, e4m3, out.data(), 1), Error) << dtype_name(t);
}

TEST(SafetensorsReader, ZeroElementTensorsAndEmptyHeader) {
  const std::string path = scratch_path("zero.safetensors").string();
  write_file(path, st_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                            R"("b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                            R"("c":{"dtype":"I64","shape":[3,0],"data_offsets":[2,2]}})",
                            "xy"));
  const auto file = File::open(path);
  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->find("a")->n_bytes, 0u);
  EXPECT_EQ(file->find("c")->n_elements, 0u);
  EXPECT_EQ(file->find("b")->data[1], 'y');

  write_file(path, st_bytes("{}      "));
  EXPECT_TRUE(File::open(path)->tensors().empty());
}

TEST(SafetensorsReader, HostileFiles) {
  const auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape,
                        const std::string& offsets) {
    return "\"" + name + R"(":{"dtype":)" + dtype + R"(,"shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
  };
  const std::string ok = entry("a", "\"F32\"", "[2]", "[0,8]");
  const std::string d8(8, '\x01'), d16(16, '\x01');

  expect_rejected("empty", "", "too short");
  expect_rejected("truncated-length", std::string("\x10\0\0", 3), "too short");
  expect_rejected("zero-length", st_bytes("") + "abc", "header length is 0");
  expect_rejected("length-over-limit", std::string("\x01\xe1\xf5\x05\0\0\0\0", 8) + "{}", "limit");
  expect_rejected("length-huge", std::string(8, '\xff') + "{}", "limit");
  expect_rejected("length-past-file", std::string("\x40\0\0\0\0\0\0\0{}", 10), "past the end of the file");
  expect_rejected("truncated-data", st_bytes("{" + ok + "}", "abc"), "past the data buffer");
  expect_rejected("bad-json", st_bytes("{\"a\":", d8), "not valid UTF-8 JSON");
  expect_rejected("trailing-garbage", st_bytes("{} x"), "not valid UTF-8 JSON");
  expect_rejected("bad-utf8", st_bytes("{\"\xc3\x28\":1}"), "not valid UTF-8 JSON");
  expect_rejected("nul-padding", st_bytes(std::string("{}\0\0\0\0\0\0", 8)), "NUL byte at offset 2");
  expect_rejected("nul-in-string", st_bytes(std::string("{\"a\0\":{}}", 9)), "NUL byte");
  expect_rejected("number-overflow", st_bytes(R"({"a":{"dtype":"U8","shape":[1e400],"data_offsets":[0,0]}})"),
                  "not valid UTF-8 JSON");
  expect_rejected("array-header", st_bytes("[1,2]   "), "not a JSON object");
  expect_rejected("string-header", st_bytes("\"abc\"   "), "not a JSON object");
  expect_rejected("entry-not-object", st_bytes(R"({"a":[1]})"), "tensor 'a': entry is not an object");
  expect_rejected("unknown-dtype", st_bytes("{" + entry("a", "\"F31\"", "[2]", "[0,8]") + "}", d8),
                  "tensor 'a': unknown dtype \"F31\"");
  expect_rejected("dtype-not-string", st_bytes("{" + entry("a", "4", "[2]", "[0,8]") + "}", d8), "unknown dtype 4");
  expect_rejected("negative-shape", st_bytes("{" + entry("a", "\"F32\"", "[-2]", "[0,8]") + "}", d8),
                  "tensor 'a': shape [-2]");
  expect_rejected("float-shape", st_bytes("{" + entry("a", "\"F32\"", "[2.0]", "[0,8]") + "}", d8), "shape [2.0]");
  expect_rejected("string-shape", st_bytes("{" + entry("a", "\"F32\"", "[\"2\"]", "[0,8]") + "}", d8), "shape");
  expect_rejected("shape-not-array", st_bytes("{" + entry("a", "\"F32\"", "2", "[0,8]") + "}", d8), "not an array");
  expect_rejected("dim-over-int64", st_bytes("{" + entry("a", "\"U8\"", "[9223372036854775808]", "[0,8]") + "}", d8),
                  "shape");
  expect_rejected("shape-overflow",
                  st_bytes("{" + entry("a", "\"U8\"", "[4294967296,4294967296,2]", "[0,8]") + "}", d8), "overflows");
  expect_rejected("bytes-overflow", st_bytes("{" + entry("a", "\"F64\"", "[4611686018427387904]", "[0,8]") + "}", d8),
                  "overflows");
  expect_rejected("size-mismatch", st_bytes("{" + entry("a", "\"F32\"", "[3]", "[0,8]") + "}", d8), "needs 12");
  expect_rejected("offsets-reversed", st_bytes("{" + entry("a", "\"F32\"", "[0]", "[8,0]") + "}", d8), "end before");
  expect_rejected("offsets-short", st_bytes("{" + entry("a", "\"F32\"", "[2]", "[8]") + "}", d8), "data_offsets [8]");
  expect_rejected("offsets-negative", st_bytes("{" + entry("a", "\"F32\"", "[2]", "[-8,0]") + "}", d8), "data_offsets");
  expect_rejected("offsets-overlap",
                  st_bytes("{" + ok + "," + entry("b", "\"F32\"", "[2]", "[4,12]") + "}", std::string(12, 'x')),
                  "tensor 'b': data_offsets [4, 12] overlap");
  expect_rejected("offsets-duplicate", st_bytes("{" + ok + "," + entry("b", "\"F32\"", "[2]", "[0,8]") + "}", d16),
                  "overlap");
  expect_rejected("offsets-gap", st_bytes("{" + ok + "," + entry("b", "\"F32\"", "[2]", "[9,17]") + "}", d16 + "x"),
                  "tensor 'b': data_offsets [9, 17] leave a gap of 1 bytes");
  expect_rejected("offsets-not-from-zero", st_bytes("{" + entry("a", "\"F32\"", "[2]", "[8,16]") + "}", d16), "gap");
  expect_rejected("end-past-buffer", st_bytes("{" + entry("a", "\"F32\"", "[4]", "[0,16]") + "}", d8),
                  "tensor 'a': data_offsets [0, 16] run past the data buffer (8 bytes)");
  expect_rejected("buffer-too-long", st_bytes("{" + ok + "}", d8 + "z"), "trailing bytes");
  expect_rejected("missing-key", st_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", d8), "missing \"data_offsets\"");
  expect_rejected("unknown-key", st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", d8),
                  "unknown key 'x'");
  expect_rejected("metadata-not-object", st_bytes(R"({"__metadata__":"x"})"), "__metadata__ is not an object");
  expect_rejected("metadata-number", st_bytes(R"({"__metadata__":{"k":"v","n":1}})"),
                  "__metadata__ key 'n': value is not a string");
  expect_rejected("metadata-null", st_bytes(R"({"__metadata__":{"k":null}})"), "key 'k'");
  expect_rejected("deep-nesting", st_bytes(R"({"a":{"dtype":"F32","shape":)" + std::string(1'000'000, '[')), "deeper");
  expect_rejected("deep-objects", st_bytes(R"({"a":{"b":{"c":{"d":1}}}})"), "deeper than 3");
  expect_rejected("duplicate-tensor", st_bytes("{" + ok + "," + ok + "}", d8), "duplicate key 'a'");
  expect_rejected("duplicate-field",
                  st_bytes(R"({"a":{"dtype":"F32","dtype":"U8","shape":[2],"data_offsets":[0,8]}})", d8),
                  "duplicate key 'dtype'");
}

// Every prefix of a valid file and every single-byte corruption either opens or throws owl::Error.
TEST(SafetensorsReader, TruncationsAndCorruptionsNeverCrash) {
  Writer w;
  w.add("x", DType::f16, {2, 2}, std::vector<uint8_t>(8, 0x3c));
  w.add("y", DType::i32, {1}, std::vector<uint8_t>(4, 7));
  w.set_metadata("m", "v");
  const std::string good_path = scratch_path("good.safetensors").string();
  w.write(good_path);
  const std::string good = read_file(good_path);
  const std::string path = scratch_path("mangled.safetensors").string();
  const auto opens = [&](const std::string& bytes) {
    write_file(path, bytes);
    try {
      File::open(path);
      return true;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      return false;
    }
  };
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(opens(good.substr(0, n))) << "prefix " << n;
  EXPECT_TRUE(opens(good));
  for (size_t i = 0; i < good.size(); ++i) {
    for (const uint8_t x : {0x00, 0x22, 0x5d, 0x7d, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(x);
      opens(bad);  // may open (a changed data byte); must never crash or throw anything else
    }
  }
}

}  // namespace
}  // namespace owl::safetensors
