// Hostile GGUF files: a small valid file is built byte by byte, then each field is corrupted in turn
// (and the file cut at every offset). Each must fail with owl::Error naming the file and the field.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>

#include "test_files.h"
#include "base/error.h"
#include "formats/gguf.h"

namespace owl::gguf {
namespace {

// Emits GGUF bytes and remembers where each named field starts.
struct Builder {
  std::string bytes;
  std::map<std::string, size_t> at;

  template <typename T>
  void put(const std::string& field, T x) {
    at[field] = bytes.size();
    char b[sizeof(T)];
    std::memcpy(b, &x, sizeof(T));
    bytes.append(b, sizeof(T));
  }
  void str(const std::string& field, std::string_view s) {
    put<uint64_t>(field, s.size());
    at[field + ".bytes"] = bytes.size();
    bytes.append(s);
  }
  void pad(size_t alignment) { bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, '\0'); }
};

constexpr uint32_t kU8 = 0, kU32 = 4, kBool = 7, kString = 8, kArray = 9;

// Metadata: a string, general.alignment, a bool, an array of strings, an array of arrays of u8.
// Tensors: "a" f32 (2, 8) at offset 0 (64 bytes), "b" q4_0 (32) at offset 64 (18 bytes + padding).
Builder valid_file() {
  Builder b;
  b.bytes = "GGUF";
  b.at["magic"] = 0;
  b.put<uint32_t>("version", 3);
  b.put<uint64_t>("tensor_count", 2);
  b.put<uint64_t>("kv_count", 5);
  b.str("k0", "general.architecture");
  b.put<uint32_t>("k0.type", kString);
  b.str("k0.value", "llama");
  b.str("k1", "general.alignment");
  b.put<uint32_t>("k1.type", kU32);
  b.put<uint32_t>("k1.value", 32);
  b.str("k2", "flag");
  b.put<uint32_t>("k2.type", kBool);
  b.put<uint8_t>("k2.value", 1);
  b.str("k3", "toks");
  b.put<uint32_t>("k3.type", kArray);
  b.put<uint32_t>("k3.elem", kString);
  b.put<uint64_t>("k3.len", 3);
  b.str("k3.s0", "a");
  b.str("k3.s1", "bc");
  b.str("k3.s2", "def");
  b.str("k4", "nest");
  b.put<uint32_t>("k4.type", kArray);
  b.put<uint32_t>("k4.elem", kArray);
  b.put<uint64_t>("k4.len", 2);
  b.put<uint32_t>("k4.i0.elem", kU8);
  b.put<uint64_t>("k4.i0.len", 2);
  b.put<uint8_t>("k4.i0.v0", 1);
  b.put<uint8_t>("k4.i0.v1", 2);
  b.put<uint32_t>("k4.i1.elem", kU8);
  b.put<uint64_t>("k4.i1.len", 1);
  b.put<uint8_t>("k4.i1.v0", 3);
  b.str("t0.name", "a");
  b.put<uint32_t>("t0.n_dims", 2);
  b.put<uint64_t>("t0.ne0", 8);
  b.put<uint64_t>("t0.ne1", 2);
  b.put<uint32_t>("t0.type", 0);  // f32
  b.put<uint64_t>("t0.offset", 0);
  b.str("t1.name", "b");
  b.put<uint32_t>("t1.n_dims", 1);
  b.put<uint64_t>("t1.ne0", 32);
  b.put<uint32_t>("t1.type", 2);  // q4_0
  b.put<uint64_t>("t1.offset", 64);
  b.at["header_end"] = b.bytes.size();
  b.pad(32);
  b.at["data"] = b.bytes.size();
  for (int i = 0; i < 64 + 18; ++i) b.bytes.push_back(static_cast<char>(i));
  b.at["data_end"] = b.bytes.size();
  b.pad(32);
  return b;
}

// Opens bytes as a file; returns the error message, or nullopt when it parsed.
std::optional<std::string> open_error(const std::string& bytes, const std::string& name) {
  const auto p = scratch_path(name + ".gguf");
  write_file(p, bytes);
  std::optional<std::string> message;
  try {
    (void)File::open(p.string());
  } catch (const Error& e) {
    message = e.what();
  }
  std::filesystem::remove(p);
  return message;
}

// Asserts that bytes fail with a message naming the file and containing every one of parts.
void expect_rejected(const std::string& bytes, const std::string& name, const std::vector<std::string>& parts) {
  SCOPED_TRACE(name);
  const auto message = open_error(bytes, name);
  ASSERT_TRUE(message.has_value()) << "accepted a hostile file";
  EXPECT_NE(message->find(scratch_path(name + ".gguf").string()), std::string::npos) << *message;
  for (const auto& part : parts) EXPECT_NE(message->find(part), std::string::npos) << "want '" << part << "' in: " << *message;
}

template <typename T>
std::string patched(const Builder& b, const std::string& field, T value) {
  std::string bytes = b.bytes;
  std::memcpy(bytes.data() + b.at.at(field), &value, sizeof(T));
  return bytes;
}

constexpr uint64_t kHuge = ~uint64_t{0};

TEST(GgufHostile, ValidBaseFileParses) {
  const Builder b = valid_file();
  const auto p = scratch_path("valid.gguf");
  write_file(p, b.bytes);
  const auto f = File::open(p.string());
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_array("toks").items.size(), 3u);
  EXPECT_EQ(f->get_array("nest").items[0].to_array("nest[0]").items.size(), 2u);
  ASSERT_EQ(f->tensors().size(), 2u);
  EXPECT_EQ(f->data_offset(), b.at.at("data"));
  EXPECT_EQ(f->tensor("b").n_bytes, 18u);
  EXPECT_EQ(f->tensor("a").shape, (std::vector<int64_t>{2, 8}));
  // The last tensor's padding is optional: a file cut right after its data still reads.
  write_file(p, b.bytes.substr(0, b.at.at("data_end")));
  EXPECT_NO_THROW((void)File::open(p.string()));
  std::filesystem::remove(p);
}

TEST(GgufHostile, TruncatedAtEveryOffset) {
  const Builder b = valid_file();
  const size_t header_end = b.at.at("header_end");
  for (size_t n = 0; n < b.at.at("data_end"); ++n) {
    const std::string name = "cut" + std::to_string(n);
    SCOPED_TRACE(name);
    const auto message = open_error(b.bytes.substr(0, n), name);
    ASSERT_TRUE(message.has_value()) << "accepted a file cut at " << n;
    EXPECT_NE(message->find(scratch_path(name + ".gguf").string()), std::string::npos) << *message;
    if (n >= 4 && n < header_end) {
      const bool names_place = message->find("header") != std::string::npos ||
                               message->find("metadata key #") != std::string::npos ||
                               message->find("tensor #") != std::string::npos;
      EXPECT_TRUE(names_place) << *message;
    }
  }
}

TEST(GgufHostile, HeaderFields) {
  const Builder b = valid_file();
  expect_rejected(patched(b, "magic", uint32_t{0x47475546u /* "FUGG" */}), "magic", {"magic"});
  expect_rejected("", "empty", {"too short"});
  expect_rejected(patched(b, "version", uint32_t{1}), "v1", {"version 1"});
  expect_rejected(patched(b, "version", uint32_t{4}), "v4", {"version 4"});
  expect_rejected(patched(b, "version", uint32_t{0}), "v0", {"version 0"});
  expect_rejected(patched(b, "version", uint32_t{0x03000000u}), "vbe", {"big-endian"});
  expect_rejected(patched(b, "tensor_count", kHuge), "tensor_count", {"tensor_count"});
  expect_rejected(patched(b, "tensor_count", uint64_t{1} << 40), "tensor_count2", {"tensor_count"});
  expect_rejected(patched(b, "kv_count", kHuge), "kv_count", {"kv_count"});
  expect_rejected(patched(b, "kv_count", uint64_t{1} << 40), "kv_count2", {"kv_count"});
  // One key too many: the first tensor info is read as a key and fails somewhere; only the file is sure.
  expect_rejected(patched(b, "kv_count", uint64_t{6}), "kv_count3", {});
  expect_rejected(patched(b, "tensor_count", uint64_t{3}), "tensor_count3", {"tensor #2"});
}

TEST(GgufHostile, MetadataFields) {
  const Builder b = valid_file();
  expect_rejected(patched(b, "k0", kHuge), "key_len", {"metadata key #0", "key length 18446744073709551615", "left"});
  expect_rejected(patched(b, "k0.value", kHuge), "str_len",
                  {"metadata key #0 'general.architecture'", "string length 18446744073709551615 exceeds"});
  expect_rejected(patched(b, "k0.value", uint64_t{1} << 20), "str_len2", {"'general.architecture'", "string length"});
  expect_rejected(patched(b, "k0.type", uint32_t{13}), "value_type", {"'general.architecture'", "unknown value type 13"});
  expect_rejected(patched(b, "k0.type", uint32_t{0xffffffffu}), "value_type2", {"unknown value type"});
  expect_rejected(patched(b, "k1.type", uint32_t{5}), "align_type", {"'general.alignment'", "u32"});
  expect_rejected(patched(b, "k1.value", uint32_t{0}), "align0", {"'general.alignment'", "power of two"});
  expect_rejected(patched(b, "k1.value", uint32_t{24}), "align24", {"'general.alignment'", "power of two"});
  expect_rejected(patched(b, "k2.value", uint8_t{2}), "bool", {"'flag'", "invalid bool byte 0x02"});
  expect_rejected(patched(b, "k3.elem", uint32_t{13}), "elem_type", {"'toks'", "array element type 13"});
  expect_rejected(patched(b, "k3.len", kHuge), "arr_len", {"'toks'", "array length 18446744073709551615"});
  expect_rejected(patched(b, "k3.len", uint64_t{1} << 61), "arr_len2", {"'toks'", "array length"});
  expect_rejected(patched(b, "k3.len", uint64_t{1000}), "arr_len3", {"'toks'"});
  expect_rejected(patched(b, "k3.s1", kHuge), "arr_str", {"'toks' [element 1]", "string length"});
  expect_rejected(patched(b, "k4.len", uint64_t{1} << 59), "nest_len", {"'nest'", "array length"});
  expect_rejected(patched(b, "k4.i1.len", kHuge), "nest_inner", {"'nest' [element 1]", "array length"});
  expect_rejected(patched(b, "k4.i0.elem", uint32_t{kBool}), "nest_bool", {"'nest' [element 0] [element 1]", "bool"});
  expect_rejected(patched(b, "k4.i0.elem", uint32_t{42}), "nest_type", {"'nest' [element 0]", "array element type 42"});
  // Duplicate key: "toks" renamed to "flag".
  std::string dup = b.bytes;
  std::memcpy(dup.data() + b.at.at("k3.bytes"), "flag", 4);
  expect_rejected(dup, "dup_key", {"metadata key #3 'flag'", "duplicate key"});
  // Non-printable key bytes are escaped in the message.
  std::string odd = b.bytes;
  odd[b.at.at("k2.bytes")] = '\n';
  std::memcpy(odd.data() + b.at.at("k2.value"), "\x05", 1);
  expect_rejected(odd, "odd_key", {"'\\x0alag'", "invalid bool"});
}

// Arrays of arrays of ... must stop at a depth limit, not recurse until the stack runs out.
TEST(GgufHostile, NestedArrayDepthLimit) {
  for (int depth : {9, 100000}) {
    Builder b;
    b.bytes = "GGUF";
    b.put<uint32_t>("version", 3);
    b.put<uint64_t>("tensor_count", 0);
    b.put<uint64_t>("kv_count", 1);
    b.str("k0", "deep");
    b.put<uint32_t>("k0.type", kArray);
    for (int i = 0; i < depth; ++i) {
      b.put<uint32_t>("elem", kArray);
      b.put<uint64_t>("len", 1);
    }
    b.put<uint32_t>("elem", kU8);
    b.put<uint64_t>("len", 0);
    expect_rejected(b.bytes, "deep" + std::to_string(depth), {"'deep'", "nested deeper than"});
  }
  // Eight levels are fine.
  Builder b;
  b.bytes = "GGUF";
  b.put<uint32_t>("version", 2);
  b.put<uint64_t>("tensor_count", 0);
  b.put<uint64_t>("kv_count", 1);
  b.str("k0", "deep");
  b.put<uint32_t>("k0.type", kArray);
  for (int i = 0; i < 7; ++i) {
    b.put<uint32_t>("elem", kArray);
    b.put<uint64_t>("len", 1);
  }
  b.put<uint32_t>("elem", kU8);
  b.put<uint64_t>("len", 0);
  EXPECT_EQ(open_error(b.bytes, "deep8"), std::nullopt);
}

TEST(GgufHostile, TensorFields) {
  const Builder b = valid_file();
  expect_rejected(patched(b, "t0.name", kHuge), "name_len", {"tensor #0", "name length"});
  expect_rejected(patched(b, "t0.n_dims", uint32_t{5}), "n_dims", {"tensor #0 'a'", "n_dims 5"});
  expect_rejected(patched(b, "t0.n_dims", uint32_t{0xffffffffu}), "n_dims2", {"tensor #0 'a'", "n_dims"});
  expect_rejected(patched(b, "t0.ne0", uint64_t{0}), "dim0", {"tensor #0 'a'", "ne[0] = 0"});
  expect_rejected(patched(b, "t0.ne1", kHuge), "dim_neg", {"tensor #0 'a'", "ne[1] = -1"});
  expect_rejected(patched(b, "t0.ne1", uint64_t{1} << 63), "dim_min", {"tensor #0 'a'", "ne[1]", "positive"});
  std::string overflow = patched(b, "t0.ne0", uint64_t{1} << 32);
  std::memcpy(overflow.data() + b.at.at("t0.ne1"), "\x00\x00\x00\x00\x00\x00\x00\x80", 8);  // 2^63
  expect_rejected(overflow, "dim_overflow0", {"tensor #0 'a'"});
  overflow = patched(b, "t0.ne0", uint64_t{1} << 32);
  const uint64_t big = uint64_t{1} << 32;
  std::memcpy(overflow.data() + b.at.at("t0.ne1"), &big, 8);
  expect_rejected(overflow, "dim_overflow", {"tensor #0 'a'", "overflows int64"});
  expect_rejected(patched(b, "t0.ne1", uint64_t{1} << 40), "dim_big", {"tensor #0 'a'", "past the end"});
  expect_rejected(patched(b, "t1.ne0", uint64_t{33}), "block", {"tensor #1 'b'", "not a multiple of the q4_0 block size 32"});
  expect_rejected(patched(b, "t0.type", uint32_t{99}), "type", {"tensor #0 'a'", "unknown tensor type 99"});
  expect_rejected(patched(b, "t0.type", uint32_t{4}), "type_removed", {"unknown tensor type 4"});  // Q4_2: gone
  expect_rejected(patched(b, "t1.type", uint32_t{1}), "type_grow", {"tensor #1 'b'", "past the end"});  // f16: 64 bytes
  expect_rejected(patched(b, "t0.offset", uint64_t{1}), "unaligned", {"tensor #0 'a'", "offset 1 is not a multiple of the alignment 32"});
  expect_rejected(patched(b, "t1.offset", uint64_t{32}), "overlap", {"tensor #1 'b'", "overlaps tensor #0 'a'"});
  expect_rejected(patched(b, "t1.offset", uint64_t{0}), "overlap2", {"overlaps"});
  expect_rejected(patched(b, "t1.offset", uint64_t{96}), "past_end", {"tensor #1 'b'", "past the end"});
  expect_rejected(patched(b, "t1.offset", kHuge - 31), "offset_wrap", {"tensor #1 'b'", "past the end"});
  std::string dup = b.bytes;
  dup[b.at.at("t1.name.bytes")] = 'a';
  expect_rejected(dup, "dup_tensor", {"tensor #1 'a'", "duplicate tensor name"});
  // A larger alignment moves the data section past the end of this small file.
  expect_rejected(patched(b, "k1.value", uint32_t{1} << 20), "align_big", {"past the end"});
}

// Random byte flips in the header never crash or hang: each result is a parse or an owl::Error.
TEST(GgufHostile, RandomCorruptionNeverCrashes) {
  const Builder b = valid_file();
  const size_t header_end = b.at.at("header_end");
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string bytes = b.bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      const size_t at = rng() % header_end;
      bytes[at] = static_cast<char>(rng() % 3 == 0 ? 0xff : rng());
    }
    const auto p = scratch_path("fuzz.gguf");
    write_file(p, bytes);
    try {
      const auto f = File::open(p.string());
      for (const TensorInfo& t : f->tensors()) {
        ASSERT_LE(f->data_offset() + t.offset + t.n_bytes, f->file_size());
      }
    } catch (const Error& e) {
      ++rejected;
      ASSERT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(rejected, 1000);
  std::filesystem::remove(scratch_path("fuzz.gguf"));
}

TEST(GgufHostile, MissingFile) {
  EXPECT_THROW((void)File::open("/nonexistent/owl.gguf"), Error);
}

}  // namespace
}  // namespace owl::gguf
