// The training pass: the decoder's forward over a batch of sequences (the same ops as
// models/decoder.cpp, so its logits are Decoder::eval's), keeping what backward needs, then the
// hand-written backward (train/grad_ops.h) down to every trainable tensor. Two kinds of run:
// - LoRA: the weights stay frozen as they are in memory (F32, F16, BF16 or quantized: QLoRA);
//   gradients flow through them with ops::matmul_backward_input to the adapter's tensors.
// - full: every weight of a Llama-shaped F32 model (owl train), ops::matmul_backward_weight.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "models/lora_adapter.h"
#include "models/model.h"

namespace owl::train {

// n_seq sequences of seq_len tokens (right-padded), each starting at position 0. targets[s·seq_len
// + t] = 1 when token t of sequence s is a target, predicted from the logits at t - 1.
struct TrainBatch {
  int64_t n_seq = 0;
  int64_t seq_len = 0;
  std::vector<int32_t> ids;
  std::vector<uint8_t> targets;
  int64_t n_targets() const;
};

// The gradient of every adapter module (same order and shapes as LoraAdapter::modules).
struct LoraGrads {
  std::vector<std::vector<float>> a;
  std::vector<std::vector<float>> b;
};

// The gradient of every weight of a Llama-shaped model (the shapes of ModelWeights).
struct LayerGrads {
  std::vector<float> attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down;
};
struct ModelGrads {
  std::vector<float> token_embd, output_norm, output;  // output empty when tied to token_embd
  std::vector<LayerGrads> layers;
};

class TrainPass {
 public:
  // A LoRA run: the adapter's tensors are trained, the model's weights are not.
  TrainPass(const Model& model, const LoraAdapter& adapter, ThreadPool& pool);
  // A full run: every weight is trained. owl::Error unless every matrix is F32 and the model has
  // only the tensors of a Llama layer (no biases, Q/K norms or post-norms).
  TrainPass(const Model& model, ThreadPool& pool);
  ~TrainPass();
  TrainPass(const TrainPass&) = delete;
  TrainPass& operator=(const TrainPass&) = delete;

  // The mean cross-entropy over all targets of the batch (one mean, as PyTorch's and mlx-lm's
  // losses), and its gradient with respect to every adapter tensor (grads overwritten).
  double loss_and_grads(const TrainBatch& batch, LoraGrads& grads);
  // The same for a full run: the gradient of every weight (grads overwritten).
  double loss_and_grads(const TrainBatch& batch, ModelGrads& grads);
  // The loss alone (no backward, nothing kept).
  double loss(const TrainBatch& batch);
  // The logits (n, n_vocab) of one sequence, from the training forward.
  std::vector<float> logits(std::span<const int32_t> ids);

  // Gradient checkpointing: keep only each layer's input and recompute its activations during
  // backward (memory of one layer's activations instead of all; the same numbers, one more forward).
  void set_grad_checkpoint(bool on) { grad_checkpoint_ = on; }

 private:
  struct Layer;  // the activations backward needs
  struct Forward;
  enum class Keep { none, inputs, all };
  void forward(const TrainBatch& batch, Forward& f, Keep keep);
  void forward_layer(int64_t il, const TrainBatch& batch, std::vector<float>& x, Layer& L);
  struct Sink;  // where backward puts the gradients
  double backward(const TrainBatch& batch, Forward& f, const Sink& sink);  // returns the loss
  const Model& model_;
  const LoraAdapter* adapter_;  // null in a full run
  ThreadPool& pool_;
  bool grad_checkpoint_ = false;
  struct Work;  // the step's buffers, kept from step to step
  std::unique_ptr<Work> work_;
};

}  // namespace owl::train
