// Importance-matrix files (formats/imatrix_file.h) in both of llama.cpp's layouts: a legacy .dat and a
// GGUF are written here byte for byte / tensor for tensor as llama-imatrix lays them out and read back
// as the means llama-quantize derives from them; owl's own files round-trip in both formats; merging
// adds sums and counts; a .dat cut at every length, corrupted counts and a model file are one-line errors.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/imatrix_file.h"
#include "test_files.h"

namespace owl {
namespace {

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_name(std::string& out, const std::string& s) {
  put<int32_t>(out, static_cast<int32_t>(s.size()));
  out += s;
}

// Two entries as llama-imatrix's legacy writer stores them: mean x ncall, then chunk count and dataset.
std::string legacy_file() {
  std::string f;
  put<int32_t>(f, 2);
  put_name(f, "blk.0.attn_q.weight");
  put<int32_t>(f, 4);  // ncall
  put<int32_t>(f, 3);
  for (float v : {0.5f, 2.0f, 8.0f}) put<float>(f, v * 4);
  put_name(f, "blk.0.ffn_down.weight");
  put<int32_t>(f, 4);
  put<int32_t>(f, 2);
  for (float v : {1.0f, 3.0f}) put<float>(f, v * 4);
  put<int32_t>(f, 7);  // chunks
  put_name(f, "wiki.train.raw");
  return f;
}

TEST(ImatrixFile, ReadsTheLegacyLayout) {
  const auto path = scratch_path("legacy.dat");
  write_file(path, legacy_file());
  const Imatrix m = read_imatrix(path.string());
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.importance("blk.0.attn_q.weight"), (std::vector<float>{0.5f, 2.0f, 8.0f}));
  EXPECT_EQ(m.importance("blk.0.ffn_down.weight"), (std::vector<float>{1.0f, 3.0f}));
  EXPECT_TRUE(m.importance("blk.1.attn_q.weight").empty());
  EXPECT_EQ(m.chunk_count, 7);
  EXPECT_EQ(m.datasets, std::vector<std::string>{"wiki.train.raw"});
  // Files from before the trailer was added end after the entries.
  const std::string old = legacy_file().substr(0, legacy_file().size() - 4 - 4 - 14);
  write_file(path, old);
  EXPECT_EQ(read_imatrix(path.string()).importance("blk.0.ffn_down.weight"), (std::vector<float>{1.0f, 3.0f}));
}

TEST(ImatrixFile, ReadsTheGgufLayout) {
  // As llama-imatrix writes it: one matrix per weight, so in_sum2 is a vector and counts one value.
  gguf::Writer w;
  w.set("general.type", {std::string("imatrix")});
  w.set("imatrix.datasets", gguf::Value::string_array({"a.txt", "b.txt"}));
  w.set("imatrix.chunk_count", {uint32_t{12}});
  w.set("imatrix.chunk_size", {uint32_t{512}});
  const std::vector<float> sums2 = {10, 20, 40, 80}, counts = {10}, sums = {1, 2, 3, 4};
  const auto bytes = [](const std::vector<float>& v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  };
  w.add_tensor("blk.3.ffn_up.weight.in_sum2", {4}, DType::f32, bytes(sums2));
  w.add_tensor("blk.3.ffn_up.weight.counts", {1}, DType::f32, bytes(counts));
  w.add_tensor("blk.3.ffn_up.weight.in_sum", {4}, DType::f32, bytes(sums));
  // A matrix that saw no token: llama-quantize takes 1s for it.
  w.add_tensor("blk.3.ffn_down.weight.in_sum2", {2}, DType::f32, bytes({0, 0}));
  w.add_tensor("blk.3.ffn_down.weight.counts", {1}, DType::f32, bytes({0}));
  const auto path = scratch_path("llama.imatrix.gguf");
  w.write(path.string());
  const Imatrix m = read_imatrix(path.string());
  EXPECT_EQ(m.importance("blk.3.ffn_up.weight"), (std::vector<float>{1, 2, 4, 8}));
  EXPECT_EQ(m.importance("blk.3.ffn_down.weight"), (std::vector<float>{1, 1}));
  EXPECT_EQ(m.entries.at("blk.3.ffn_up.weight").sums, sums);
  EXPECT_EQ(m.chunk_count, 12);
  EXPECT_EQ(m.chunk_size, 512);
  EXPECT_EQ(m.datasets, (std::vector<std::string>{"a.txt", "b.txt"}));
}

Imatrix sample() {
  Imatrix m;
  m.entries["blk.0.attn_k.weight"] = {{3, 6, 9, 12}, {1, 1, 1, 1}, {3}};
  m.entries["blk.1.ffn_down.weight"] = {{5, 0.25f}, {}, {2}};
  m.datasets = {"calibration.txt"};
  m.chunk_count = 3;
  m.chunk_size = 256;
  return m;
}

TEST(ImatrixFile, RoundTripsInBothFormats) {
  const Imatrix m = sample();
  for (const auto format : {ImatrixFormat::gguf, ImatrixFormat::dat}) {
    const auto path = scratch_path(format == ImatrixFormat::gguf ? "rt.gguf" : "rt.dat");
    write_imatrix(m, path.string(), format);
    const Imatrix back = read_imatrix(path.string());
    ASSERT_EQ(back.entries.size(), m.entries.size());
    for (const auto& [name, e] : m.entries) {
      const std::vector<float> want = m.importance(name), got = back.importance(name);
      ASSERT_EQ(got.size(), want.size()) << name;
      for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6 * want[i]) << name;
    }
    EXPECT_EQ(back.chunk_count, 3);
    EXPECT_EQ(back.datasets, m.datasets);
  }
}

TEST(ImatrixFile, MergeAddsSumsAndCounts) {
  Imatrix a = sample();
  a.merge(sample());
  EXPECT_EQ(a.entries.at("blk.0.attn_k.weight").counts, std::vector<float>{6});
  EXPECT_EQ(a.importance("blk.0.attn_k.weight"), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(a.chunk_count, 6);
  Imatrix other;
  other.entries["blk.0.attn_k.weight"] = {{1, 2}, {}, {1}};
  EXPECT_THROW(a.merge(other), Error);
}

TEST(ImatrixFile, HostileFilesAreOneLineErrors) {
  const auto path = scratch_path("bad.dat");
  const std::string good = legacy_file();
  // Cut anywhere before the trailer: an error naming the file, never a crash or a partial read.
  const size_t entries_end = good.size() - 4 - 4 - 14;
  for (size_t n = 0; n < entries_end; ++n) {
    write_file(path, good.substr(0, n));
    try {
      (void)read_imatrix(path.string());
      ADD_FAILURE() << "cut at " << n << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }
  std::string huge = good;
  const int32_t big = 1 << 30;
  std::memcpy(huge.data(), &big, 4);  // more entries than the file could hold
  write_file(path, huge);
  EXPECT_THROW((void)read_imatrix(path.string()), Error);
  std::string negative = good;
  const int32_t minus = -5;
  std::memcpy(negative.data() + 4 + 4 + 19, &minus, 4);  // ncall of the first entry
  write_file(path, negative);
  EXPECT_THROW((void)read_imatrix(path.string()), Error);
  // A model file is not an importance matrix.
  gguf::Writer w;
  w.set("general.type", {std::string("model")});
  w.add_tensor("token_embd.weight", {2, 4}, DType::f32, std::vector<uint8_t>(32));
  const auto model = scratch_path("model.gguf");
  w.write(model.string());
  try {
    (void)read_imatrix(model.string());
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not an importance matrix"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace owl
