// MLX affine quantization (src/tensor/mlx_affine.h): packing against a naive bit-by-bit packer and the README
// example, hand-worked groups, and every quantized module of ../shared/fixtures/mlx-archs re-quantized from the
// F32 sources of ../shared/fixtures/hf-archs, which must give the stored words, scales and biases bit for bit.
#include "tensor/mlx_affine.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "fixtures.h"
#include "formats/safetensors.h"

namespace owl::mlx {
namespace {

constexpr int kAllBits[] = {2, 3, 4, 5, 6, 8};

// Independent packer: stream bit i of the row is bit i % 32 of little-endian word i / 32.
std::vector<uint32_t> naive_pack(const std::vector<uint8_t>& codes, int bits) {
  std::vector<uint32_t> words(codes.size() * bits / 32, 0);
  for (size_t k = 0; k < codes.size(); ++k)
    for (int i = 0; i < bits; ++i) {
      const size_t bit = k * bits + i;
      if ((codes[k] >> i) & 1u) words[bit / 32] |= 1u << (bit % 32);
    }
  return words;
}

// Independent unpacker reading code k straight from the words (which may be unaligned).
uint32_t naive_code(const uint8_t* words, int64_t k, int bits) {
  uint32_t q = 0;
  for (int i = 0; i < bits; ++i) {
    const int64_t bit = k * bits + i;
    uint32_t w;
    std::memcpy(&w, words + bit / 32 * 4, 4);
    q |= ((w >> (bit % 32)) & 1u) << i;
  }
  return q;
}

std::vector<uint8_t> bytes_of(const std::vector<uint32_t>& words) {
  std::vector<uint8_t> out(words.size() * 4);
  for (size_t j = 0; j < words.size(); ++j)
    for (int b = 0; b < 4; ++b) out[j * 4 + b] = static_cast<uint8_t>(words[j] >> (8 * b));
  return out;
}

TEST(MlxPack, ReadmeExample) {
  std::vector<uint8_t> codes(16);
  for (int k = 0; k < 16; ++k) codes[k] = static_cast<uint8_t>(k);
  std::vector<uint8_t> packed(8);
  pack_row(codes.data(), 16, 4, packed.data());
  EXPECT_EQ(packed, bytes_of({0x76543210u, 0xFEDCBA98u}));
  std::vector<uint8_t> back(16);
  unpack_row(packed.data(), 16, 4, back.data());
  EXPECT_EQ(back, codes);
}

TEST(MlxPack, RoundTripEveryWidth) {
  std::mt19937 rng(1234);
  for (int bits : kAllBits) {
    EXPECT_TRUE(valid_bits(bits));
    for (int64_t n : {32, 64, 96, 320, 1056}) {  // n * bits is a multiple of 32 for every width
      std::vector<uint8_t> codes(n);
      for (auto& c : codes) c = static_cast<uint8_t>(rng() & ((1u << bits) - 1));
      std::vector<uint8_t> packed(n * bits / 8, 0xAA);
      pack_row(codes.data(), n, bits, packed.data());
      EXPECT_EQ(packed, bytes_of(naive_pack(codes, bits))) << bits << " bits, n " << n;
      std::vector<uint8_t> back(n, 0xFF);
      unpack_row(packed.data(), n, bits, back.data());
      EXPECT_EQ(back, codes) << bits << " bits, n " << n;
    }
  }
  for (int bits : {0, 1, 7, 16}) EXPECT_FALSE(valid_bits(bits));
}

// w = 0..15 twice: w_max = 15 is the edge, scale -1, bias 15, code 15 - w; 8.5 gives (8.5 - 15) / -1 = 6.5,
// which rint sends to 6 (round-half-away, the GPU's choice, would give 7).
TEST(MlxQuantize, HandWorkedGroup) {
  std::vector<float> w(32);
  for (int j = 0; j < 32; ++j) w[j] = static_cast<float>(j % 16);
  w[20] = 8.5f;
  std::vector<uint8_t> codes(32);
  uint16_t scale = 0, bias = 0;
  quantize_row(w.data(), 32, 4, 32, ScaleType::bf16, codes.data(), &scale, &bias);
  EXPECT_EQ(scale, 0xBF80u);  // bf16 -1
  EXPECT_EQ(bias, 0x4170u);   // bf16 15
  for (int j = 0; j < 32; ++j) EXPECT_EQ(codes[j], j == 20 ? 6 : 15 - j % 16) << j;
  std::vector<float> back(32);
  dequantize_row(codes.data(), 32, 32, ScaleType::bf16, &scale, &bias, back.data());
  for (int j = 0; j < 32; ++j) EXPECT_EQ(back[j], j == 20 ? 9.0f : w[j]) << j;
}

// All zeros: scale max(0, 1e-7) negated, q0 = 0 so bias 0, every code 0.
TEST(MlxQuantize, ZeroGroup) {
  std::vector<float> w(64, 0.0f);
  std::vector<uint8_t> codes(64, 7);
  uint16_t scale = 0, bias = 1;
  quantize_row(w.data(), 64, 8, 64, ScaleType::f16, codes.data(), &scale, &bias);
  EXPECT_EQ(scale, fp32_to_fp16(-1e-7f));
  EXPECT_EQ(bias, 0u);
  for (uint8_t c : codes) EXPECT_EQ(c, 0);
}

// Scales read from odd addresses (mapped files), and the chunked packed path against unpack + dequantize
// across its 256-code chunks for every width.
TEST(MlxDequantize, UnalignedScalesAndPackedRows) {
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  for (int bits : kAllBits)
    for (ScaleType type : {ScaleType::bf16, ScaleType::f16}) {
      const int64_t n = 576, group = 64, n_groups = n / group;
      std::vector<float> w(n);
      for (auto& x : w) x = normal(rng);
      for (auto& x : w) x = type == ScaleType::bf16 ? bf16_to_fp32(fp32_to_bf16(x)) : fp16_to_fp32(fp32_to_fp16(x));
      std::vector<uint8_t> codes(n), raw(4 * n_groups + 2);
      auto* s = reinterpret_cast<uint16_t*>(raw.data() + 1);  // odd address: only memcpy may touch it
      auto* b = reinterpret_cast<uint16_t*>(raw.data() + 1 + 2 * n_groups);
      quantize_row(w.data(), n, bits, group, type, codes.data(), s, b);
      std::vector<uint8_t> packed(n * bits / 8 + 1);
      pack_row(codes.data(), n, bits, packed.data() + 1);
      std::vector<float> a(n), c(n);
      dequantize_row(codes.data(), n, group, type, s, b, a.data());
      dequantize_packed_row(packed.data() + 1, n, bits, group, type, s, b, c.data());
      EXPECT_EQ(a, c) << bits << " bits";
      double err = 0, ref = 0;
      for (int64_t k = 0; k < n; ++k) {
        err += (a[k] - w[k]) * (a[k] - w[k]);
        ref += w[k] * w[k];
      }
      EXPECT_LT(std::sqrt(err / ref), 2.0 / ((1 << bits) - 1)) << bits << " bits";
    }
}

// ---- the fixtures: re-quantize the F32 sources and compare with the stored MLX tensors ----

struct MlxDir {
  const char* name;
  int modules;  // quantized modules, from the README's table
};
[[maybe_unused]] std::ostream& operator<<(std::ostream& os, const MlxDir& d) { return os << d.name; }

constexpr MlxDir kDirs[] = {
    {"llama-q4g64", 16},         {"llama-mixed_3_6-g64", 16}, {"llama-rope-freqs-q4g32", 15},
    {"llama-gqa-q4g64", 15},     {"llama-gqa-q8g64", 15},     {"gemma-q4g64", 15},
    {"gemma2-q4g64", 29},        {"gemma3-q4g64", 43},        {"qwen2-q4g32", 22},
    {"qwen3-q4g32", 23},         {"qwen3-q4g64", 20},         {"phi3-q4g64", 14},
    {"phi3-longrope-q4g64", 10}, {"phi3-longrope-q8g64", 10},
};

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::vector<uint16_t> raw16(const safetensors::Tensor& t) {
  std::vector<uint16_t> v(t.n_elements);
  std::memcpy(v.data(), t.data, t.n_bytes);
  return v;
}

// Relative RMS quantization error the README measured, with headroom; 2 and 5 bits are not in the fixtures.
double max_rel_rms(int bits) {
  switch (bits) {
    case 3:
      return 0.25;
    case 4:
      return 0.12;
    case 6:
      return 0.03;
    case 8:
      return 0.008;
    default:
      return 1.0;
  }
}

class MlxFixture : public testing::TestWithParam<MlxDir> {};

TEST_P(MlxFixture, RequantizesBitForBit) {
  const MlxDir d = GetParam();
  OWL_REQUIRE_FIXTURE(dir, std::string("mlx-archs/") + d.name);
  const auto config = read_json(dir / "config.json");
  const auto ref = read_json(dir / "ref.json");
  const std::filesystem::path hf = fixtures / ref.at("source_hf").get<std::string>() / "model.safetensors";
  if (!std::filesystem::exists(hf)) GTEST_SKIP() << "fixtures not found at " << hf.string();
  const std::string dtype = config.at("torch_dtype");
  ASSERT_TRUE(dtype == "bfloat16" || dtype == "float16") << dtype;
  const ScaleType type = dtype == "bfloat16" ? ScaleType::bf16 : ScaleType::f16;
  const auto& quant = config.at("quantization");

  const auto mlx_file = safetensors::File::open((dir / "model.safetensors").string());
  const auto src_file = safetensors::File::open(hf.string());
  int modules = 0, matched = 0;
  for (const auto& st : mlx_file->tensors()) {
    const std::string suffix = ".scales";
    if (st.name.size() <= suffix.size() || st.name.compare(st.name.size() - suffix.size(), suffix.size(), suffix))
      continue;
    const std::string p = st.name.substr(0, st.name.size() - suffix.size());
    ++modules;
    SCOPED_TRACE(p);
    const auto& q = quant.contains(p) && quant[p].is_object() ? quant[p] : quant;
    const int bits = q.at("bits");
    const int64_t group = q.at("group_size");
    const auto* words = mlx_file->find(p + ".weight");
    const auto* biases = mlx_file->find(p + ".biases");
    const auto* src = src_file->find(p + ".weight");
    ASSERT_TRUE(words && biases && src);
    ASSERT_EQ(words->dtype, safetensors::DType::u32);
    ASSERT_EQ(st.dtype, type == ScaleType::bf16 ? safetensors::DType::bf16 : safetensors::DType::f16);
    ASSERT_EQ(src->shape.size(), 2u);
    const int64_t rows = src->shape[0], cols = src->shape[1], n_groups = cols / group;
    ASSERT_TRUE(valid_bits(bits) && cols % group == 0 && group * bits % 32 == 0);
    ASSERT_EQ(words->shape, (std::vector<int64_t>{rows, cols * bits / 32}));
    ASSERT_EQ(st.shape, (std::vector<int64_t>{rows, n_groups}));
    ASSERT_EQ(biases->shape, st.shape);

    // Source rounded to the model dtype (nearest even), then quantized row by row.
    std::vector<float> w(rows * cols);
    safetensors::to_f32(src->dtype, src->data, w.data(), w.size());
    for (auto& x : w) x = type == ScaleType::bf16 ? bf16_to_fp32(fp32_to_bf16(x)) : fp16_to_fp32(fp32_to_fp16(x));
    std::vector<uint8_t> codes(rows * cols), packed(rows * cols * bits / 8);
    std::vector<uint16_t> scales(rows * n_groups), bias(rows * n_groups);
    for (int64_t r = 0; r < rows; ++r) {
      quantize_row(w.data() + r * cols, cols, bits, group, type, codes.data() + r * cols, scales.data() + r * n_groups,
                   bias.data() + r * n_groups);
      pack_row(codes.data() + r * cols, cols, bits, packed.data() + r * cols * bits / 8);
    }
    const bool same_words = std::memcmp(packed.data(), words->data, packed.size()) == 0;
    const bool same = same_words && scales == raw16(st) && bias == raw16(*biases);
    matched += same;
    if (!same) {  // say where: differing codes and groups
      int64_t bad_codes = 0, bad_groups = 0;
      for (int64_t i = 0; i < rows * cols; ++i) bad_codes += naive_code(words->data, i, bits) != codes[i];
      const auto s_ref = raw16(st), b_ref = raw16(*biases);
      for (size_t g = 0; g < scales.size(); ++g) bad_groups += scales[g] != s_ref[g] || bias[g] != b_ref[g];
      ADD_FAILURE() << bad_codes << " of " << rows * cols << " codes and " << bad_groups << " of " << scales.size()
                    << " scale/bias pairs differ (" << bits << " bits, group " << group << ")";
    }

    // Stored data dequantized by the module against q * scale + bias in float64 with an independent unpacker,
    // and against the source.
    std::vector<float> deq(cols);
    double err = 0, norm = 0;
    int64_t off = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* row_words = words->data + r * cols * bits / 8;
      const auto* s_row = reinterpret_cast<const uint16_t*>(st.data + r * n_groups * 2);
      const auto* b_row = reinterpret_cast<const uint16_t*>(biases->data + r * n_groups * 2);
      dequantize_packed_row(row_words, cols, bits, group, type, s_row, b_row, deq.data());
      for (int64_t k = 0; k < cols; ++k) {
        uint16_t sr, br;
        std::memcpy(&sr, st.data + (r * n_groups + k / group) * 2, 2);
        std::memcpy(&br, biases->data + (r * n_groups + k / group) * 2, 2);
        const auto up = [&](uint16_t h) { return type == ScaleType::bf16 ? bf16_to_fp32(h) : fp16_to_fp32(h); };
        const double exact = double(naive_code(row_words, k, bits)) * up(sr) + up(br);
        // float32 result: exact product, one rounding of the sum (allow one float ulp of slack)
        if (std::fabs(deq[k] - exact) > std::ldexp(std::fabs(exact), -23) + 1e-30) {
          ADD_FAILURE() << "row " << r << " col " << k << ": " << deq[k] << " vs " << exact;
          if (++off > 5) break;
        }
        err += (deq[k] - double(w[r * cols + k])) * (deq[k] - double(w[r * cols + k]));
        norm += double(w[r * cols + k]) * w[r * cols + k];
      }
    }
    EXPECT_LT(std::sqrt(err / norm), max_rel_rms(bits)) << bits << " bits";
  }
  EXPECT_EQ(modules, d.modules);
  EXPECT_EQ(matched, modules);
  std::printf("[   INFO   ] %s: %d of %d quantized modules re-quantized bit for bit\n", d.name, matched, modules);
}

INSTANTIATE_TEST_SUITE_P(MlxArchs, MlxFixture, testing::ValuesIn(kDirs), [](const testing::TestParamInfo<MlxDir>& i) {
  std::string s = i.param.name;
  for (auto& c : s)
    if (c == '-') c = '_';
  return s;
});

}  // namespace
}  // namespace owl::mlx
