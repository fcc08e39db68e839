// The training pass (train/train_pass.h): forward over every position of the batch with the
// decoder's ops, activations kept per layer, then backward layer by layer in reverse, into the
// adapter's gradients (LoRA) or every weight's (full).
#include "train/train_pass.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "models/packing.h"
#include "kernels/cpu/kernels.h"
#include "ops/attention.h"
#include "ops/attention_backward.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "train/grad_ops.h"

namespace owl::train {

int64_t TrainBatch::n_targets() const {
  int64_t n = 0;
  for (uint8_t t : targets) n += t != 0 ? 1 : 0;
  return n;
}

namespace {

using Vec = std::vector<float>;

// Values a thread takes at least, so that small models' rows do not pay for waking the threads.
constexpr int64_t kMinValuesPerThread = int64_t{1} << 14;

// f(r) for rows [0, n) of `width` values, the threads sharing out the rows. Each row is computed as
// it would be alone, so the numbers do not depend on the thread count. The step's element-wise work
// runs here: on one thread it was a sixth of a TinyLlama step while the other thread waited.
template <class F>
void each_row(ThreadPool& pool, int64_t n, int64_t width, F&& f) {
  pool.parallel_for(n, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) f(r);
  }, min_items(width, kMinValuesPerThread));
}

// f(t, angles) for positions [0, n) of `width` values, as each_row; angles has room for one
// position's RoPE angles (ops::rope_angles), a buffer per thread.
template <class F>
void each_position(ThreadPool& pool, int64_t n, int64_t width, int64_t n_rot, F&& f) {
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    std::vector<float> angles(static_cast<size_t>(std::max<int64_t>(n_rot, 2)));
    for (int64_t t = t0; t < t1; ++t) f(t, angles.data());
  }, min_items(width, kMinValuesPerThread));
}

// x += y over n rows of `width` values.
void add_rows(Vec& x, const Vec& y, int64_t n, int64_t width, ThreadPool& pool) {
  each_row(pool, n, width, [&](int64_t t) {
    for (int64_t i = t * width; i < (t + 1) * width; ++i) x[static_cast<size_t>(i)] += y[static_cast<size_t>(i)];
  });
}

// v as n values the caller writes whole, in the memory it already holds: the buffers of a training
// step live as long as the TrainPass, so each step writes memory it already touched (a fresh
// allocation of these sizes is a fresh mapping whose every page faults on first use: a third of a
// 100m step's time).
void size_to(Vec& v, int64_t n) { v.resize(static_cast<size_t>(n)); }

// v as n zeros (see size_to), filled by the threads in chunks of 256 KiB.
void zero(Vec& v, int64_t n, ThreadPool& pool) {
  constexpr int64_t kChunk = int64_t{1} << 16;
  size_to(v, n);
  float* p = v.data();
  each_row(pool, (n + kChunk - 1) / kChunk, kChunk, [&](int64_t c) {
    std::fill(p + c * kChunk, p + std::min(n, (c + 1) * kChunk), 0.0f);
  });
}

// One projection: the weight, the adapter module joining it if any, and in a full run the
// weight's own gradient.
struct Projection {
  const Weight* w = nullptr;
  const LoraModule* lora = nullptr;
  int64_t index = -1;  // of the module in the adapter (its gradients' slot)
  float scale = 0.0f;
  std::vector<float>* dw = nullptr;
};

void add_bias(float* y, const std::vector<float>& bias, int64_t n, ThreadPool& pool) {
  if (bias.empty()) return;
  const auto width = static_cast<int64_t>(bias.size());
  each_row(pool, n, width, [&](int64_t t) {
    for (int64_t i = 0; i < width; ++i) y[t * width + i] += bias[static_cast<size_t>(i)];
  });
}

}  // namespace

// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming): clang names its implicit copy loop __i0
struct TrainPass::Layer {
  Vec x_in, xn1, q_raw, k_raw, q, k, v, probs, att, o_out, x_mid, xn2, gate, up, h, f_out;
  Vec u[7];  // x·Aᵀ of each adapted projection, by LoraTarget
};

struct TrainPass::Sink {
  LoraGrads* lora = nullptr;
  ModelGrads* full = nullptr;
};

struct TrainPass::Forward {
  int64_t n = 0;  // positions: n_seq · seq_len
  bool checkpointed = false;  // layers hold only their inputs
  std::vector<Layer> layers;
  Vec x_final, out_norm, logits;
};

// Every buffer of a step, kept from step to step (see size_to()).
struct TrainPass::Work {
  Forward f;
  Layer scratch;  // a layer's activations when they are not kept (and recomputed in backward)
  Vec x, branch, attention;  // the residual stream; forward_layer's temporaries
  Vec dlogits, d_norm, dx, d_branch, dh, dgate, dup, dxn, datt, dq, dk, dv, raw;
};

TrainPass::~TrainPass() = default;

TrainPass::TrainPass(const Model& model, const LoraAdapter& adapter, ThreadPool& pool)
    : model_(model), adapter_(&adapter), pool_(pool), work_(std::make_unique<Work>()) {
  for (const LoraModule& m : adapter.modules) {
    const Weight& w = lora_base_weight(model, m.layer, m.target);
    if (m.in != w.cols || m.out != w.rows || static_cast<int64_t>(m.a.size()) != m.rank * m.in ||
        static_cast<int64_t>(m.b.size()) != m.out * m.rank) {
      fail("LoRA: the {} module of layer {} does not fit its base projection ({} x {})", lora_target_name(m.target),
           m.layer, w.rows, w.cols);
    }
  }
}

TrainPass::TrainPass(const Model& model, ThreadPool& pool)
    : model_(model), adapter_(nullptr), pool_(pool), work_(std::make_unique<Work>()) {
  const ModelWeights& w = model.weights();
  auto check = [&](const Weight& m) {
    if (m.type != DType::f32 || m.packed != nullptr) fail("full training: {} is {}, not F32", m.name, dtype_name(m.type));
  };
  check(w.token_embd);
  for_each_matrix(w, check);
  auto refuse = [&](const std::vector<float>& v, const char* what) {
    if (!v.empty()) fail("full training: the model has {}; only Llama-shaped layers are trained in full", what);
  };
  if (!w.rope_freqs.empty() || !w.rope_factors_short.empty()) fail("full training: RoPE frequency factors are not trained");
  for (const LayerWeights& l : w.layers) {
    refuse(l.attn_q_bias, "attention biases");
    refuse(l.attn_k_bias, "attention biases");
    refuse(l.attn_v_bias, "attention biases");
    refuse(l.attn_q_norm, "Q/K norms");
    refuse(l.attn_k_norm, "Q/K norms");
    refuse(l.post_attn_norm, "post-attention norms");
    refuse(l.post_ffn_norm, "post-FFN norms");
  }
}

namespace {

Projection projection(const Model& model, const LoraAdapter* adapter, int64_t layer, LoraTarget t, ModelGrads* full) {
  Projection p;
  p.w = &lora_base_weight(model, layer, t);
  if (full != nullptr) {
    LayerGrads& g = full->layers[static_cast<size_t>(layer)];
    std::vector<float>* slots[] = {&g.attn_q, &g.attn_k, &g.attn_v, &g.attn_output, &g.ffn_gate, &g.ffn_up, &g.ffn_down};
    p.dw = slots[static_cast<int>(t)];
  }
  if (adapter == nullptr) return p;
  for (size_t i = 0; i < adapter->modules.size(); ++i) {
    const LoraModule& m = adapter->modules[i];
    if (m.layer == layer && m.target == t) {
      p.lora = &m;
      p.index = static_cast<int64_t>(i);
      p.scale = adapter->scale(m.rank);
    }
  }
  return p;
}

// y = x·Wᵀ (+ the adapter's term; u keeps x·Aᵀ for backward).
void linear_forward(float* y, Vec& u, const Projection& p, const float* x, int64_t n, ThreadPool& pool) {
  ops::matmul(y, *p.w, x, n, pool);
  if (p.lora == nullptr) return;
  const LoraModule& m = *p.lora;
  size_to(u, n * m.rank);
  ops::add_lora(y, x, n, m.in, m.out, ops::LoraTerm{m.a.data(), m.b.data(), m.rank, p.scale}, u.data(), pool);
}

// dx += dy·W (+ the adapter's term), and the adapter's gradients or the weight's.
void linear_backward(float* dx, const Projection& p, const float* dy, const float* x, const Vec& u, int64_t n,
                     LoraGrads* grads, ThreadPool& pool) {
  ops::matmul_backward_input(dx, *p.w, dy, n, pool);
  if (p.dw != nullptr) ops::matmul_backward_weight(p.dw->data(), dy, x, n, p.w->rows, p.w->cols, pool);
  if (p.lora == nullptr || grads == nullptr) return;
  const LoraModule& m = *p.lora;
  const auto i = static_cast<size_t>(p.index);
  ops::add_lora_backward(dx, grads->a[i].data(), grads->b[i].data(), dy, x, u.data(), n, m.in, m.out,
                         ops::LoraTerm{m.a.data(), m.b.data(), m.rank, p.scale}, pool);
}

void norm_rows_forward(float* x, const std::vector<float>& w, int64_t rows, int64_t width, float eps,
                       ThreadPool& pool) {
  each_row(pool, rows, width, [&](int64_t r) { ops::rms_norm(x + r * width, x + r * width, w.data(), width, eps); });
}

// dx += the gradient of rows of x normed with w, given dy; dw += the weight's, when given.
void norm_rows_backward(float* dx, const float* dy, const float* x, const std::vector<float>& w, int64_t rows,
                        int64_t width, float eps, ThreadPool& pool, std::vector<float>* dw = nullptr) {
  auto row = [&](int64_t r) {
    rms_norm_backward<float>(dx + r * width, dw != nullptr ? dw->data() : nullptr, dy + r * width, x + r * width,
                             w.data(), width, eps);
  };
  if (dw != nullptr) {  // full training: every row adds into dw, in order
    for (int64_t r = 0; r < rows; ++r) row(r);
  } else {
    each_row(pool, rows, width, row);
  }
}

ops::RopeParams rope_params(const Model& model, const LayerSpec& ls, int64_t seq_len) {
  const ModelSpec& s = model.spec();
  const ModelWeights& w = model.weights();
  ops::RopeParams rope{s.n_rot, ls.rope_base, ls.rope_freq_scale, nullptr, s.rope_attn_factor,
                       s.rope_style == RopeStyle::interleaved};
  if (ls.rope_factors) {
    if (!w.rope_freqs.empty()) rope.freq_factors = w.rope_freqs.data();
    const bool long_ctx = s.rope_orig_ctx > 0 && seq_len > s.rope_orig_ctx;
    const std::vector<float>& factors = long_ctx ? w.rope_factors_long : w.rope_factors_short;
    if (!factors.empty()) rope.freq_factors = factors.data();
  }
  return rope;
}

ops::AttentionShape attention_shape(const ModelSpec& s, const LayerSpec& ls) {
  const float scale = s.attn_scale > 0.0f ? s.attn_scale : 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  return ops::AttentionShape{s.n_head, s.n_head_kv, s.head_dim, scale, s.attn_softcap, ls.sliding_window};
}

}  // namespace

// One layer: x (the residual stream) goes in and comes out; L keeps what backward needs.
void TrainPass::forward_layer(int64_t il, const TrainBatch& batch, Vec& x, Layer& L) {
  const ModelSpec& s = model_.spec();
  const ModelWeights& w = model_.weights();
  const int64_t n = batch.n_seq * batch.seq_len, d = s.n_embd, T = batch.seq_len;
  const int64_t qd = s.n_head * s.head_dim, kd = s.n_head_kv * s.head_dim;
  const LayerWeights& lw = w.layers[static_cast<size_t>(il)];
  const LayerSpec& ls = s.layers[static_cast<size_t>(il)];
  auto proj = [&](LoraTarget t) { return projection(model_, adapter_, il, t, nullptr); };
  auto u = [&](LoraTarget t) -> Vec& { return L.u[static_cast<int>(t)]; };

  L.x_in = x;
  size_to(L.xn1, n * d);
  each_row(pool_, n, d, [&](int64_t t) {
    ops::rms_norm(L.xn1.data() + t * d, x.data() + t * d, lw.attn_norm.data(), d, s.norm_eps);
  });
  size_to(L.q, n * qd), size_to(L.k, n * kd), size_to(L.v, n * kd);
  linear_forward(L.q.data(), u(LoraTarget::q), proj(LoraTarget::q), L.xn1.data(), n, pool_);
  linear_forward(L.k.data(), u(LoraTarget::k), proj(LoraTarget::k), L.xn1.data(), n, pool_);
  linear_forward(L.v.data(), u(LoraTarget::v), proj(LoraTarget::v), L.xn1.data(), n, pool_);
  add_bias(L.q.data(), lw.attn_q_bias, n, pool_);
  add_bias(L.k.data(), lw.attn_k_bias, n, pool_);
  add_bias(L.v.data(), lw.attn_v_bias, n, pool_);
  L.q_raw = L.q, L.k_raw = L.k;
  if (!lw.attn_q_norm.empty()) norm_rows_forward(L.q.data(), lw.attn_q_norm, n * s.n_head, s.head_dim, s.norm_eps, pool_);
  if (!lw.attn_k_norm.empty()) norm_rows_forward(L.k.data(), lw.attn_k_norm, n * s.n_head_kv, s.head_dim, s.norm_eps, pool_);
  const ops::RopeParams rope = rope_params(model_, ls, T);
  each_position(pool_, n, qd, s.n_rot, [&](int64_t t, float* cos_sin) {
    ops::rope_angles(t % T, rope, cos_sin);
    for (int64_t h = 0; h < s.n_head; ++h) ops::rope_rotate(L.q.data() + t * qd + h * s.head_dim, cos_sin, rope);
    for (int64_t h = 0; h < s.n_head_kv; ++h) ops::rope_rotate(L.k.data() + t * kd + h * s.head_dim, cos_sin, rope);
  });
  size_to(L.att, n * qd);
  size_to(L.probs, batch.n_seq * s.n_head * T * T);  // the entries a query does not see are never read
  // The inference kernels (ops::attention, each sequence a cache of T positions), keeping the weights.
  const ops::AttentionShape shape = attention_shape(s, ls);
  Vec& scratch = work_->attention;
  scratch.resize(static_cast<size_t>(pool_.size() * kernels::kMaxQueries * T));
  for (int64_t b = 0; b < batch.n_seq; ++b) {
    const ops::KvRows k{L.k.data() + b * T * kd, DType::f32, sizeof(float) * static_cast<size_t>(kd)};
    const ops::KvRows v{L.v.data() + b * T * kd, DType::f32, sizeof(float) * static_cast<size_t>(kd)};
    ops::attention(L.att.data() + b * T * qd, L.q.data() + b * T * qd, k, v, 0, T, shape, scratch.data(), pool_,
                   L.probs.data() + b * s.n_head * T * T);
  }
  size_to(L.o_out, n * d);
  linear_forward(L.o_out.data(), u(LoraTarget::o), proj(LoraTarget::o), L.att.data(), n, pool_);
  Vec& branch = work_->branch;
  branch = L.o_out;
  if (!lw.post_attn_norm.empty()) norm_rows_forward(branch.data(), lw.post_attn_norm, n, d, s.norm_eps, pool_);
  add_rows(x, branch, n, d, pool_);

  L.x_mid = x;
  size_to(L.xn2, n * d);
  each_row(pool_, n, d, [&](int64_t t) {
    ops::rms_norm(L.xn2.data() + t * d, x.data() + t * d, lw.ffn_norm.data(), d, s.norm_eps);
  });
  size_to(L.gate, n * s.n_ff), size_to(L.up, n * s.n_ff);
  linear_forward(L.gate.data(), u(LoraTarget::gate), proj(LoraTarget::gate), L.xn2.data(), n, pool_);
  linear_forward(L.up.data(), u(LoraTarget::up), proj(LoraTarget::up), L.xn2.data(), n, pool_);
  L.h = L.gate;
  if (s.activation == Activation::gelu_tanh) {
    ops::geglu(L.h.data(), L.up.data(), n * s.n_ff, pool_);
  } else {
    ops::swiglu(L.h.data(), L.up.data(), n * s.n_ff, pool_);
  }
  size_to(L.f_out, n * d);
  linear_forward(L.f_out.data(), u(LoraTarget::down), proj(LoraTarget::down), L.h.data(), n, pool_);
  branch = L.f_out;
  if (!lw.post_ffn_norm.empty()) norm_rows_forward(branch.data(), lw.post_ffn_norm, n, d, s.norm_eps, pool_);
  add_rows(x, branch, n, d, pool_);
}

void TrainPass::forward(const TrainBatch& batch, Forward& f, Keep keep) {
  const ModelSpec& s = model_.spec();
  const ModelWeights& w = model_.weights();
  const int64_t n = batch.n_seq * batch.seq_len, d = s.n_embd;
  if (n <= 0 || static_cast<int64_t>(batch.ids.size()) != n || static_cast<int64_t>(batch.targets.size()) != n) {
    fail("training batch: {} ids and {} target flags for {} x {} positions", batch.ids.size(), batch.targets.size(),
         batch.n_seq, batch.seq_len);
  }
  for (int32_t id : batch.ids) {
    if (id < 0 || id >= s.n_vocab) fail("training batch: token id {} is out of range (vocabulary size {})", id, s.n_vocab);
  }
  f.n = n;
  Vec& x = work_->x;
  size_to(x, n * d);
  for (int64_t t = 0; t < n; ++t) {
    ops::weight_row(x.data() + t * d, w.token_embd, batch.ids[static_cast<size_t>(t)]);
    if (s.embd_scale != 1.0f) {
      for (int64_t i = 0; i < d; ++i) x[static_cast<size_t>(t * d + i)] *= s.embd_scale;
    }
  }
  // Never shrunk: a validation pass (Keep::none, which uses none of them) leaves the step's buffers.
  if (keep != Keep::none) f.layers.resize(static_cast<size_t>(s.n_layer));
  Layer& scratch = work_->scratch;
  for (int64_t il = 0; il < s.n_layer; ++il) {
    if (keep == Keep::all) {
      forward_layer(il, batch, x, f.layers[static_cast<size_t>(il)]);
    } else {
      forward_layer(il, batch, x, scratch);
      if (keep == Keep::inputs) f.layers[static_cast<size_t>(il)].x_in = scratch.x_in;
    }
  }
  f.x_final = x;
  size_to(f.out_norm, n * d);
  each_row(pool_, n, d, [&](int64_t t) {
    ops::rms_norm(f.out_norm.data() + t * d, x.data() + t * d, w.output_norm.data(), d, s.norm_eps);
  });
  size_to(f.logits, n * s.n_vocab);
  ops::matmul(f.logits.data(), w.output, f.out_norm.data(), n, pool_);
  if (s.final_softcap > 0.0f) {
    each_row(pool_, n, s.n_vocab,
             [&](int64_t t) { ops::softcap(f.logits.data() + t * s.n_vocab, s.n_vocab, s.final_softcap); });
  }
}

namespace {

// The loss over the batch's targets and, when dlogits is given, its gradient with respect to the logits.
// The rows' losses are computed by the threads and summed in order.
double batch_loss(const TrainBatch& batch, const std::vector<float>& logits, int64_t n_vocab, float* dlogits,
                  ThreadPool& pool) {
  const int64_t count = batch.n_targets();
  if (count == 0) fail("training batch: no target tokens");
  const float weight = 1.0f / static_cast<float>(count);
  const int64_t n = batch.n_seq * batch.seq_len;
  std::vector<float> losses(static_cast<size_t>(n), 0.0f);  // by the target's position
  auto is_target = [&](int64_t at) { return at % batch.seq_len != 0 && batch.targets[static_cast<size_t>(at)] != 0; };
  each_row(pool, n, n_vocab, [&](int64_t at) {
    if (!is_target(at)) return;
    const int64_t row = at - 1;
    losses[static_cast<size_t>(at)] = cross_entropy_forward_backward<float>(
        dlogits != nullptr ? dlogits + row * n_vocab : nullptr, logits.data() + row * n_vocab, n_vocab,
        batch.ids[static_cast<size_t>(at)], weight);
  });
  double total = 0.0;
  for (int64_t at = 0; at < n; ++at) {
    if (is_target(at)) total += losses[static_cast<size_t>(at)];
  }
  return total / static_cast<double>(count);
}

}  // namespace

double TrainPass::backward(const TrainBatch& batch, Forward& f, const Sink& sink) {
  const ModelSpec& s = model_.spec();
  const ModelWeights& w = model_.weights();
  const int64_t n = f.n, d = s.n_embd, T = batch.seq_len;
  const int64_t qd = s.n_head * s.head_dim, kd = s.n_head_kv * s.head_dim;
  ModelGrads* full = sink.full;
  Work& wk = *work_;
  Vec& dlogits = wk.dlogits;
  zero(dlogits, n * s.n_vocab, pool_);
  const double loss = batch_loss(batch, f.logits, s.n_vocab, dlogits.data(), pool_);
  if (s.final_softcap > 0.0f) {
    each_row(pool_, n, s.n_vocab, [&](int64_t t) {
      softcap_backward<float>(dlogits.data() + t * s.n_vocab, f.logits.data() + t * s.n_vocab, s.n_vocab, s.final_softcap);
    });
  }
  Vec& d_norm = wk.d_norm;
  zero(d_norm, n * d, pool_);
  ops::matmul_backward_input(d_norm.data(), w.output, dlogits.data(), n, pool_);
  if (full != nullptr) {
    Vec& d_output = s.tied_output ? full->token_embd : full->output;
    ops::matmul_backward_weight(d_output.data(), dlogits.data(), f.out_norm.data(), n, s.n_vocab, d, pool_);
  }
  Vec& dx = wk.dx;
  zero(dx, n * d, pool_);
  norm_rows_backward(dx.data(), d_norm.data(), f.x_final.data(), w.output_norm, n, d, s.norm_eps, pool_,
                     full != nullptr ? &full->output_norm : nullptr);

  for (int64_t il = s.n_layer - 1; il >= 0; --il) {
    if (f.checkpointed) {  // --grad-checkpoint: the layer's activations again, from its input
      wk.x = f.layers[static_cast<size_t>(il)].x_in;
      forward_layer(il, batch, wk.x, wk.scratch);
    }
    const Layer& L = f.checkpointed ? wk.scratch : f.layers[static_cast<size_t>(il)];
    const LayerWeights& lw = w.layers[static_cast<size_t>(il)];
    const LayerSpec& ls = s.layers[static_cast<size_t>(il)];
    LayerGrads* lg = full != nullptr ? &full->layers[static_cast<size_t>(il)] : nullptr;
    auto proj = [&](LoraTarget t) { return projection(model_, adapter_, il, t, full); };
    auto u = [&](LoraTarget t) -> const Vec& { return L.u[static_cast<int>(t)]; };

    // Feed-forward branch: x += post_norm(down(act(gate) * up)).
    Vec& d_branch = wk.d_branch;
    d_branch = dx;
    if (!lw.post_ffn_norm.empty()) {
      zero(d_branch, n * d, pool_);
      norm_rows_backward(d_branch.data(), dx.data(), L.f_out.data(), lw.post_ffn_norm, n, d, s.norm_eps, pool_);
    }
    Vec& dh = wk.dh;
    zero(dh, n * s.n_ff, pool_);
    linear_backward(dh.data(), proj(LoraTarget::down), d_branch.data(), L.h.data(), u(LoraTarget::down), n, sink.lora, pool_);
    Vec &dgate = wk.dgate, &dup = wk.dup;
    zero(dgate, n * s.n_ff, pool_), zero(dup, n * s.n_ff, pool_);
    const bool gelu = s.activation == Activation::gelu_tanh;
    each_row(pool_, n, s.n_ff, [&](int64_t t) {
      const int64_t at = t * s.n_ff;
      (gelu ? geglu_backward<float> : swiglu_backward<float>)(dgate.data() + at, dup.data() + at, dh.data() + at,
                                                              L.gate.data() + at, L.up.data() + at, s.n_ff);
    });
    Vec& dxn = wk.dxn;
    zero(dxn, n * d, pool_);
    linear_backward(dxn.data(), proj(LoraTarget::gate), dgate.data(), L.xn2.data(), u(LoraTarget::gate), n, sink.lora, pool_);
    linear_backward(dxn.data(), proj(LoraTarget::up), dup.data(), L.xn2.data(), u(LoraTarget::up), n, sink.lora, pool_);
    norm_rows_backward(dx.data(), dxn.data(), L.x_mid.data(), lw.ffn_norm, n, d, s.norm_eps, pool_,
                       lg != nullptr ? &lg->ffn_norm : nullptr);

    // Attention branch: x += post_norm(o(attention(rope(q), rope(k), v))).
    d_branch = dx;
    if (!lw.post_attn_norm.empty()) {
      zero(d_branch, n * d, pool_);
      norm_rows_backward(d_branch.data(), dx.data(), L.o_out.data(), lw.post_attn_norm, n, d, s.norm_eps, pool_);
    }
    Vec& datt = wk.datt;
    zero(datt, n * qd, pool_);
    linear_backward(datt.data(), proj(LoraTarget::o), d_branch.data(), L.att.data(), u(LoraTarget::o), n, sink.lora, pool_);
    Vec &dq = wk.dq, &dk = wk.dk, &dv = wk.dv;
    zero(dq, n * qd, pool_), zero(dk, n * kd, pool_), zero(dv, n * kd, pool_);
    const ops::AttentionShape shape = attention_shape(s, ls);
    ops::attention_backward(dq.data(), dk.data(), dv.data(), datt.data(), L.probs.data(), L.q.data(), L.k.data(),
                            L.v.data(), batch.n_seq, T, shape, pool_);
    const ops::RopeParams rope = rope_params(model_, ls, T);
    each_position(pool_, n, qd, s.n_rot, [&](int64_t t, float* cos_sin) {
      ops::rope_angles(t % T, rope, cos_sin);
      for (int64_t h = 0; h < s.n_head; ++h) rope_backward<float>(dq.data() + t * qd + h * s.head_dim, cos_sin, s.n_rot, rope.interleaved);
      for (int64_t h = 0; h < s.n_head_kv; ++h) rope_backward<float>(dk.data() + t * kd + h * s.head_dim, cos_sin, s.n_rot, rope.interleaved);
    });
    if (!lw.attn_q_norm.empty()) {
      zero(wk.raw, n * qd, pool_);
      norm_rows_backward(wk.raw.data(), dq.data(), L.q_raw.data(), lw.attn_q_norm, n * s.n_head, s.head_dim, s.norm_eps, pool_);
      dq.swap(wk.raw);
    }
    if (!lw.attn_k_norm.empty()) {
      zero(wk.raw, n * kd, pool_);
      norm_rows_backward(wk.raw.data(), dk.data(), L.k_raw.data(), lw.attn_k_norm, n * s.n_head_kv, s.head_dim, s.norm_eps, pool_);
      dk.swap(wk.raw);
    }
    zero(dxn, n * d, pool_);
    linear_backward(dxn.data(), proj(LoraTarget::q), dq.data(), L.xn1.data(), u(LoraTarget::q), n, sink.lora, pool_);
    linear_backward(dxn.data(), proj(LoraTarget::k), dk.data(), L.xn1.data(), u(LoraTarget::k), n, sink.lora, pool_);
    linear_backward(dxn.data(), proj(LoraTarget::v), dv.data(), L.xn1.data(), u(LoraTarget::v), n, sink.lora, pool_);
    norm_rows_backward(dx.data(), dxn.data(), L.x_in.data(), lw.attn_norm, n, d, s.norm_eps, pool_,
                       lg != nullptr ? &lg->attn_norm : nullptr);
  }
  if (full != nullptr) {  // the embedding rows the batch looked up (times the embedding scale)
    for (int64_t t = 0; t < n; ++t) {
      float* row = full->token_embd.data() + static_cast<int64_t>(batch.ids[static_cast<size_t>(t)]) * d;
      for (int64_t i = 0; i < d; ++i) row[i] += dx[static_cast<size_t>(t * d + i)] * s.embd_scale;
    }
  }
  return loss;
}

double TrainPass::loss_and_grads(const TrainBatch& batch, LoraGrads& grads) {
  if (adapter_ == nullptr) fail("training: a full run has no adapter gradients");
  grads.a.resize(adapter_->modules.size());
  grads.b.resize(adapter_->modules.size());
  for (size_t i = 0; i < adapter_->modules.size(); ++i) {
    grads.a[i].assign(adapter_->modules[i].a.size(), 0.0f);
    grads.b[i].assign(adapter_->modules[i].b.size(), 0.0f);
  }
  Forward& f = work_->f;
  f.checkpointed = grad_checkpoint_;
  forward(batch, f, grad_checkpoint_ ? Keep::inputs : Keep::all);
  return backward(batch, f, Sink{&grads, nullptr});
}

double TrainPass::loss_and_grads(const TrainBatch& batch, ModelGrads& grads) {
  if (adapter_ != nullptr) fail("training: a LoRA run has no weight gradients");
  const ModelSpec& s = model_.spec();
  const ModelWeights& w = model_.weights();
  auto zero = [](std::vector<float>& g, const Weight& m) { g.assign(static_cast<size_t>(m.rows * m.cols), 0.0f); };
  auto zero_vec = [](std::vector<float>& g, const std::vector<float>& v) { g.assign(v.size(), 0.0f); };
  zero(grads.token_embd, w.token_embd);
  zero_vec(grads.output_norm, w.output_norm);
  if (s.tied_output) {
    grads.output.clear();
  } else {
    zero(grads.output, w.output);
  }
  grads.layers.resize(w.layers.size());
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    LayerGrads& g = grads.layers[i];
    zero_vec(g.attn_norm, l.attn_norm);
    zero_vec(g.ffn_norm, l.ffn_norm);
    zero(g.attn_q, l.attn_q), zero(g.attn_k, l.attn_k), zero(g.attn_v, l.attn_v), zero(g.attn_output, l.attn_output);
    zero(g.ffn_gate, l.ffn_gate), zero(g.ffn_up, l.ffn_up), zero(g.ffn_down, l.ffn_down);
  }
  Forward& f = work_->f;
  f.checkpointed = grad_checkpoint_;
  forward(batch, f, grad_checkpoint_ ? Keep::inputs : Keep::all);
  return backward(batch, f, Sink{nullptr, &grads});
}

double TrainPass::loss(const TrainBatch& batch) {
  Forward& f = work_->f;
  f.checkpointed = false;
  forward(batch, f, Keep::none);
  return batch_loss(batch, f.logits, model_.spec().n_vocab, nullptr, pool_);
}

std::vector<float> TrainPass::logits(std::span<const int32_t> ids) {
  TrainBatch batch;
  batch.n_seq = 1;
  batch.seq_len = static_cast<int64_t>(ids.size());
  batch.ids.assign(ids.begin(), ids.end());
  batch.targets.assign(ids.size(), 0);
  Forward& f = work_->f;
  f.checkpointed = false;
  forward(batch, f, Keep::none);
  return std::move(f.logits);
}

}  // namespace owl::train
