// Every weight type against ../shared/fixtures/quant-goldens (llama.cpp's ggml_quantize_chunk + to_float on a
// fixed 8 x 512 matrix): dequantization bit for bit, and the reference quantizers byte for byte; where bytes may
// differ, the per-row round-trip NMSE must stay within 10 % of the reference's own.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <memory>
#include <string>
#include <vector>

#include "fixtures.h"
#include "formats/gguf.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"

namespace owl {
namespace {

constexpr int64_t kRows = 8;
constexpr int64_t kCols = 512;

struct GoldenType {
  const char* name;  // ggml spelling, as in the tensor names
  DType type;
  bool exact_bytes;  // the README expects (and owl reaches) byte-identical quantization
};
[[maybe_unused]] std::ostream& operator<<(std::ostream& os, const GoldenType& g) { return os << g.name; }

// All 13 are byte-identical with owl's reference quantizers; the README only promises it for the first 9 and
// q3_K on this data. A type set to false here is checked by round-trip NMSE instead.
constexpr GoldenType kTypes[] = {
    {"f16", DType::f16, true},   {"bf16", DType::bf16, true}, {"q4_0", DType::q4_0, true},
    {"q4_1", DType::q4_1, true}, {"q5_0", DType::q5_0, true}, {"q5_1", DType::q5_1, true},
    {"q8_0", DType::q8_0, true}, {"q2_K", DType::q2_k, true}, {"q3_K", DType::q3_k, true},
    {"q4_K", DType::q4_k, true}, {"q5_K", DType::q5_k, true}, {"q6_K", DType::q6_k, true},
    {"q8_K", DType::q8_k, true},
};

void PrintTo(const GoldenType& g, std::ostream* os) { *os << g.name; }

class QuantGoldens : public ::testing::TestWithParam<GoldenType> {
 protected:
  void SetUp() override {
    const auto root = owl_fixtures();
    if (!root) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
    const auto path = *root / "quant-goldens" / "quant-goldens.gguf";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixtures not found at " << path.string();
    file_ = gguf::File::open(path.string());
    const std::string t = GetParam().name;
    input_ = &file_->tensor(t + ".input");
    quantized_ = &file_->tensor(t + ".quantized");
    dequantized_ = &file_->tensor(t + ".dequantized");
    ASSERT_EQ(input_->type, DType::f32);
    ASSERT_EQ(dequantized_->type, DType::f32);
    ASSERT_EQ(quantized_->type, GetParam().type);
    for (const gguf::TensorInfo* info : {input_, quantized_, dequantized_}) {
      ASSERT_EQ(info->shape, (std::vector<int64_t>{kRows, kCols})) << info->name;
    }
    row_bytes_ = row_bytes(GetParam().type, kCols);
    ASSERT_EQ(quantized_->n_bytes, row_bytes_ * kRows);
  }

  // Tensor data is 32-byte aligned in the file; copy into float vectors anyway (no aliasing assumptions).
  static std::vector<float> row_floats(const gguf::TensorInfo* t, int64_t r) {
    std::vector<float> v(kCols);
    std::memcpy(v.data(), t->data + r * kCols * 4, kCols * 4);
    return v;
  }
  const uint8_t* quantized_row(int64_t r) const { return quantized_->data + r * static_cast<int64_t>(row_bytes_); }

  std::unique_ptr<gguf::File> file_;
  const gguf::TensorInfo* input_ = nullptr;
  const gguf::TensorInfo* quantized_ = nullptr;
  const gguf::TensorInfo* dequantized_ = nullptr;
  size_t row_bytes_ = 0;
};

// sum((deq - x)^2) / sum(x^2) over finite deq values; the raw error when the row is all zeros.
double row_nmse(const std::vector<float>& x, const std::vector<float>& deq) {
  double err = 0;
  double sig = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(deq[i])) continue;
    const double d = static_cast<double>(deq[i]) - x[i];
    err += d * d;
    sig += static_cast<double>(x[i]) * x[i];
  }
  return sig > 0 ? err / sig : err;
}

TEST_P(QuantGoldens, DequantizeBitExact) {
  const DType type = GetParam().type;
  int64_t total_diff = 0;
  for (int64_t r = 0; r < kRows; ++r) {
    std::vector<float> out(kCols, -12345.0f);
    dequantize_row(type, quantized_row(r), out.data(), kCols);
    const std::vector<float> want = row_floats(dequantized_, r);
    if (std::memcmp(out.data(), want.data(), kCols * sizeof(float)) == 0) continue;
    for (int64_t c = 0; c < kCols; ++c) {
      if (std::memcmp(&out[c], &want[c], sizeof(float)) != 0) {
        if (total_diff < 8) ADD_FAILURE() << "row " << r << " col " << c << ": got " << out[c] << " want " << want[c];
        ++total_diff;
      }
    }
  }
  EXPECT_EQ(total_diff, 0) << GetParam().name << ": values differing from the golden dequantization";
}

TEST_P(QuantGoldens, QuantizeMatchesReference) {
  const GoldenType& g = GetParam();
  const int64_t block_bytes = static_cast<int64_t>(dtype_traits(g.type).block_bytes);
  std::vector<uint8_t> mine(row_bytes_);
  int64_t blocks_differing = 0;
  std::string differing;
  for (int64_t r = 0; r < kRows; ++r) {
    const std::vector<float> x = row_floats(input_, r);
    std::fill(mine.begin(), mine.end(), uint8_t{0xa5});
    quantize_row(g.type, x.data(), mine.data(), kCols);
    const uint8_t* want = quantized_row(r);
    for (int64_t b = 0; b < static_cast<int64_t>(row_bytes_) / block_bytes; ++b) {
      if (std::memcmp(mine.data() + b * block_bytes, want + b * block_bytes, block_bytes) != 0) {
        ++blocks_differing;
        differing += " r" + std::to_string(r) + "b" + std::to_string(b);
      }
    }
    // Every type, exact or not: the round trip must be about as good as the reference's on every row. This is
    // the check that carries the test for a type whose bytes are allowed to differ.
    std::vector<float> deq_mine(kCols);
    dequantize_row(g.type, mine.data(), deq_mine.data(), kCols);
    const double nmse_mine = row_nmse(x, deq_mine);
    const double nmse_ref = row_nmse(x, row_floats(dequantized_, r));
    EXPECT_LE(nmse_mine, nmse_ref * 1.10 + 1e-12) << g.name << " row " << r;
    if (std::memcmp(mine.data(), want, row_bytes_) != 0) {
      std::printf("[ %s row %lld ] bytes differ; nmse owl %.4g, reference %.4g\n", g.name, static_cast<long long>(r),
                  nmse_mine, nmse_ref);
    }
  }
  if (g.exact_bytes) {
    EXPECT_EQ(blocks_differing, 0) << g.name << ": blocks differing from the reference bytes:" << differing;
  } else if (blocks_differing > 0) {
    std::printf("[ %s ] %lld blocks differ from the reference bytes:%s\n", g.name,
                static_cast<long long>(blocks_differing), differing.c_str());
  }
}

// The reference's own NMSE (goldens) against the README's table, so the fixture and our NMSE agree.
TEST_P(QuantGoldens, ReferenceNmseAsDocumented) {
  const GoldenType& g = GetParam();
  struct Row { const char* name; double row0; };
  constexpr Row kReadme[] = {{"f16", 4.1e-08}, {"bf16", 2.4e-06}, {"q4_0", 8.3e-03}, {"q4_1", 5.6e-03},
                             {"q5_0", 2.0e-03}, {"q5_1", 1.5e-03}, {"q8_0", 3.0e-05}, {"q2_K", 8.5e-02},
                             {"q3_K", 2.3e-02}, {"q4_K", 4.9e-03}, {"q5_K", 1.3e-03}, {"q6_K", 3.4e-04},
                             {"q8_K", 4.2e-05}};
  for (const Row& row : kReadme) {
    if (std::string(row.name) != g.name) continue;
    const double nmse = row_nmse(row_floats(input_, 0), row_floats(dequantized_, 0));
    EXPECT_NEAR(nmse, row.row0, row.row0 * 0.05) << g.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Quant, QuantGoldens, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<GoldenType>& p) { return std::string(p.param.name); });

TEST(QuantGoldensF16, InfinitiesWhereDocumented) {
  OWL_REQUIRE_FIXTURE(path, "quant-goldens/quant-goldens.gguf");
  const auto file = gguf::File::open(path.string());
  const gguf::TensorInfo& q = file->tensor("f16.quantized");
  std::vector<float> row(kCols);
  dequantize_row(DType::f16, q.data + 7 * kCols * 2, row.data(), kCols);
  for (int c : {2, 4, 18}) EXPECT_TRUE(std::isinf(row[c]) && row[c] > 0) << "col " << c;
  int n_inf = 0;
  for (float v : row) n_inf += std::isinf(v) ? 1 : 0;
  EXPECT_EQ(n_inf, 3);
}

}  // namespace
}  // namespace owl
