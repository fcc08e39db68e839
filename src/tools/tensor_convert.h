// Converting whole tensors between weight types, row by row on the thread pool. Shared by the
// quantizer and the importers.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace owl {

// The type a tensor of this shape is stored as when target is requested: 1-D tensors (norms,
// biases) stay f32; rows whose length is not a multiple of the block size fall back to f16.
DType storage_type(DType target, const std::vector<int64_t>& shape);

// rows x cols values of src_type -> the same values in dst_type (bytes, rows back to back), through
// float32 with the kernel table's block conversions (bit-identical to tensor/quant.h's).
std::vector<uint8_t> convert_rows(const void* src, DType src_type, DType dst_type, int64_t rows, int64_t cols,
                                  ThreadPool& pool);
// The same into dst (rows x row_bytes(dst_type, cols) bytes). With importance (cols values), types that
// have an importance-weighted search use it (tensor/quant.h, quantize_row_weighted).
void convert_rows_into(const void* src, DType src_type, DType dst_type, int64_t rows, int64_t cols, uint8_t* dst,
                       ThreadPool& pool, const float* importance = nullptr);

// llama.cpp's general.file_type code for a model whose matrices are mostly `type`; -1 if none.
int32_t gguf_file_type(DType type);

}  // namespace owl
