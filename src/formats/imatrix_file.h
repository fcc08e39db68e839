// Importance matrices as llama.cpp's llama-imatrix writes them, for importance-weighted quantization:
// per weight matrix, the sum over the calibration tokens of each input column's squared activation,
// and how many tokens were summed. Read and written in both of its formats:
//  - GGUF (general.type "imatrix"): tensors "<weight>.in_sum2" (n_mat x n_cols f32), "<weight>.counts"
//    (n_mat f32) and optionally "<weight>.in_sum"; keys imatrix.datasets, imatrix.chunk_count,
//    imatrix.chunk_size.
//  - the legacy ".dat": int32 entry count; per entry the name (int32 length + bytes), int32 ncall, int32
//    nval, nval f32 = mean squared activation x ncall; then int32 chunk count and the dataset name.
// Both are parsed as hostile input: every length is checked against what the file holds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace owl {

struct ImatrixEntry {
  std::vector<float> sums2;   // (n_mat, n_cols): summed squared activations
  std::vector<float> sums;    // (n_mat, n_cols): summed activations, or empty (legacy files have none)
  std::vector<float> counts;  // (n_mat): tokens summed into each matrix's row of sums2

  int64_t n_cols() const { return counts.empty() ? 0 : static_cast<int64_t>(sums2.size() / counts.size()); }
};

struct Imatrix {
  std::map<std::string, ImatrixEntry> entries;  // by weight tensor name ("blk.0.attn_q.weight")
  std::vector<std::string> datasets;            // the calibration texts
  int64_t chunk_count = 0;
  int64_t chunk_size = 0;  // tokens per chunk (0: unknown, as in legacy files)

  // Each column's mean squared activation (n_mat x n_cols values), what the quantizers weigh errors by;
  // a matrix that saw no token gets 1s (no preference). Empty when the name has no entry.
  std::vector<float> importance(const std::string& name) const;
  // Adds other's sums and counts (llama-imatrix --in-file): owl::Error when a shared entry's shape differs.
  void merge(const Imatrix& other);
};

enum class ImatrixFormat { gguf, dat };

// Reads either format (told apart by the GGUF magic); owl::Error naming the file and the problem.
Imatrix read_imatrix(const std::string& path);
// Writes atomically (temporary name, then rename).
void write_imatrix(const Imatrix& m, const std::string& path, ImatrixFormat format);

}  // namespace owl
