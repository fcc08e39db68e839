// Scalar references of attention over an f16 or Q8_0 KV cache: each row converted to float32 (the
// same conversion as the cache's readers everywhere), then the float references dot_rows and
// weighted_sum on it, so a typed cache differs from a float one only by what its type rounds.
#include <vector>

#include "base/fp16.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/ref/vec.h"
#include "tensor/blocks.h"

namespace owl::kernels::ref {

namespace {

struct HalfRow {
  void operator()(const uint16_t* src, float* dst, int64_t d) const {
    for (int64_t i = 0; i < d; ++i) dst[i] = fp16_to_fp32(src[i]);
  }
};

struct Q8Row {
  void operator()(const BlockQ8_0* src, float* dst, int64_t d) const { dequantize_row_q8_0(src, dst, d); }
};

// One key or value row at a time, converted into a per-thread buffer.
template <typename T, typename Convert>
void scores(const float* q, int64_t q_stride, int nq, const T* k, int64_t stride, int64_t n, int64_t d, float scale,
            float* out, int64_t out_stride) {
  thread_local std::vector<float> row;
  row.resize(static_cast<size_t>(d));
  for (int64_t p = 0; p < n; ++p) {
    Convert()(k + p * stride, row.data(), d);
    dot_rows(q, q_stride, nq, row.data(), 0, 1, d, scale, out + p, out_stride);
  }
}

template <typename T, typename Convert>
void weighted(const float* w, int64_t w_stride, int nq, const T* v, int64_t stride, int64_t n, int64_t d, float* out,
              int64_t out_stride) {
  thread_local std::vector<float> row;
  row.resize(static_cast<size_t>(d));
  for (int j = 0; j < nq; ++j) {
    float* o = out + j * out_stride;
    for (int64_t i = 0; i < d; ++i) o[i] = 0.0f;
  }
  for (int64_t p = 0; p < n; ++p) {
    Convert()(v + p * stride, row.data(), d);
    for (int j = 0; j < nq; ++j) axpy_f32(out + j * out_stride, w[j * w_stride + p], row.data(), d);
  }
}

}  // namespace

void dot_rows_f16(const float* q, int64_t q_stride, int nq, const uint16_t* k, int64_t stride, int64_t n, int64_t d,
                  float scale, float* out, int64_t out_stride) {
  scores<uint16_t, HalfRow>(q, q_stride, nq, k, stride, n, d, scale, out, out_stride);
}

void weighted_sum_f16(const float* w, int64_t w_stride, int nq, const uint16_t* v, int64_t stride, int64_t n, int64_t d,
                      float* out, int64_t out_stride) {
  weighted<uint16_t, HalfRow>(w, w_stride, nq, v, stride, n, d, out, out_stride);
}

void dot_rows_q8_0(const float* q, int64_t q_stride, int nq, const BlockQ8_0* k, int64_t stride, int64_t n, int64_t d,
                   float scale, float* out, int64_t out_stride) {
  scores<BlockQ8_0, Q8Row>(q, q_stride, nq, k, stride, n, d, scale, out, out_stride);
}

void weighted_sum_q8_0(const float* w, int64_t w_stride, int nq, const BlockQ8_0* v, int64_t stride, int64_t n,
                       int64_t d, float* out, int64_t out_stride) {
  weighted<BlockQ8_0, Q8Row>(w, w_stride, nq, v, stride, n, d, out, out_stride);
}

}  // namespace owl::kernels::ref
