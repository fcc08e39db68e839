// A Llama-architecture model whose every weight is trained (owl train): float32 tensors in memory
// that this object owns, a Model bound to them for the training pass, the parameter list for
// AdamW, and the files a run writes — checkpoints (safetensors by GGUF name) and the final GGUF
// with complete metadata. Initialised as GPT-2 and llama2.c do: N(0, std) for every matrix, the
// residual projections (attn_output, ffn_down) scaled by 1/sqrt(2·n_layer), norms at 1.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "formats/gguf_value.h"
#include "models/model.h"
#include "train/optimizer.h"
#include "train/train_pass.h"

namespace owl::train {

struct ModelShape {
  int64_t n_vocab = 0;  // from the tokenizer
  int64_t n_embd = 128;
  int64_t n_layer = 4;
  int64_t n_head = 4;
  int64_t n_head_kv = 0;  // 0: n_head
  int64_t n_ff = 0;       // 0: 8/3 · n_embd rounded up to a multiple of 32 (Llama's SwiGLU width)
  int64_t n_ctx = 512;    // the training context, written as llama.context_length
  double rope_base = 10000.0;
  double norm_eps = 1e-5;
  // The output head is token_embd itself (no output.weight): fewer parameters, and a head that
  // attends to a token can copy it straight to the logits (a story's names).
  bool tied = false;
  // Fills the 0 defaults; owl::Error naming the option when the shape cannot be a model.
  ModelShape resolved() const;
};

class TrainableModel {
 public:
  // metadata: what the GGUF carries besides the architecture keys (the tokenizer.ggml.* keys,
  // general.*); tensors drawn from seed.
  TrainableModel(const ModelShape& shape, std::vector<std::pair<std::string, gguf::Value>> metadata, uint64_t seed,
                 double init_std);

  const Model& model() const { return *model_; }
  const ModelShape& shape() const { return shape_; }
  int64_t n_params() const;
  std::vector<size_t> tensor_sizes() const;  // values per tensor, in params() order

  // The tensors with their gradients for AdamW, in gradient_tensors(grads) order (decay on matrices).
  std::vector<ParamTensor> params(ModelGrads& grads);
  // After the optimizer changed the tensors: the model's copies of the norm vectors follow.
  void sync();

  // Every tensor as float32 safetensors by GGUF name, and back (a checkpoint's weights).
  void write_tensors(const std::filesystem::path& path) const;
  void read_tensors(const std::filesystem::path& path);
  // The model as a GGUF file (float32; owl quantize/convert make the smaller types), with the
  // metadata given at construction plus extra keys (what the run did).
  void write_gguf(const std::string& path, const std::vector<std::pair<std::string, gguf::Value>>& extra) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
    bool matrix = true;
  };
  Tensor& add(std::string name, std::vector<int64_t> shape, bool matrix);
  ModelShape shape_;
  std::vector<std::pair<std::string, gguf::Value>> metadata_;
  std::vector<Tensor> tensors_;  // GGUF order: token_embd, output_norm, output, then each layer's
  std::unique_ptr<Model> model_;
};

}  // namespace owl::train
